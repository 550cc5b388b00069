package dev.optls.interop.ourclient;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.tls.Verification;
import dev.optls.tls.blocking.ClientSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The optls client against a real Postfix whose certificate (from the trusted CA) names {@code other.example},
 * not {@code localhost}: VERIFY aborts the handshake and does not fall back; ENCRYPT proceeds and reports it.
 */
class PostfixWrongNameIT {

    private static final String OTHER = "other.example";

    private static OurClient.Pki pki;
    private static PostfixServer postfix;
    private static String version;

    @BeforeAll
    static void startPostfix() {
        pki = OurClient.Pki.create();
        postfix = OurClient.postfix(PeerTls.OPTIONAL, pki.leafFor(OTHER)).start();
        version = "Postfix " + PostfixServer.version();
        System.out.println("PostfixWrongNameIT against " + version);
    }

    @AfterAll
    static void stopPostfix() {
        if (postfix != null) {
            postfix.close();
        }
        if (pki != null) {
            pki.close();
        }
    }

    @Test
    void verifyFailsWithTheMismatchAndNoPlaintextFallback() throws Exception {
        var client = OurClient.client(Protocol.SMTP, SecurityLevel.VERIFY, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " other.example, client at VERIFY: " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).isEmpty();
            assertThat(session.failure()).get().satisfies(f -> {
                assertThat(f.kind()).isEqualTo(FailureKind.CERTIFICATE_INVALID);
                assertThat(f.detail()).contains(OurClient.SERVER_NAME).contains(OTHER);
            });
            Verification verification = session.verification().orElseThrow();
            assertThat(verification.chainValid()).as(verification.reason()).isTrue();
            assertThat(verification.nameMatches()).isFalse();
            assertThat(verification.reason()).contains(OurClient.SERVER_NAME).contains(OTHER);
            assertThat(session.peerChain()).isNotEmpty();
            assertThat(session.peerChain().get(0).getSubjectX500Principal().getName())
                    .contains("CN=" + OTHER);
            // RFC 3207 §4.1: no plaintext commands after the failed handshake on the same connection.
            String disconnect = OurClient.postfixDisconnect(postfix, attempt.localPort());
            assertThat(disconnect).as(version).contains("ehlo=1 starttls=").doesNotContain("mail=", "quit=");
        }
    }

    @Test
    void encryptProceedsAndReportsTheUnenforcedMismatch() throws Exception {
        var client = OurClient.client(Protocol.SMTP, SecurityLevel.ENCRYPT, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " other.example, client at ENCRYPT: " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.failure()).isEmpty();
            Verification verification = session.verification().orElseThrow();
            assertThat(verification.valid()).isFalse();
            assertThat(verification.chainValid()).isTrue();
            assertThat(verification.nameMatches()).isFalse();
            assertThat(verification.reason()).contains(OTHER);
            assertThat(session.peerChain()).isNotEmpty();
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.smtp("MAIL FROM:<a@example.org>")).startsWith("250");
            assertThat(lines.smtp("QUIT")).startsWith("221");
        }
    }
}
