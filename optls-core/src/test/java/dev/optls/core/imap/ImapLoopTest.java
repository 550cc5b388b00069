package dev.optls.core.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
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

/** ImapClient against ImapServer in memory; the handshake is faked by calling handshakeCompleted on both. */
class ImapLoopTest {
    private static final ServerOptions OFFERING = ServerOptions.offering(
                    "mail.example", Capabilities.of("IMAP4rev1", "IMAP4rev2", "AUTH=PLAIN"))
            .withTlsCapabilities(Capabilities.of("IMAP4rev2", "AUTH=PLAIN", "AUTH=SCRAM-SHA-256"));

    /** What happened on both sides. */
    record Loop(Step client, List<Step> serverEnds, String clientWrote) {}

    static Loop run(ClientOptions clientOptions, ServerOptions serverOptions) {
        ImapClient client = new ImapClient(clientOptions);
        ImapServer server = new ImapServer(serverOptions);
        ImapTranscript.Driver c = new ImapTranscript.Driver(client);
        ImapTranscript.Driver s = new ImapTranscript.Driver(server);
        List<Step> serverEnds = new ArrayList<>();
        StringBuilder clientWrote = new StringBuilder();
        for (int round = 0; round < 100; round++) {
            Step cs = c.pump();
            Step ss = s.pump();
            byte[] toServer = c.takeOutput();
            byte[] toClient = s.takeOutput();
            clientWrote.append(new String(toServer, java.nio.charset.StandardCharsets.US_ASCII));
            if (toServer.length > 0 && !s.finished() && !(ss instanceof Step.BeginHandshake)) {
                s.n.receive(ByteBuffer.wrap(toServer));
            }
            if (toClient.length > 0 && !c.finished() && !(cs instanceof Step.BeginHandshake)) {
                c.n.receive(ByteBuffer.wrap(toClient));
            }
            if (cs instanceof Step.BeginHandshake && ss instanceof Step.BeginHandshake) {
                assertThat(((Step.BeginHandshake) ss).tlsInput().remaining()).isZero();
                client.handshakeCompleted(ImapTranscript.SUMMARY);
                server.handshakeCompleted(ImapTranscript.SUMMARY);
                serverEnds.add(s.pump());
                // The application continues the session with a fresh server for the TLS leg.
                server = new ImapServer(serverOptions.afterUpgrade());
                s = new ImapTranscript.Driver(server);
                continue;
            }
            if (s.finished() && !serverEnds.contains(s.last)) {
                serverEnds.add(s.last);
            }
            if (c.finished() && toServer.length == 0 && toClient.length == 0) {
                return new Loop(cs, serverEnds, clientWrote.toString());
            }
        }
        throw new AssertionError("client and server did not finish");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAtEveryLevelThatWantsTls(SecurityLevel level) {
        Loop loop = run(ClientOptions.of(level), OFFERING);
        assertThat(loop.client()).isInstanceOf(Step.Completed.class);
        Result r = ((Step.Completed) loop.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(r.tlsActive()).isTrue();
        assertThat(r.before().entries()).containsExactly("IMAP4rev1", "IMAP4rev2", "AUTH=PLAIN", "STARTTLS");
        assertThat(r.after().entries()).containsExactly("IMAP4rev2", "AUTH=PLAIN", "AUTH=SCRAM-SHA-256");
        assertThat(loop.serverEnds()).hasSize(1);
        assertThat(((Step.Completed) loop.serverEnds().get(0)).result().ending())
                .isEqualTo(Result.Ending.UPGRADED);
        assertThat(loop.clientWrote()).isEqualTo("a001 STARTTLS\r\na002 CAPABILITY\r\n");
    }

    @Test
    void levelNoneStaysPlaintext() {
        Loop loop = run(ClientOptions.of(SecurityLevel.NONE), OFFERING);
        Result r = ((Step.Completed) loop.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(r.before().has("STARTTLS")).isTrue();
        assertThat(loop.clientWrote()).isEmpty();
    }

    @Test
    void tlsRequiredServer() {
        Loop loop = run(ClientOptions.of(SecurityLevel.VERIFY), OFFERING.withTlsRequired(true));
        Result r = ((Step.Completed) loop.client()).result();
        assertThat(r.before().entries()).containsExactly("IMAP4rev1", "IMAP4rev2", "STARTTLS", "LOGINDISABLED");
        assertThat(r.after().entries()).containsExactly("IMAP4rev2", "AUTH=PLAIN", "AUTH=SCRAM-SHA-256");
    }

    @Test
    void serverWithoutTlsAtMay() {
        Loop loop = run(
                ClientOptions.of(SecurityLevel.MAY),
                ServerOptions.withoutTls("mail.example", Capabilities.of("IMAP4rev2")));
        assertThat(loop.client()).isInstanceOf(Step.UpgradeUnavailable.class);
        assertThat(((Step.UpgradeUnavailable) loop.client()).reason().kind())
                .isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        // The greeting code did not list STARTTLS, so the client asked once more before giving up.
        assertThat(loop.clientWrote()).isEqualTo("a001 CAPABILITY\r\n");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void serverWithoutTlsWhenRequired(SecurityLevel level) {
        Loop loop =
                run(ClientOptions.of(level), ServerOptions.withoutTls("mail.example", Capabilities.of("IMAP4rev2")));
        assertThat(loop.client()).isInstanceOf(Step.Failed.class);
        assertThat(((Step.Failed) loop.client()).failure().blame()).isEqualTo(Blame.POLICY);
        assertThat(loop.clientWrote()).isEqualTo("a001 CAPABILITY\r\na002 LOGOUT\r\n");
        assertThat(((Step.Completed) loop.serverEnds().get(0)).result().ending())
                .isEqualTo(Result.Ending.CLOSED);
    }

    @Test
    void implicitTls() {
        Loop loop = run(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true), OFFERING.implicitTls());
        Result r = ((Step.Completed) loop.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        assertThat(r.after().entries()).containsExactly("IMAP4rev2", "AUTH=PLAIN", "AUTH=SCRAM-SHA-256");
        assertThat(loop.clientWrote()).isEmpty();
    }
}
