package dev.optls.core.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Negotiation;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Pop3Client against Pop3Server in memory, with the TLS handshake faked on both sides. */
class Pop3LoopTest {
    private static final Capabilities PLAIN = Capabilities.of("TOP", "UIDL", "RESP-CODES");
    private static final Capabilities TLS = Capabilities.of("TOP", "UIDL", "RESP-CODES", "USER", "SASL PLAIN");

    /** What one loop run ended with. */
    record Run(Step client, Step server, int handshakes, List<String> serverResults) {}

    static Run loop(Pop3Client client, ServerOptions options) {
        Negotiation server = new Pop3Server(options);
        List<String> serverEndings = new ArrayList<>();
        int handshakes = 0;
        ByteBuffer buf = ByteBuffer.allocate(5);
        for (int guard = 0; guard < 10_000; guard++) {
            Step c = client.poll();
            Step s = server.poll();
            if (s instanceof Step.Completed done && done.result().ending() == Result.Ending.UPGRADED) {
                serverEndings.add(done.result().ending().name());
                // The application continues over TLS with a fresh server (RFC 2595 §4).
                server = new Pop3Server(options.afterUpgrade());
                continue;
            }
            if (c instanceof Step.WriteOutput) {
                pipe(client, server, buf);
                continue;
            }
            if (s instanceof Step.WriteOutput) {
                pipe(server, client, buf);
                continue;
            }
            if (c instanceof Step.BeginHandshake && s instanceof Step.BeginHandshake sb) {
                assertThat(sb.tlsInput().remaining()).isZero();
                handshakes++;
                client.handshakeCompleted(Transcript.TLS13);
                server.handshakeCompleted(Transcript.TLS13);
                continue;
            }
            boolean clientEnded =
                    c instanceof Step.Completed || c instanceof Step.Failed || c instanceof Step.UpgradeUnavailable;
            if (clientEnded) {
                while (s instanceof Step.WriteOutput) {
                    buf.clear();
                    server.drainOutput(buf);
                    s = server.poll();
                }
                if (s instanceof Step.Completed done) {
                    serverEndings.add(done.result().ending().name());
                }
                return new Run(c, s, handshakes, serverEndings);
            }
            throw new AssertionError("deadlock: client " + c + ", server " + s);
        }
        throw new AssertionError("no progress");
    }

    private static void pipe(Negotiation from, Negotiation to, ByteBuffer buf) {
        buf.clear();
        from.drainOutput(buf);
        buf.flip();
        to.receive(buf);
    }

    private static ServerOptions offering() {
        return ServerOptions.offering("mx.example", PLAIN).withTlsCapabilities(TLS);
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAgainstOurServer(SecurityLevel level) {
        Run run = loop(new Pop3Client(ClientOptions.of(level)), offering());
        Result r = ((Step.Completed) run.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(r.before().entries()).containsExactly("TOP", "UIDL", "RESP-CODES", "STLS");
        assertThat(r.after()).isEqualTo(TLS);
        assertThat(run.handshakes()).isEqualTo(1);
        assertThat(run.serverResults()).containsExactly("UPGRADED");
        // The fresh server is waiting for the next command over TLS.
        assertThat(run.server()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void levelNoneNeverUpgrades() {
        Run run = loop(new Pop3Client(ClientOptions.of(SecurityLevel.NONE)), offering());
        Result r = ((Step.Completed) run.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(r.before().has("STLS")).isTrue();
        assertThat(run.handshakes()).isZero();
    }

    @Test
    void mayFallsBackAgainstAServerWithoutTls() {
        Run run = loop(
                new Pop3Client(ClientOptions.of(SecurityLevel.MAY)), ServerOptions.withoutTls("mx.example", PLAIN));
        var u = (Step.UpgradeUnavailable) run.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(u.plaintext().before()).isEqualTo(PLAIN);
        assertThat(run.handshakes()).isZero();
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsQuitAgainstAServerWithoutTls(SecurityLevel level) {
        Run run = loop(new Pop3Client(ClientOptions.of(level)), ServerOptions.withoutTls("mx.example", PLAIN));
        var f = ((Step.Failed) run.client()).failure();
        assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(f.blame()).isEqualTo(Blame.POLICY);
        // The client's QUIT reached the server, which closed the session.
        assertThat(run.serverResults()).containsExactly("CLOSED");
        assertThat(run.handshakes()).isZero();
    }

    @Test
    void implicitTlsAgainstAnImplicitTlsServer() {
        Run run = loop(
                new Pop3Client(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true)),
                offering().implicitTls());
        Result r = ((Step.Completed) run.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        assertThat(r.after()).isEqualTo(TLS);
        assertThat(run.handshakes()).isZero();
    }

    @Test
    void requiredTlsServerHidesLoginUntilTls() {
        Run run = loop(
                new Pop3Client(ClientOptions.of(SecurityLevel.MAY)), offering().withTlsRequired(true));
        Result r = ((Step.Completed) run.client()).result();
        assertThat(r.before().has("USER")).isFalse();
        assertThat(r.before().has("SASL")).isFalse();
        assertThat(r.after().has("USER")).isTrue();
        assertThat(r.after().has("STLS")).isFalse();
    }
}
