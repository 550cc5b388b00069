package dev.optls.core.postgres;

import static dev.optls.core.postgres.Pg.GSSENC_REQUEST;
import static dev.optls.core.postgres.Pg.SSL_REQUEST;
import static dev.optls.core.postgres.Pg.ascii;
import static dev.optls.core.postgres.Pg.concat;
import static dev.optls.core.postgres.Pg.int32;
import static dev.optls.core.postgres.Pg.startup;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** PostgresServer replayed against scripted clients, whole and split at every byte. */
class PostgresServerTest {
    private static final ServerOptions OFFERING = ServerOptions.offering("db.test", Capabilities.NONE);
    private static final ServerOptions WITHOUT_TLS = ServerOptions.withoutTls("db.test", Capabilities.NONE);
    private static final byte[] STARTUP = startup("user", "alice", "database", "shop", "application_name", "psql");

    private static Replay.Run replay(ServerOptions options, Transcript t) {
        Supplier<dev.optls.core.Negotiation> factory = () -> new PostgresServer(options);
        return Replay.everySplit(factory, t, false);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void sslRequestIsAnsweredWithSAndTheHandshake() {
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(ascii("S")).tls().expect("ok", "completed UPGRADED");

        Replay.Run run = replay(OFFERING, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).containsExactly('S');
        assertThat(run.tlsInputs()).hasSize(1);
        assertThat(run.tlsInputs().get(0)).isEmpty();
        Result r = ((Step.Completed) run.last()).result();
        assertThat(r.tlsActive()).isTrue();
        assertThat(r.greeting()).isEmpty();
    }

    /**
     * security.md §5 A (command injection; CVE-2021-23214 for PostgreSQL): a StartupMessage in the same
     * buffer as the SSLRequest goes to TLS unparsed; nothing is delivered, nothing but 'S' is written.
     */
    @Test
    void startupInjectedWithTheSslRequestGoesToTls() {
        Transcript t = Pg.transcript().c(SSL_REQUEST, STARTUP).expect("injection", "begin-handshake");

        Replay.Run run = Replay.server(() -> new PostgresServer(OFFERING), t, Integer.MAX_VALUE);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).containsExactly('S');
        assertThat(run.tlsInputs().get(0)).containsExactly(STARTUP);
    }

    @Test
    void partialPacketAfterTheSslRequestGoesToTlsToo() {
        byte[] partial = java.util.Arrays.copyOf(STARTUP, 5);
        Transcript t = Pg.transcript().c(SSL_REQUEST, partial).expect("partial", "begin-handshake");

        Replay.Run run = Replay.server(() -> new PostgresServer(OFFERING), t, Integer.MAX_VALUE);

        assertThat(run.tlsInputs().get(0)).containsExactly(partial);
    }

    @Test
    void withoutTlsTheAnswerIsNAndThePlaintextStartupIsDelivered() {
        Transcript t = Pg.transcript()
                .c(SSL_REQUEST, STARTUP)
                .s(ascii("N"))
                .a("HANDOVER")
                .expect("n", "completed HANDED_OVER");

        Replay.Run run = replay(WITHOUT_TLS, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).containsExactly('N');
        Result r = ((Step.Completed) run.last()).result();
        assertThat(r.tlsActive()).isFalse();
        ByteBuffer remaining = r.remaining();
        byte[] rest = new byte[remaining.remaining()];
        remaining.get(rest);
        assertThat(rest).containsExactly(STARTUP);
    }

    @Test
    void theStartupCommandSummarisesTheParameters() {
        PostgresServer server = new PostgresServer(OFFERING.afterUpgrade());
        server.receive(ByteBuffer.wrap(startup("user", "alice", "database", "shop\u0007", "options", "-c x=1")));

        Command c = ((Step.Deliver) server.poll()).command();

        assertThat(c.verb()).isEqualTo("STARTUP");
        assertThat(c.line()).isEqualTo("user=alice database=shop? options=-c x=1");
        assertThat(c.arguments()).isEqualTo(c.line());
        assertThat(c.tlsActive()).isTrue();
        assertThat(c.tag()).isEmpty();
    }

    @Test
    void gssEncRequestIsRefusedAndSslRequestMayFollow() {
        Transcript t = Pg.transcript()
                .c(GSSENC_REQUEST, SSL_REQUEST)
                .s(ascii("NS"))
                .tls()
                .expect("gss", "completed UPGRADED");

        Replay.Run run = replay(OFFERING, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).containsExactly('N', 'S');
    }

