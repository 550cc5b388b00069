package dev.optls.core.postgres;

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
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a peer sends, in whatever chunks, a negotiation neither throws nor produces undefined steps. */
class PostgresPropertiesTest {
    private static final Limits SMALL = new Limits(64, 8, 512, 0, 5);

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

    /** PostgreSQL-shaped pieces, so that the negotiations get past the first byte often. */
    @Provide
    Arbitrary<Input> postgresPieces() {
        Arbitrary<byte[]> piece = Arbitraries.of(
                PostgresMessages.sslRequest(),
                PostgresMessages.gssEncRequest(),
                PostgresMessages.cancelRequest(7, 9),
                Pg.startup("user", "u", "database", "d"),
                Pg.startup(),
                Pg.concat(Pg.int32(12), Pg.int32(PostgresMessages.SSL_REQUEST_CODE)),
                Pg.concat(Pg.int32(8), Pg.int32(2 << 16)),
                Pg.concat(Pg.int32(10001), Pg.int32(196608)),
                Pg.concat(Pg.int32(3)),
                Pg.ascii("S"),
                Pg.ascii("N"),
                Pg.ascii("E"),
                PostgresMessages.errorResponse("FATAL", "53300", "too many"),
                PostgresMessages.errorResponse("FATAL", "0A000", "unsupported"),
                Pg.ascii("EFATAL: old\0"),
                Pg.concat(Pg.ascii("E"), Pg.int32(100000)),
                new byte[] {0x16, 0x03, 0x01, 0x00, 0x05},
                new byte[] {0},
                new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        Arbitrary<byte[]> stream = piece.list().ofMaxSize(12).map(list -> Pg.concat(list.toArray(new byte[0][])));
        return Chunks.split(stream, 400).map(Input::new);
    }

    @Property(tries = 300)
    void clientSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll SecurityLevel level) {
        drive(new PostgresClient(new ClientOptions(level, "localhost", false, SMALL)), input);
    }

    @Property(tries = 500)
    void clientSurvivesPostgresShapedInput(@ForAll("postgresPieces") Input input, @ForAll SecurityLevel level) {
        drive(new PostgresClient(new ClientOptions(level, "localhost", false, Limits.DEFAULT)), input);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(
            @ForAll("randomBytes") Input input, @ForAll boolean available, @ForAll boolean required) {
        drive(new PostgresServer(options(available, required, false)), input);
    }

    @Property(tries = 500)
    void serverSurvivesPostgresShapedInput(
            @ForAll("postgresPieces") Input input,
            @ForAll boolean available,
            @ForAll boolean required,
            @ForAll boolean active) {
        drive(new PostgresServer(options(available, required, active)), input);
    }

    private static ServerOptions options(boolean available, boolean required, boolean active) {
        ServerOptions o = available
                ? ServerOptions.offering("db", Capabilities.NONE).withTlsRequired(required)
                : ServerOptions.withoutTls("db", Capabilities.NONE);
        return (active ? o.afterUpgrade() : o).withLimits(SMALL);
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
                if (n instanceof PostgresClient) {
                    assertThat(b.tlsInput().remaining()).isZero();
                }
                next = input.chunks().size();
                n.handshakeCompleted(Replay.FAKE_TLS);
            } else if (step instanceof Step.Deliver d) {
                assertThat(d.command().verb()).isIn("STARTUP", "CANCEL");
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
