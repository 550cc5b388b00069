package dev.optls.interop.ourclient;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.DovecotServer;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.tls.blocking.ClientSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The optls client against a real Dovecot without TLS ({@code ssl = no}): ENCRYPT fails closed without
 * attempting a login; MAY continues in plaintext.
 */
class DovecotWithoutTlsIT {

    private static OurClient.Pki pki;
    private static DovecotServer dovecot;
    private static String version;

    @BeforeAll
    static void startDovecot() {
        pki = OurClient.Pki.create();
        dovecot = OurClient.dovecot(PeerTls.NONE, null).start();
        version = "Dovecot " + DovecotServer.version() + " (NONE)";
        System.out.println("DovecotWithoutTlsIT against " + version);
    }

    @AfterAll
    static void stopDovecot() {
        if (dovecot != null) {
            dovecot.close();
        }
        if (pki != null) {
            pki.close();
        }
    }

    private static int port(Protocol protocol) {
        return protocol == Protocol.IMAP ? dovecot.imapPort() : dovecot.pop3Port();
    }

    @ParameterizedTest
    @EnumSource(
            value = Protocol.class,
            names = {"IMAP", "POP3"})
    void encryptFailsClosedWithoutLoggingIn(Protocol protocol) throws Exception {
        var client = OurClient.client(protocol, SecurityLevel.ENCRYPT, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, Peers.OTHER_LOOPBACK, port(protocol))) {
            ClientSession session = attempt.session();
            System.out.println(version + " " + protocol + " at ENCRYPT: " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).isEmpty();
            assertThat(session.tls()).isEmpty();
            assertThat(session.failure()).get().satisfies(f -> {
                assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
                assertThat(f.blame()).isEqualTo(Blame.POLICY);
            });
            assertThat(session.result())
                    .get()
                    .satisfies(
                            observed -> assertThat(observed.before().entries()).isNotEmpty());
            // Dovecot saw the client leave before any authentication attempt.
            assertThat(OurClient.dovecotLoginLine(dovecot, attempt.localPort()))
                    .as(version)
                    .contains("Disconnected")
                    .contains("no auth attempts")
                    .contains("user=<>");
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Protocol.class,
            names = {"IMAP", "POP3"})
    void mayContinuesInPlaintext(Protocol protocol) throws Exception {
        var client = OurClient.client(protocol, SecurityLevel.MAY, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, Peers.OTHER_LOOPBACK, port(protocol))) {
            ClientSession session = attempt.session();
            System.out.println(version + " " + protocol + " at MAY: " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.failure())
                    .get()
                    .satisfies(f -> assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED));
            assertThat(session.result().orElseThrow().tlsActive()).isFalse();
            // The plaintext session is at a clean command boundary: log in (allowed without TLS here).
            Lines lines = Lines.on(session.socket().orElseThrow());
            if (protocol == Protocol.IMAP) {
                assertThat(lines.imap("a", "LOGIN " + dovecot.user() + " " + dovecot.password()))
                        .startsWith("a OK");
                assertThat(lines.imap("b", "LOGOUT")).startsWith("b OK");
            } else {
                assertThat(lines.send("USER " + dovecot.user()).readLine()).startsWith("+OK");
                assertThat(lines.send("PASS " + dovecot.password()).readLine()).startsWith("+OK");
                assertThat(lines.send("QUIT").readLine()).startsWith("+OK");
            }
            assertThat(OurClient.dovecotLoginLine(dovecot, attempt.localPort()))
                    .contains("Login: user=<" + dovecot.user() + ">")
                    .doesNotContain(", TLS,");
        }
    }
}
