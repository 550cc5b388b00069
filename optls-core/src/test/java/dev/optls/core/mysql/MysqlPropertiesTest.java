package dev.optls.core.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Chunks;
import dev.optls.core.testing.Replay;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a peer sends, in whatever pieces, a MySQL negotiation neither throws nor leaves the defined steps. */
class MysqlPropertiesTest {
    private static final Limits SMALL = new Limits(64, 8, 256, 0, 5);

    /** Bytes cut into pieces. */
    record Input(List<byte[]> chunks) {}

    @Provide
    Arbitrary<Input> randomBytes() {
        return Arbitraries.bytes()
                .array(byte[].class)
                .ofMaxSize(64)
                .list()
                .ofMaxSize(12)
                .map(Input::new);
    }

    /** MySQL-shaped packets, so that the negotiations get past the framing often. */
    @Provide
    Arbitrary<Input> mysqlPieces() {
        Arbitrary<byte[]> piece = Arbitraries.of(
                Wire.MARIADB_WITH_TLS,
                Wire.MARIADB_WITHOUT_TLS,
                Wire.greeting(Wire.CLIENT_TLS, "8.0.36"),
                Wire.sslRequestWithFlags(1, Wire.CLIENT_TLS),
                Wire.sslRequestWithFlags(2, Wire.CLIENT_TLS),
                Wire.handshakeResponse(1, Wire.CLIENT, "u"),
                Wire.handshakeResponse(2, Wire.CLIENT_TLS, "u"),
                MysqlPacket.err(0, 1130, "HY000", "Host not allowed"),
                new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0},
                new byte[] {1, 0, 0, 0, (byte) 0xff},
                new byte[] {0, 0, 0, 1},
                new byte[] {5, 0, 0});
        Arbitrary<byte[]> stream = piece.list().ofMaxSize(6).map(list -> Wire.concat(list.toArray(byte[][]::new)));
        return Chunks.split(stream, 600).map(Input::new);
    }

    @Property(tries = 300)
    void clientSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll SecurityLevel level) {
        drive(new MysqlClient(new ClientOptions(level, "localhost", false, SMALL)), input);
    }

    @Property(tries = 500)
    void clientSurvivesMysqlShapedInput(@ForAll("mysqlPieces") Input input, @ForAll SecurityLevel level) {
        drive(new MysqlClient(ClientOptions.of(level)), input);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll boolean required) {
        drive(new MysqlServer(serverOptions(required).withLimits(SMALL), new Random(1)), input);
    }

    @Property(tries = 500)
    void serverSurvivesMysqlShapedInput(
            @ForAll("mysqlPieces") Input input, @ForAll boolean required, @ForAll boolean active) {
        ServerOptions options = serverOptions(required);
        drive(new MysqlServer(active ? options.afterUpgrade() : options, new Random(2)), input);
    }

    @Property(tries = 200)
    void greetingsRoundTrip(
            @ForAll long capabilities, @ForAll("versions") String version, @ForAll("scrambles") byte[] scramble) {
        // With CLIENT_MYSQL (bit 0) set, only the low 32 bits travel; without it, MariaDB's 32 more.
        long caps = (capabilities & 1) != 0 ? capabilities & 0xffffffffL : capabilities;
        caps |= MysqlFlags.CLIENT_SECURE_CONNECTION | MysqlFlags.CLIENT_PLUGIN_AUTH;
        MysqlGreeting g = new MysqlGreeting(version, 42, caps, 45, 2, scramble, "caching_sha2_password");
        assertThat(MysqlGreeting.parse(g.encode())).isEqualTo(g);
    }

    @Provide
    Arbitrary<String> versions() {
        return Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(40);
    }

    @Provide
    Arbitrary<byte[]> scrambles() {
        return Arbitraries.bytes()
                .between((byte) 1, (byte) 127)
                .array(byte[].class)
                .ofMinSize(8)
                .ofMaxSize(60);
    }

    private static ServerOptions serverOptions(boolean required) {
        return ServerOptions.offering("db", Capabilities.of("CLIENT_MULTI_STATEMENTS"))
                .withGreeting("8.0.36-optls")
                .withTlsRequired(required);
    }

    /** Feeds the chunks and acts on every step as an adapter would; fails on anything unexpected. */
    private static void drive(Negotiation n, Input input) {
        ByteBuffer out = ByteBuffer.allocate(16);
        int next = 0;
        for (int guard = 0; guard < 100_000; guard++) {
            Step step = n.poll();
            if (step instanceof Step.WriteOutput w) {
                assertThat(w.pending()).isPositive();
                out.clear();
                assertThat(n.drainOutput(out)).isPositive();
            } else if (step instanceof Step.NeedInput) {
                if (next < input.chunks().size()) {
                    n.receive(ByteBuffer.wrap(input.chunks().get(next++)));
                } else if (next == input.chunks().size()) {
                    next++;
                    n.receiveEof();
                } else {
                    throw new AssertionError("NeedInput after EOF");
                }
            } else if (step instanceof Step.BeginHandshake b) {
                if (n instanceof MysqlClient) {
                    assertThat(b.tlsInput().remaining()).isZero();
                }
                next = input.chunks().size();
                n.handshakeCompleted(Replay.FAKE_TLS);
            } else if (step instanceof Step.Deliver d) {
                assertThat(d.command().verb()).isEqualTo("AUTH");
                n.handOver();
                assertThat(n.poll()).isInstanceOf(Step.Completed.class);
                return;
            } else if (step instanceof Step.Completed
                    || step instanceof Step.Failed
                    || step instanceof Step.UpgradeUnavailable) {
                assertThat(n.poll()).isEqualTo(step);
                return;
            } else {
                throw new AssertionError("undefined step " + step);
            }
        }
        throw new AssertionError("no progress");
    }
}
