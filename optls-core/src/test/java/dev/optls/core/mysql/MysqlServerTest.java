package dev.optls.core.mysql;

import static dev.optls.core.mysql.Wire.NOTHING;
import static dev.optls.core.mysql.Wire.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Replay;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** MysqlServer against built client bytes, replayed whole and split at every byte. */
class MysqlServerTest {
    private static final String SCRAMBLE_HEX = "3132333435363738393a3b3c3d3e3f4041424344";

    private static final ServerOptions OFFERING = ServerOptions.offering(
                    "db.test", Capabilities.of("CLIENT_MULTI_STATEMENTS", "auth-plugin-data " + SCRAMBLE_HEX))
            .withGreeting("8.0.36-optls");

    private static final ServerOptions WITHOUT_TLS =
            ServerOptions.withoutTls("db.test", Capabilities.NONE).withGreeting("8.0.36-optls");

    private static Supplier<Negotiation> server(ServerOptions options) {
        return () -> new MysqlServer(options, new Random(7));
    }

    private static Replay.Run replay(ServerOptions options, byte[][]... segments) {
        return Replay.everySplit(server(options), Wire.transcript("server", List.of("HANDOVER"), segments), false);
    }

    private static MysqlGreeting greetingIn(byte[] written) {
        int length = (written[0] & 0xff) | (written[1] & 0xff) << 8;
        assertThat(written[3]).as("greeting sequence id").isZero();
        return MysqlGreeting.parse(Arrays.copyOfRange(written, 4, 4 + length));
    }

    @Test
    void greetingOffersTlsWithTheConfiguredScramble() {
        Replay.Run run = replay(OFFERING, segment(NOTHING, NOTHING));
        // The replay ends with EOF: the client left without a word.
        assertThat(run.outcome()).isEqualTo("failed UNEXPECTED_EOF");
        MysqlGreeting g = greetingIn(run.written().get(0));
        assertThat(run.written().get(0)).hasSize(4 + g.encode().length);
        assertThat(g.serverVersion()).isEqualTo("8.0.36-optls");
        assertThat(g.offersTls()).isTrue();
        assertThat(MysqlFlags.names(g.capabilities()))
                .contains(
                        "CLIENT_SSL",
                        "CLIENT_PROTOCOL_41",
                        "CLIENT_SECURE_CONNECTION",
                        "CLIENT_PLUGIN_AUTH",
                        "CLIENT_MULTI_STATEMENTS");
        assertThat(HexFormat.of().formatHex(g.authPluginData())).isEqualTo(SCRAMBLE_HEX);
        assertThat(g.authPluginName()).isEqualTo("mysql_native_password");
        assertThat(g.connectionId()).isPositive();
    }

    @Test
    void greetingWithoutTlsNeverOffersIt() {
        Replay.Run run =
                replay(WITHOUT_TLS.withTlsCapabilities(Capabilities.of("CLIENT_SSL")), segment(NOTHING, NOTHING));
        MysqlGreeting g = greetingIn(run.written().get(0));
        assertThat(g.offersTls()).isFalse();
        // A random printable 20-byte scramble when the options fix none.
        assertThat(g.authPluginData()).hasSize(20);
        for (byte b : g.authPluginData()) {
            assertThat(b).isBetween((byte) 0x21, (byte) 0x7e);
        }
    }

    @Test
    void freshScramblePerConnection() {
        MysqlServer a = new MysqlServer(WITHOUT_TLS);
        MysqlServer b = new MysqlServer(WITHOUT_TLS);
        assertThat(a.greeting().authPluginData()).isNotEqualTo(b.greeting().authPluginData());
    }

