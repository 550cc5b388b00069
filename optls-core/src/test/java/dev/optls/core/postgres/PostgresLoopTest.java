package dev.optls.core.postgres;

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
import dev.optls.core.testing.Replay;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * PostgresClient against PostgresServer in memory at every level, with the TLS handshake faked on both
 * sides; after the client completes, the application sends its StartupMessage as libpq would.
 */
class PostgresLoopTest {
    private static final byte[] STARTUP = Pg.startup("user", "alice", "database", "shop");

    /** How one run ended: the client's last step, what the server delivered and its endings. */
    record Run(Step client, Step server, int handshakes, List<String> delivered, List<String> serverEndings) {}

    static Run loop(SecurityLevel level, ServerOptions options) {
        Negotiation client = new PostgresClient(ClientOptions.of(level));
        Negotiation server = new PostgresServer(options);
        List<String> delivered = new ArrayList<>();
        List<String> endings = new ArrayList<>();
        int handshakes = 0;
        boolean startupSent = false;
        ByteBuffer buf = ByteBuffer.allocate(3);
        for (int guard = 0; guard < 10_000; guard++) {
            Step c = client.poll();
            Step s = server.poll();
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
                client.handshakeCompleted(Replay.FAKE_TLS);
                server.handshakeCompleted(Replay.FAKE_TLS);
                Step up = server.poll();
                endings.add(((Step.Completed) up).result().ending().name());
                // As the adapters do: a fresh server negotiation on the TLS connection.
                server = new PostgresServer(options.afterUpgrade());
                continue;
            }
            if (s instanceof Step.Deliver d) {
                delivered.add(d.command().verb()
                        + (d.command().tlsActive() ? " over TLS: " : " in plaintext: ")
                        + d.command().line());
                server.handOver();
                endings.add(((Step.Completed) server.poll()).result().ending().name());
                continue;
            }
            boolean clientEnded = c instanceof Step.Completed || c instanceof Step.UpgradeUnavailable;
            if (clientEnded && !startupSent && !(s instanceof Step.Completed || s instanceof Step.Failed)) {
                // The application's first message: over TLS after an upgrade, in plaintext after N (MAY) or at
                // level NONE.
                startupSent = true;
                server.receive(ByteBuffer.wrap(STARTUP));
                continue;
            }
            if (clientEnded || c instanceof Step.Failed) {
                return new Run(c, s, handshakes, delivered, endings);
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
        return ServerOptions.offering("db.test", Capabilities.NONE);
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAndTheStartupArrivesOverTls(SecurityLevel level) {
        Run run = loop(level, offering());

        Result r = ((Step.Completed) run.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(r.tlsActive()).isTrue();
        assertThat(run.handshakes()).isEqualTo(1);
        assertThat(run.delivered()).containsExactly("STARTUP over TLS: user=alice database=shop");
        assertThat(run.serverEndings()).containsExactly("UPGRADED", "HANDED_OVER");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void requiredTlsServerAcceptsEveryUpgradingClient(SecurityLevel level) {
        Run run = loop(level, offering().withTlsRequired(true));

        assertThat(run.delivered()).containsExactly("STARTUP over TLS: user=alice database=shop");
    }

    @Test
    void levelNoneSpeaksPlaintextAtOnce() {
        Run run = loop(SecurityLevel.NONE, offering());

        assertThat(((Step.Completed) run.client()).result().ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(run.handshakes()).isZero();
        assertThat(run.delivered()).containsExactly("STARTUP in plaintext: user=alice database=shop");
    }

    @Test
    void levelNoneAgainstARequiredTlsServerIsRefusedWithFatal28000() {
        Run run = loop(SecurityLevel.NONE, offering().withTlsRequired(true));

        assertThat(run.delivered()).isEmpty();
        var f = ((Step.Failed) run.server()).failure();
        assertThat(f.blame()).isEqualTo(Blame.POLICY);
    }

    @Test
    void mayFallsBackToPlaintextAgainstAServerWithoutTls() {
        Run run = loop(SecurityLevel.MAY, ServerOptions.withoutTls("db.test", Capabilities.NONE));

        var u = (Step.UpgradeUnavailable) run.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(run.handshakes()).isZero();
        assertThat(run.delivered()).containsExactly("STARTUP in plaintext: user=alice database=shop");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsFailClosedAgainstAServerWithoutTls(SecurityLevel level) {
        Run run = loop(level, ServerOptions.withoutTls("db.test", Capabilities.NONE));

        var f = ((Step.Failed) run.client()).failure();
        assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(f.blame()).isEqualTo(Blame.POLICY);
        // Nothing after the SSLRequest: the server still waits for a startup packet.
        assertThat(run.delivered()).isEmpty();
        assertThat(run.server()).isEqualTo(Step.NEED_INPUT);
    }
}
