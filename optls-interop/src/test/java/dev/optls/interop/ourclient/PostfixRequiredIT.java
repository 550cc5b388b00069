package dev.optls.interop.ourclient;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.tls.blocking.ClientSession;
import java.net.Socket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The optls client against a real Postfix with {@code smtpd_tls_security_level = encrypt}: every level that
 * starts TLS gets a session Postfix accepts mail on; level NONE gets the plaintext session Postfix refuses.
 */
class PostfixRequiredIT {

    private static OurClient.Pki pki;
    private static PostfixServer postfix;
    private static String version;

    @BeforeAll
    static void startPostfix() {
        pki = OurClient.Pki.create();
        postfix = OurClient.postfix(PeerTls.REQUIRED, pki.localhost()).start();
        version = "Postfix " + PostfixServer.version();
        System.out.println("PostfixRequiredIT against " + version);
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

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"VERIFY", "ENCRYPT", "MAY"})
    void upgradesAndPostfixAcceptsMailAfterTls(SecurityLevel level) throws Exception {
        var client = OurClient.client(Protocol.SMTP, level, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " encrypt, client at " + level + ": " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.TLS);
            Result result = session.result().orElseThrow();
            assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(result.before().has("STARTTLS")).isTrue();
            assertThat(result.after().has("STARTTLS")).isFalse();
            assertThat(session.tls().orElseThrow().protocolVersion()).isIn("TLSv1.3", "TLSv1.2");
            assertThat(session.verification().orElseThrow().valid()).isTrue();
            assertThat(session.socket()).get().isInstanceOf(SSLSocket.class);
            // Postfix answers 530 to MAIL before STARTTLS; a 250 here means it sees a TLS session.
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.smtp("MAIL FROM:<a@example.org>")).startsWith("250");
            assertThat(lines.smtp("QUIT")).startsWith("221");
            assertThat(OurClient.postfixDisconnect(postfix, attempt.localPort()))
                    .contains("ehlo=2 starttls=1 mail=1 quit=1 commands=5");
        }
    }

    @Test
    void levelNoneStaysInPlaintextAtACleanBoundaryWherePostfixDemandsStartTls() throws Exception {
        var client = OurClient.client(Protocol.SMTP, SecurityLevel.NONE, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " encrypt, client at NONE: " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.PLAINTEXT);
            Result result = session.result().orElseThrow();
            assertThat(result.ending()).isEqualTo(Result.Ending.PLAINTEXT);
            assertThat(result.tlsActive()).isFalse();
            assertThat(result.before().has("STARTTLS")).isTrue();
            assertThat(session.tls()).isEmpty();
            Socket socket = session.socket().orElseThrow();
            assertThat(socket).isNotInstanceOf(SSLSocket.class);
            Lines lines = Lines.on(socket);
            assertThat(lines.smtp("MAIL FROM:<a@example.org>")).startsWith("530 5.7.0 Must issue a STARTTLS command");
            assertThat(lines.smtp("QUIT")).startsWith("221");
            assertThat(OurClient.postfixDisconnect(postfix, attempt.localPort()))
                    .contains("ehlo=1 mail=0/1 quit=1 commands=2/3");
        }
    }
}