    @Test
    void secondGssEncRequestIsFatal() {
        Transcript t = Pg.transcript()
                .c(GSSENC_REQUEST, SSL_REQUEST, GSSENC_REQUEST)
                .expect("gss-twice", "failed PROTOCOL_VIOLATION");

        Replay.Run run = replay(WITHOUT_TLS, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(text(run.written().get(0)))
                .startsWith("NNE")
                .contains("C0A000\0")
                .contains("unsupported frontend protocol 1234.5680");
    }

    @Test
    void secondSslRequestAfterNIsFatal() {
        Transcript t = Pg.transcript().c(SSL_REQUEST, SSL_REQUEST).expect("ssl-twice", "failed PROTOCOL_VIOLATION");

        Replay.Run run = replay(WITHOUT_TLS, t);

        assertThat(text(run.written().get(0))).startsWith("NE").contains("unsupported frontend protocol 1234.5679");
    }

    /** security.md §5 B.18: no second handshake over TLS. */
    @Test
    void sslRequestOverTlsIsFatal() {
        Transcript t = Pg.transcript().c(SSL_REQUEST).expect("over-tls", "failed PROTOCOL_VIOLATION");

        Replay.Run run = replay(OFFERING.afterUpgrade(), t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(text(run.written().get(0))).startsWith("E").contains("SFATAL\0");
        assertThat(run.tlsInputs()).isEmpty();
    }

    /** security.md §5 B.21: under required TLS a plaintext StartupMessage never reaches the application. */
    @Test
    void requiredTlsRefusesAPlaintextStartup() {
        Transcript t = Pg.transcript().c(STARTUP).expect("required", "failed PROTOCOL_VIOLATION");

        Replay.Run run = replay(OFFERING.withTlsRequired(true), t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        String written = text(run.written().get(0));
        assertThat(written)
                .startsWith("E")
                .contains("SFATAL\0", "VFATAL\0", "C28000\0")
                .contains("no pg_hba.conf entry for user \"alice\", database \"shop\", no encryption");
        byte[] w = run.written().get(0);
        assertThat(PostgresMessages.getInt(w, 1)).isEqualTo(w.length - 1);
        var f = ((Step.Failed) run.last()).failure();
        assertThat(f.blame()).isEqualTo(Blame.POLICY);
        assertThat(f.detail()).contains("user=alice");
    }

    @Test
    void requiredTlsDeliversTheStartupOverTls() {
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(ascii("S")).tls().expect("required-ok", "completed UPGRADED");

        assertThat(replay(OFFERING.withTlsRequired(true), t).outcome()).isEqualTo(t.expected());
        PostgresServer after = new PostgresServer(OFFERING.withTlsRequired(true).afterUpgrade());
        after.receive(ByteBuffer.wrap(STARTUP));
        assertThat(after.poll()).isInstanceOf(Step.Deliver.class);
    }

    @Test
    void cancelRequestIsDeliveredWithoutItsSecret() {
        byte[] cancel = PostgresMessages.cancelRequest(4242, 0x5ec3e7);
        Transcript t = Pg.transcript().c(cancel).a("HANDOVER").expect("cancel", "completed HANDED_OVER");

        Replay.Run run = replay(OFFERING.withTlsRequired(true), t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        PostgresServer server = new PostgresServer(OFFERING);
        server.receive(ByteBuffer.wrap(cancel));
        Command c = ((Step.Deliver) server.poll()).command();
        assertThat(c.verb()).isEqualTo("CANCEL");
        assertThat(c.line()).isEqualTo("pid=4242");
    }

    @Test
    void cancelRequestOfTheWrongLengthIsMalformed() {
        byte[] bad = concat(int32(12), int32(PostgresMessages.CANCEL_REQUEST_CODE), int32(1));
        Transcript t = Pg.transcript().c(bad).expect("cancel-bad", "failed MALFORMED");

        assertThat(replay(OFFERING, t).outcome()).isEqualTo(t.expected());
    }

    @Test
    void sslRequestOfTheWrongLengthIsMalformed() {
        byte[] bad = concat(int32(12), int32(PostgresMessages.SSL_REQUEST_CODE), int32(0));
        Transcript t = Pg.transcript().c(bad).expect("ssl-bad", "failed MALFORMED");

        Replay.Run run = replay(OFFERING, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).isEmpty();
    }

    @Test
    void startupPacketsShorterThanEightBytesAreMalformed() {
        Transcript t = Pg.transcript().c(int32(7), ascii("abc")).expect("short", "failed MALFORMED");

        assertThat(replay(OFFERING, t).outcome()).isEqualTo(t.expected());
    }

    /** security.md §5 B.26: bounded input; PostgreSQL's own limit is 10000 bytes. */
    @Test
    void startupPacketsLongerThanTenThousandBytesAreOverTheLimit() {
        Transcript t = Pg.transcript().c(int32(10001), int32(196608)).expect("long", "failed LIMIT_EXCEEDED");

        Replay.Run run = replay(OFFERING, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).isEmpty();
    }

    @Test
    void aStartupOfExactlyTenThousandBytesIsAccepted() {
        byte[] big = startup("user", "alice", "options", "x".repeat(10000 - 8 - 5 - 6 - 8 - 1 - 1));
        assertThat(big).hasSize(10000);
        PostgresServer server = new PostgresServer(OFFERING.afterUpgrade());

        server.receive(ByteBuffer.wrap(big));

        assertThat(server.poll()).isInstanceOf(Step.Deliver.class);
    }

    @Test
    void smallerBufferLimitsApplyToStartupPackets() {
        Limits small = new Limits(64, 8, 512, 0, 5);
        PostgresServer server = new PostgresServer(OFFERING.withLimits(small));

        server.receive(ByteBuffer.wrap(concat(int32(600), int32(196608))));

        assertThat(((Step.Failed) server.poll()).failure().kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
    }

    @Test
    void startupWithoutTerminatorIsMalformed() {
        byte[] bad = concat(int32(14), int32(196608), ascii("user\0a"));
        Transcript t = Pg.transcript().c(bad).expect("layout", "failed MALFORMED");

        Replay.Run run = replay(OFFERING, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(text(run.written().get(0))).contains("C08P01\0").contains("invalid startup packet layout");
    }

    @Test
    void startupWithAnOddNumberOfStringsIsMalformed() {
        byte[] bad = concat(int32(14), int32(196608), ascii("user\0\0"));
        Transcript t = Pg.transcript().c(bad).expect("odd", "failed MALFORMED");

        assertThat(replay(OFFERING, t).outcome()).isEqualTo(t.expected());
    }

    @Test
    void protocolTwoIsRefusedAsPostgreSqlDoes() {
        byte[] v2 = concat(int32(8), int32(2 << 16));
        Transcript t = Pg.transcript().c(v2).expect("v2", "failed PROTOCOL_VIOLATION");

        Replay.Run run = replay(OFFERING, t);

        assertThat(text(run.written().get(0)))
                .contains("C0A000\0")
                .contains("unsupported frontend protocol 2.0: server supports 3.0 to 3.0");
    }

    @Test
    void directTlsOnANegotiatingListenerIsNamed() {
        byte[] clientHello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
        Transcript t = Pg.transcript().c(clientHello).expect("direct", "failed PROTOCOL_VIOLATION");

        Replay.Run run = replay(OFFERING, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(((Step.Failed) run.last()).failure().detail()).contains("direct");
    }

    @Test
    void eofInTheMiddleOfAPacketIsUnexpected() {
        Transcript t = Pg.transcript().c(java.util.Arrays.copyOf(STARTUP, 11)).expect("eof", "failed UNEXPECTED_EOF");

        assertThat(replay(OFFERING, t).outcome()).isEqualTo(t.expected());
    }

    @Test
    void respondIsRefusedBecauseRepliesAreBinary() {
        PostgresServer server = new PostgresServer(OFFERING.afterUpgrade());
        server.receive(ByteBuffer.wrap(STARTUP));
        assertThat(server.poll()).isInstanceOf(Step.Deliver.class);

        assertThatThrownBy(() -> server.respond("ok"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("handOver()");
        assertThat(((Step.Failed) server.poll()).failure().blame()).isEqualTo(Blame.LOCAL);
    }

    @Test
    void handOverKeepsWhatFollowsTheStartup() {
        PostgresServer server = new PostgresServer(OFFERING.afterUpgrade());
        byte[] password = concat(ascii("p"), int32(9), ascii("pass\0"));
        server.receive(ByteBuffer.wrap(concat(STARTUP, password)));
        assertThat(server.poll()).isInstanceOf(Step.Deliver.class);

        server.handOver();

        Result r = ((Step.Completed) server.poll()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.HANDED_OVER);
        assertThat(r.tlsActive()).isTrue();
        byte[] rest = new byte[r.remaining().remaining()];
        r.remaining().get(rest);
        assertThat(rest).containsExactly(concat(STARTUP, password));
    }

    @Test
    void messagesHaveTheDocumentedBytes() {
        assertThat(PostgresMessages.sslRequest()).containsExactly(0, 0, 0, 8, 0x04, 0xd2 - 256, 0x16, 0x2f);
        assertThat(PostgresMessages.gssEncRequest()).containsExactly(GSSENC_REQUEST);
        byte[] startup = startup("user", "u");
        assertThat(startup).containsExactly(concat(int32(16), int32(0x00030000), ascii("user\0u\0\0")));
        byte[] error = PostgresMessages.errorResponse("FATAL", "28000", "m");
        assertThat(error).containsExactly(concat(ascii("E"), int32(29), ascii("SFATAL\0VFATAL\0C28000\0Mm\0\0")));
        assertThat(PostgresMessages.errorFields(error, 5, error.length))
                .isEqualTo(new PostgresMessages.ErrorFields("FATAL", "28000", "m"));
    }
}
