package dev.optls.core.postgres;

import static dev.optls.core.postgres.Pg.SSL_REQUEST;
import static dev.optls.core.postgres.Pg.ascii;
import static dev.optls.core.postgres.Pg.concat;
import static dev.optls.core.postgres.Pg.int32;
import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** PostgresClient replayed against scripted servers, whole and split at every byte. */
class PostgresClientTest {
    private static final byte[] S = ascii("S");
    private static final byte[] N = ascii("N");

    private static Replay.Run replay(SecurityLevel level, Transcript t) {
        return Replay.everySplit(() -> new PostgresClient(ClientOptions.of(level)), t, true);
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void sslRequestThenSUpgrades(SecurityLevel level) {
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(S).tls().expect("success", "completed UPGRADED");

        Replay.Run run = replay(level, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        // The SSLRequest alone, exactly 8 bytes, nothing after it; nothing is written after TLS either.
        assertThat(run.written()).hasSize(2);
        assertThat(run.written().get(0)).containsExactly(SSL_REQUEST);
        assertThat(run.written().get(1)).isEmpty();
        Result r = ((Step.Completed) run.last()).result();
        assertThat(r.protocol()).isEqualTo(Protocol.POSTGRES);
        assertThat(r.tlsActive()).isTrue();
        assertThat(r.greeting()).isEmpty();
        assertThat(r.before()).isEqualTo(Capabilities.NONE);
        assertThat(r.after()).isEqualTo(Capabilities.NONE);
    }

    /** security.md §5 E.47 for PostgreSQL (CVE-2021-23222): bytes after 'S' are response injection. */
    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void bytesAfterSAreResponseInjection(SecurityLevel level) {
        // A forged AuthenticationOk + ReadyForQuery appended to the go-ahead.
        byte[] forged = concat(ascii("R"), int32(8), int32(0), ascii("Z"), int32(5), ascii("I"));
        Transcript t =
                Pg.transcript().c(SSL_REQUEST).s(S, forged).expect("injection", "failed BYTES_AFTER_UPGRADE_REPLY");

        Replay.Run run = replay(level, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).containsExactly(SSL_REQUEST);
        assertThat(((Step.Failed) run.last()).failure().blame()).isEqualTo(Blame.PEER);
        assertThat(run.tlsInputs()).isEmpty();
    }

    @Test
    void nAtMayContinuesInPlaintextWithoutSendingAnything() {
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(N).expect("n-may", "unavailable STARTTLS_NOT_OFFERED");

        Replay.Run run = replay(SecurityLevel.MAY, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).containsExactly(SSL_REQUEST);
        Step.UpgradeUnavailable u = (Step.UpgradeUnavailable) run.last();
        assertThat(u.reason().blame()).isEqualTo(Blame.PEER);
        assertThat(u.plaintext().tlsActive()).isFalse();
        assertThat(u.plaintext().ending()).isEqualTo(Result.Ending.PLAINTEXT);
    }

    /** security.md §5 D (stripped offer): 'N' under required TLS fails closed, and no StartupMessage goes out. */
    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void nUnderRequiredTlsFailsClosed(SecurityLevel level) {
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(N).expect("n-required", "failed STARTTLS_NOT_OFFERED");

        Replay.Run run = replay(level, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).containsExactly(SSL_REQUEST);
        Step.Failed f = (Step.Failed) run.last();
        assertThat(f.failure().blame()).isEqualTo(Blame.POLICY);
        assertThat(f.failure().detail()).contains("level " + level).contains("MAY");
        assertThat(f.observed()).get().satisfies(o -> assertThat(o.tlsActive()).isFalse());
    }

    @Test
    void bytesAfterNAtMayAreNotHandedToTheApplication() {
        byte[] forged = concat(ascii("R"), int32(8), int32(0));
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(N, forged).expect("n-injection", "failed PROTOCOL_VIOLATION");

        Replay.Run whole = Replay.client(() -> new PostgresClient(ClientOptions.of(SecurityLevel.MAY)), t, 100);

        assertThat(whole.outcome()).isEqualTo(t.expected());
    }

    @Test
    void tooManyConnectionsIsATemporaryServiceFailureWithTheSanitizedText() {
        byte[] error = PostgresMessages.errorResponse("FATAL", "53300", "sorry, too many clients\u001b[2J already");
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(error).expect("53300", "failed SERVICE_UNAVAILABLE");

        Replay.Run run = replay(SecurityLevel.VERIFY, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        var f = ((Step.Failed) run.last()).failure();
        assertThat(f.temporary()).isTrue();
        assertThat(f.blame()).isEqualTo(Blame.PEER);
        assertThat(f.phase()).isEqualTo(Phase.UPGRADE);
        assertThat(f.detail())
                .contains("unauthenticated")
                .contains("FATAL 53300")
                .contains("sorry, too many clients?[2J already")
                .doesNotContain("\u001b");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "VERIFY"})
    void unsupportedProtocolErrorMeansNoTls(SecurityLevel level) {
        byte[] error = PostgresMessages.errorResponse(
                "FATAL", "0A000", "unsupported frontend protocol 1234.5679: server supports 1.0 to 3.0");
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(error).expect("0A000", "failed STARTTLS_NOT_OFFERED");

        Replay.Run run = replay(level, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        var f = ((Step.Failed) run.last()).failure();
        assertThat(f.blame()).isEqualTo(level.requiresTls() ? Blame.POLICY : Blame.PEER);
        assertThat(f.temporary()).isFalse();
        assertThat(f.detail()).contains("does not support TLS");
    }

    @Test
    void protocolTwoErrorResponseIsUnderstood() {
        Transcript t = Pg.transcript()
                .c(SSL_REQUEST)
                .s(ascii("EFATAL:  unsupported frontend protocol\n\0"))
                .expect("v2", "failed STARTTLS_NOT_OFFERED");

        Replay.Run run = replay(SecurityLevel.MAY, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(((Step.Failed) run.last()).failure().detail()).contains("\"FATAL:  unsupported frontend protocol\"");
    }

    @Test
    void overLongErrorResponseIsALimitFailure() {
        Transcript t = Pg.transcript()
                .c(SSL_REQUEST)
                .s(ascii("E"), int32(1_000_000), ascii("SFATAL"))
                .expect("huge", "failed LIMIT_EXCEEDED");

        assertThat(replay(SecurityLevel.MAY, t).outcome()).isEqualTo(t.expected());
    }

    @Test
    void overLongProtocolTwoErrorIsALimitFailure() {
        PostgresClient client =
                new PostgresClient(ClientOptions.of(SecurityLevel.MAY).withLimits(new Limits(64, 8, 512, 0, 5)));
        Transcript t =
                Pg.transcript().c(SSL_REQUEST).s(ascii("E" + "x".repeat(100))).expect("v2-long", "x");

        Replay.Run run = Replay.client(() -> client, t, 1000);

        assertThat(run.outcome()).isEqualTo("failed LIMIT_EXCEEDED");
    }

    @Test
    void errorResponseWithBrokenFieldsIsMalformed() {
        Transcript t = Pg.transcript()
                .c(SSL_REQUEST)
                .s(ascii("E"), int32(8), ascii("SFAT"))
                .expect("broken", "failed MALFORMED");

        assertThat(replay(SecurityLevel.MAY, t).outcome()).isEqualTo(t.expected());
    }

    @Test
    void anythingElseIsMalformed() {
        Transcript t = Pg.transcript()
                .c(SSL_REQUEST)
                .s(ascii("HTTP/1.1 400 Bad Request\r\n"))
                .expect("http", "failed MALFORMED");

        Replay.Run run = replay(SecurityLevel.MAY, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(((Step.Failed) run.last()).failure().detail()).contains("0x48");
    }

    @Test
    void eofBeforeTheAnswerIsUnexpected() {
        Transcript t = Pg.transcript().c(SSL_REQUEST).expect("eof", "failed UNEXPECTED_EOF");

        assertThat(replay(SecurityLevel.MAY, t).outcome()).isEqualTo(t.expected());
    }

    @Test
    void eofInTheMiddleOfAnErrorResponseIsUnexpected() {
        byte[] error = PostgresMessages.errorResponse("FATAL", "53300", "too many");
        byte[] cut = java.util.Arrays.copyOf(error, error.length - 3);
        Transcript t = Pg.transcript().c(SSL_REQUEST).s(cut).expect("eof-mid", "failed UNEXPECTED_EOF");

        assertThat(replay(SecurityLevel.MAY, t).outcome()).isEqualTo(t.expected());
    }

    @Test
    void levelNoneSendsNothing() {
        Transcript t = Pg.transcript().expect("none", "completed PLAINTEXT");

        Replay.Run run = replay(SecurityLevel.NONE, t);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).isEmpty();
        assertThat(((Step.Completed) run.last()).result().tlsActive()).isFalse();
    }

    @Test
    void directTlsSendsNothingAndCompletesAsImplicit() {
        Transcript t = Pg.transcript().expect("direct", "completed IMPLICIT_TLS");

        Replay.Run run = Replay.everySplit(
                () -> new PostgresClient(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true)), t, true);

        assertThat(run.outcome()).isEqualTo(t.expected());
        assertThat(run.written().get(0)).isEmpty();
        assertThat(((Step.Completed) run.last()).result().tlsActive()).isTrue();
    }

    @Test
    void inputAfterTheEndIsIgnored() {
        PostgresClient client = new PostgresClient(ClientOptions.of(SecurityLevel.NONE));
        Step done = client.poll();

        client.receive(java.nio.ByteBuffer.wrap(ascii("garbage")));

        assertThat(client.poll()).isEqualTo(done);
    }

    @Test
    void schemesNameThePostgresProtocol() {
        assertThat(Protocol.forScheme("postgres")).contains(Protocol.POSTGRES);
        assertThat(Protocol.forScheme("PostgreSQL")).contains(Protocol.POSTGRES);
        assertThat(Protocol.isImplicitScheme("postgres")).isFalse();
        assertThat(Protocol.POSTGRES.defaultPort()).isEqualTo(5432);
        assertThat(Protocol.POSTGRES.alpn()).contains("postgresql");
        assertThat(Protocol.POSTGRES.implicitPort()).isEmpty();
        assertThat(dev.optls.core.Dialects.client(Protocol.POSTGRES, ClientOptions.of(SecurityLevel.MAY)))
                .isInstanceOf(PostgresClient.class);
    }
}