    @Test
    void sslRequestStartsTlsAndAfterwardsNothingIsSaidInPlaintext() {
        Replay.Run run = replay(
                OFFERING, segment(NOTHING, Wire.sslRequestWithFlags(1, Wire.CLIENT_TLS)), segment(NOTHING, NOTHING));
        assertThat(run.outcome()).isEqualTo("completed UPGRADED");
        assertThat(run.tlsInputs()).hasSize(1);
        assertThat(run.tlsInputs().get(0)).isEmpty();
        assertThat(run.written().get(1)).as("no second greeting").isEmpty();
        Result r = ((Step.Completed) run.last()).result();
        assertThat(r.tlsActive()).isTrue();
        assertThat(r.before().has("CLIENT_SSL")).isTrue();
        assertThat(MysqlGreeting.authPluginData(r.before()))
                .hasValueSatisfying(s -> assertThat(HexFormat.of().formatHex(s)).isEqualTo(SCRAMBLE_HEX));
    }

    /** security.md §5 A (command injection): SSLRequest and HandshakeResponse41 in one write. */
    @Test
    void handshakeResponsePipelinedWithTheSslRequestGoesToTlsUnparsed() {
        byte[] response = Wire.handshakeResponse(2, Wire.CLIENT_TLS, "root");
        Replay.Run run = replay(
                OFFERING,
                segment(NOTHING, Wire.concat(Wire.sslRequestWithFlags(1, Wire.CLIENT_TLS), response)),
                segment(NOTHING, NOTHING));
        assertThat(run.outcome()).isEqualTo("completed UPGRADED");
        assertThat(run.tlsInputs().get(0)).isEqualTo(response);
        // Only the greeting was written in plaintext: no OK, no ERR for the injected response.
        assertThat(run.written().get(0))
                .hasSize(greetingIn(run.written().get(0)).encode().length + 4);
    }

    @Test
    void plaintextHandshakeResponseIsDeliveredAsAuth() {
        byte[] response = Wire.handshakeResponse(1, Wire.CLIENT, "alice");
        Replay.Run run = Replay.server(
                server(WITHOUT_TLS), Wire.transcript("auth", List.of(), segment(NOTHING, response)), Integer.MAX_VALUE);
        assertThat(run.outcome()).isEqualTo("deliver AUTH");
        Command c = ((Step.Deliver) run.last()).command();
        assertThat(c.verb()).isEqualTo("AUTH");
        assertThat(c.line()).isEqualTo("alice");
        assertThat(c.arguments()).isEqualTo("alice");
        assertThat(c.tlsActive()).isFalse();
    }

    @Test
    void handOverReturnsTheResponsePacketAsReceived() {
        byte[] response = Wire.handshakeResponse(1, Wire.CLIENT, "alice");
        Replay.Run run = replay(WITHOUT_TLS, segment(NOTHING, response));
        assertThat(run.outcome()).isEqualTo("completed HANDED_OVER");
        Result r = ((Step.Completed) run.last()).result();
        ByteBuffer rest = r.remaining();
        byte[] bytes = new byte[rest.remaining()];
        rest.get(bytes);
        assertThat(bytes).isEqualTo(response);
        assertThat(r.tlsActive()).isFalse();
    }

