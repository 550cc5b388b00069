package dev.optls.interop.ourclient;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.tls.blocking.ClientSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The optls client against a real Postfix with {@code smtpd_tls_security_level = may}: STARTTLS at every level
 * that asks for it, a clean session after TLS, implicit TLS on the wrapper-mode port, and {@code optls probe}.
 */
class PostfixOptionalIT {

    private static OurClient.Pki pki;
    private static PostfixServer postfix;
    private static String version;

    @BeforeAll
    static void startPostfix() {
        pki = OurClient.Pki.create();
        postfix = OurClient.postfix(PeerTls.OPTIONAL, pki.localhost()).start();
        version = "Postfix " + PostfixServer.version();
        System.out.println("PostfixOptionalIT against " + version);
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
    void verifyUpgradesAndTheSessionContinuesCleanlyAfterTls() throws Exception {
        var client = OurClient.client(Protocol.SMTP, SecurityLevel.VERIFY, pki.trust(), false);
        int localPort;
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            localPort = attempt.localPort();
            ClientSession session = attempt.session();
            System.out.println(version + ": " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.TLS);
            Result result = session.result().orElseThrow();
            assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(result.tlsActive()).isTrue();
            assertThat(result.greeting()).contains("ESMTP optls-interop");
            assertThat(result.before().has("STARTTLS"))
                    .as("before: %s", result.before())
                    .isTrue();
            assertThat(result.before().has("PIPELINING")).isTrue();
            assertThat(result.after().has("STARTTLS"))
                    .as("after: %s", result.after())
                    .isFalse();
            assertThat(result.after().has("PIPELINING"))
                    .as("after: %s", result.after())
                    .isTrue();
            assertThat(session.tls().orElseThrow().protocolVersion()).isIn("TLSv1.3", "TLSv1.2");
            assertThat(session.verification().orElseThrow().valid())
                    .as("%s", session.verification())
                    .isTrue();
            assertThat(session.peerChain()).isNotEmpty();
            assertThat(session.peerChain().get(0).getSubjectX500Principal().getName())
                    .contains("CN=localhost");
            assertThat(session.failure()).isEmpty();

            // The returned socket is the TLS socket at a clean command boundary: the next command works.
            assertThat(session.socket()).get().isInstanceOf(SSLSocket.class);
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.smtp("MAIL FROM:<a@example.org>")).startsWith("250");
            assertThat(lines.smtp("RCPT TO:<b@example.test>")).startsWith("250");
            assertThat(lines.smtp("QUIT")).startsWith("221");
        }
        // Postfix counted a second EHLO after STARTTLS: nothing from before TLS was reused.
        assertThat(OurClient.postfixDisconnect(postfix, localPort))
                .as(version)
                .contains("ehlo=2 starttls=1 mail=1 rcpt=1 quit=1 commands=6");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT"})
    void lowerLevelsUpgradeWhenStartTlsIsOffered(SecurityLevel level) throws Exception {
        var client = OurClient.client(Protocol.SMTP, level, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " at " + level + ": " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.TLS);
            Result result = session.result().orElseThrow();
            assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(result.before().has("STARTTLS")).isTrue();
            assertThat(result.after().has("STARTTLS")).isFalse();
            assertThat(session.tls().orElseThrow().protocolVersion()).isIn("TLSv1.3", "TLSv1.2");
            // Checked at every level, enforced only at VERIFY: here it is valid anyway.
            assertThat(session.verification().orElseThrow().valid()).isTrue();
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.smtp("MAIL FROM:<a@example.org>")).startsWith("250");
            assertThat(lines.smtp("QUIT")).startsWith("221");
            assertThat(OurClient.postfixDisconnect(postfix, attempt.localPort()))
                    .contains("ehlo=2 starttls=1 mail=1 quit=1 commands=5");
        }
    }

    @Test
    void submissionWithImplicitTlsOnTheWrapperModePort() throws Exception {
        var client = OurClient.client(Protocol.SUBMISSION, SecurityLevel.VERIFY, pki.trust(), true);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.implicitPort())) {
            ClientSession session = attempt.session();
            System.out.println(version + " wrapper mode: " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.TLS);
            Result result = session.result().orElseThrow();
            assertThat(result.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
            assertThat(result.tlsActive()).isTrue();
            assertThat(session.tls().orElseThrow().protocolVersion()).isIn("TLSv1.3", "TLSv1.2");
            assertThat(session.verification().orElseThrow().valid()).isTrue();
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.smtp("MAIL FROM:<a@example.org>")).startsWith("250");
            assertThat(lines.smtp("QUIT")).startsWith("221");
            // One EHLO, no STARTTLS: the connection was TLS from the first byte.
            assertThat(OurClient.postfixDisconnect(postfix, attempt.localPort()))
                    .contains("ehlo=1 mail=1 quit=1 commands=3");
        }
    }

    @Test
    void probeReportsTls() {
        OurClient.CliRun run =
                OurClient.probe("smtp://" + postfix.host() + ":" + postfix.port(), SecurityLevel.MAY, pki.caFile());
        JsonNode json = run.json();
        System.out.println(version + " optls probe: " + run.out().strip());
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(json.path("outcome").asText()).isEqualTo("tls");
        assertThat(json.path("satisfied").asBoolean()).isTrue();
        assertThat(json.path("tls").path("version").asText()).isIn("TLSv1.3", "TLSv1.2");
        assertThat(json.path("verification").path("chainValid").asBoolean()).isTrue();
        assertThat(json.path("capabilities").path("before").toString()).contains("STARTTLS");
        assertThat(json.path("capabilities").path("after").toString()).doesNotContain("STARTTLS");
    }
}