    @Test
    void respondIsRefusedBecauseRepliesAreBinary() {
        MysqlServer s = new MysqlServer(WITHOUT_TLS, new Random(1));
        drain(s);
        s.receive(ByteBuffer.wrap(Wire.handshakeResponse(1, Wire.CLIENT, "bob")));
        assertThat(s.poll()).isInstanceOf(Step.Deliver.class);
        assertThatThrownBy(() -> s.respond("OK"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("handOver()");
        s.handOver();
        assertThat(s.poll()).isInstanceOf(Step.Completed.class);
    }

    /** security.md §5 B.21: with TLS required, a plaintext login is refused with ERR 3159 and closed. */
    @Test
    void requiredTlsRefusesAPlaintextHandshakeResponse() {
        Replay.Run run = replay(
                OFFERING.withTlsRequired(true), segment(NOTHING, Wire.handshakeResponse(1, Wire.CLIENT, "root")));
        assertThat(run.outcome()).isEqualTo("failed PROTOCOL_VIOLATION");
        Failure f = ((Step.Failed) run.last()).failure();
        assertThat(f.blame()).isEqualTo(Blame.POLICY);
        byte[] written = run.written().get(0);
        byte[] err = Arrays.copyOfRange(written, greetingIn(written).encode().length + 4, written.length);
        assertThat(err[3]).as("ERR sequence id").isEqualTo((byte) 2);
        assertThat(Wire.err(err))
                .isEqualTo(new MysqlPacket.Err(
                        3159,
                        "HY000",
                        "Connections using insecure transport are prohibited while --require_secure_transport=ON."));
    }

    @Test
    void sslRequestToAServerWithoutTlsIsABadHandshake() {
        Replay.Run run = replay(WITHOUT_TLS, segment(NOTHING, Wire.sslRequestWithFlags(1, Wire.CLIENT_TLS)));
        assertThat(run.outcome()).isEqualTo("failed PROTOCOL_VIOLATION");
        assertThat(errAfterGreeting(run.written().get(0)).code()).isEqualTo(1043);
    }

    @Test
    void longPacketClaimingSslInPlaintextIsRefused() {
        Replay.Run run = replay(OFFERING, segment(NOTHING, Wire.handshakeResponse(1, Wire.CLIENT_TLS, "root")));
        assertThat(run.outcome()).isEqualTo("failed PROTOCOL_VIOLATION");
        assertThat(errAfterGreeting(run.written().get(0)).message()).isEqualTo("Bad handshake");
        assertThat(((Step.Failed) run.last()).failure().detail()).contains("instead of the 32-byte SSLRequest");
    }

    @Test
    void afterUpgradeNoGreetingAndTheResponseHasSequence2() {
        ServerOptions after = OFFERING.afterUpgrade();
        byte[] response = Wire.handshakeResponse(2, Wire.CLIENT_TLS, "carol");
        Replay.Run run = Replay.server(
                server(after), Wire.transcript("after", List.of(), segment(NOTHING, response)), Integer.MAX_VALUE);
        assertThat(run.written().get(0)).as("no second greeting").isEmpty();
        assertThat(run.outcome()).isEqualTo("deliver AUTH");
        Command c = ((Step.Deliver) run.last()).command();
        assertThat(c.line()).isEqualTo("carol");
        assertThat(c.tlsActive()).isTrue();
        // The fresh server knows the scramble only because the options fixed it.
        assertThat(new MysqlServer(after).greeting().authPluginData())
                .isEqualTo(HexFormat.of().parseHex(SCRAMBLE_HEX));
    }

    @Test
    void afterUpgradeASecondSslRequestIsRefused() {
        Replay.Run run =
                replay(OFFERING.afterUpgrade(), segment(NOTHING, Wire.sslRequestWithFlags(2, Wire.CLIENT_TLS)));
        assertThat(run.outcome()).isEqualTo("failed PROTOCOL_VIOLATION");
        assertThat(Wire.err(run.written().get(0)).code()).isEqualTo(1043);
    }

    @Test
    void afterUpgradeSequence1IsOutOfOrder() {
        Replay.Run run =
                replay(OFFERING.afterUpgrade(), segment(NOTHING, Wire.handshakeResponse(1, Wire.CLIENT_TLS, "x")));
        assertThat(run.outcome()).isEqualTo("failed PROTOCOL_VIOLATION");
        assertThat(Wire.err(run.written().get(0)))
                .isEqualTo(new MysqlPacket.Err(1156, "08S01", "Got packets out of order"));
    }

    @Test
    void hugePacketIsRefusedFromItsHeader() {
        Replay.Run run = replay(OFFERING, segment(NOTHING, new byte[] {0, 0, 2, 1}));
        assertThat(run.outcome()).isEqualTo("failed LIMIT_EXCEEDED");
        assertThat(errAfterGreeting(run.written().get(0)).code()).isEqualTo(1153);
    }

    @Test
    void smallLimitsBoundThePacket() {
        Limits small = new Limits(64, 8, 68, 0, 5);
        Replay.Run run = Replay.server(
                server(OFFERING.withLimits(small)),
                Wire.transcript(
                        "small", List.of(), segment(NOTHING, Wire.handshakeResponse(1, Wire.CLIENT, "x".repeat(40)))),
                4);
        assertThat(run.outcome()).isEqualTo("failed LIMIT_EXCEEDED");
        assertThat(((Step.Failed) run.last()).failure().detail()).contains("limit 64");
    }

    @Test
    void shortOrUnterminatedPacketsAreMalformed() {
        Replay.Run shortOne = replay(OFFERING, segment(NOTHING, Wire.packet(1, new byte[] {0, 2, 0, 0, 1})));
        assertThat(shortOne.outcome()).isEqualTo("failed MALFORMED");
        byte[] noNul = new byte[40];
        noNul[1] = 0x02; // CLIENT_PROTOCOL_41
        Arrays.fill(noNul, 32, 40, (byte) 'a');
        Replay.Run unterminated = replay(WITHOUT_TLS, segment(NOTHING, Wire.packet(1, noNul)));
        assertThat(unterminated.outcome()).isEqualTo("failed MALFORMED");
        assertThat(errAfterGreeting(unterminated.written().get(0)).code()).isEqualTo(1043);
        byte[] old = Arrays.copyOf(noNul, 40);
        old[1] = 0;
        assertThat(replay(WITHOUT_TLS, segment(NOTHING, Wire.packet(1, old))).outcome())
                .isEqualTo("failed MALFORMED");
    }

    /** A gateway greets with its backend's greeting: the same bytes, CLIENT_SSL added while TLS is offered. */
    @Test
    void handshakeV10EntryGreetsWithAnotherServersGreeting() {
        MysqlGreeting backend =
                MysqlGreeting.decode(Arrays.copyOfRange(Wire.MARIADB_WITHOUT_TLS, 4, Wire.MARIADB_WITHOUT_TLS.length));
        ServerOptions relaying = ServerOptions.offering("db.test", Capabilities.of(MysqlServer.greetingEntry(backend)))
                .withGreeting(backend.serverVersion())
                .withTlsRequired(true);
        Replay.Run run = replay(
                relaying, segment(NOTHING, Wire.sslRequestWithFlags(1, Wire.CLIENT_TLS)), segment(NOTHING, NOTHING));
        assertThat(run.outcome()).isEqualTo("completed UPGRADED");
        // Byte for byte what MariaDB itself sends with a certificate: connection id, scramble, MariaDB's
        // extended capabilities (no CLIENT_MYSQL), character set and status all kept.
        assertThat(run.written().get(0)).isEqualTo(Wire.MARIADB_WITH_TLS);
        // Without TLS to offer, the backend's greeting goes out as it came.
        ServerOptions plain = ServerOptions.withoutTls(
                "db.test",
                Capabilities.of(MysqlServer.greetingEntry(
                        backend.withCapabilities(backend.capabilities() | MysqlFlags.CLIENT_SSL))));
        assertThat(replay(plain, segment(NOTHING, NOTHING)).written().get(0)).isEqualTo(Wire.MARIADB_WITHOUT_TLS);
    }

    @Test
    void handshakeV10EntryThatIsNoGreetingIsACallerBug() {
        assertThatThrownBy(() -> MysqlGreeting.decode(new byte[] {9, 0}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HandshakeV10");
        ServerOptions bad = ServerOptions.offering("db.test", Capabilities.of(MysqlGreeting.HANDSHAKE_V10 + " 0a00"));
        assertThatThrownBy(() -> new MysqlServer(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("handshake-v10 entry is not a HandshakeV10 payload");
    }

    @Test
    void eofInTheMiddleOfAPacket() {
        byte[] half = Arrays.copyOf(Wire.sslRequestWithFlags(1, Wire.CLIENT_TLS), 20);
        Replay.Run run = replay(OFFERING, segment(NOTHING, half));
        assertThat(run.outcome()).isEqualTo("failed UNEXPECTED_EOF");
    }

    private static MysqlPacket.Err errAfterGreeting(byte[] written) {
        int greeting = greetingIn(written).encode().length + 4;
        return Wire.err(Arrays.copyOfRange(written, greeting, written.length));
    }

    private static void drain(Negotiation n) {
        while (n.poll() instanceof Step.WriteOutput) {
            n.drainOutput(ByteBuffer.allocate(4096));
        }
    }
}
