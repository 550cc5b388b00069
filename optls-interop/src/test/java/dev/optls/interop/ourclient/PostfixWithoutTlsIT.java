package dev.optls.interop.ourclient;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.optls.core.Blame;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.tls.blocking.ClientSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The optls client against a real Postfix without TLS ({@code smtpd_tls_security_level = none}): levels that
 * require TLS fail closed and say QUIT without sending anything else; MAY and NONE continue in plaintext.
 */
class PostfixWithoutTlsIT {

    private static OurClient.Pki pki;
    private static PostfixServer postfix;
    private static String version;

    @BeforeAll
    static void startPostfix() {
        pki = OurClient.Pki.create();
        postfix = OurClient.postfix(PeerTls.NONE, null).start();
        version = "Postfix " + PostfixServer.version();
        System.out.println("PostfixWithoutTlsIT against " + version);
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
            names = {"VERIFY", "ENCRYPT"})
    void requiredTlsFailsClosedAndSaysOnlyQuit(SecurityLevel level) throws Exception {
        var client = OurClient.client(Protocol.SMTP, level, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " none, client at " + level + ": " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).isEmpty();
            assertThat(session.tls()).isEmpty();
            assertThat(session.peerChain()).isEmpty();
            assertThat(session.failure()).get().satisfies(f -> {
                assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
                assertThat(f.blame()).isEqualTo(Blame.POLICY);
            });
            // What the server did advertise is kept for the report.
            Result observed = session.result().orElseThrow();
            assertThat(observed.tlsActive()).isFalse();
            assertThat(observed.before().has("PIPELINING"))
                    .as("%s", observed.before())
                    .isTrue();
            assertThat(observed.before().has("STARTTLS")).isFalse();
            String disconnect = OurClient.postfixDisconnect(postfix, attempt.localPort());
            assertThat(disconnect).as(version).contains("ehlo=1 quit=1 commands=2");
            assertThat(disconnect).doesNotContain("mail=", "auth=", "rcpt=", "starttls=");
        }
    }

    @Test
    void mayContinuesInPlaintextAndSaysWhy() throws Exception {
        var client = OurClient.client(Protocol.SMTP, SecurityLevel.MAY, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " none, client at MAY: " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.failure())
                    .get()
                    .satisfies(f -> assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED));
            Result result = session.result().orElseThrow();
            assertThat(result.tlsActive()).isFalse();
            assertThat(result.before().has("PIPELINING")).isTrue();
            assertThat(session.tls()).isEmpty();
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.smtp("MAIL FROM:<a@example.org>")).startsWith("250");
            assertThat(lines.smtp("QUIT")).startsWith("221");
            assertThat(OurClient.postfixDisconnect(postfix, attempt.localPort()))
                    .contains("ehlo=1 mail=1 quit=1 commands=3");
        }
    }

    @Test
    void levelNoneIsPlaintextOnPurpose() throws Exception {
        var client = OurClient.client(Protocol.SMTP, SecurityLevel.NONE, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, postfix.port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " none, client at NONE: " + OurClient.describe(session));
            assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.result().orElseThrow().ending()).isEqualTo(Result.Ending.PLAINTEXT);
            assertThat(session.failure()).isEmpty();
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.smtp("MAIL FROM:<a@example.org>")).startsWith("250");
            assertThat(lines.smtp("QUIT")).startsWith("221");
        }
    }

    @Test
    void probeAtVerifyExitsFourAndReportsWhatWasAdvertised() {
        OurClient.CliRun run =
                OurClient.probe("smtp://" + postfix.host() + ":" + postfix.port(), SecurityLevel.VERIFY, pki.caFile());
        System.out.println(version + " none, optls probe: " + run.out().strip());
        JsonNode json = run.json();
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(4);
        assertThat(json.path("outcome").asText()).isEqualTo("starttls-not-offered");
        assertThat(json.path("satisfied").asBoolean()).isFalse();
        assertThat(json.path("failure").path("blame").asText()).isEqualToIgnoringCase("policy");
        assertThat(json.path("capabilities").path("before").isArray()).isTrue();
        assertThat(json.path("capabilities").path("before").size()).isPositive();
        assertThat(json.path("capabilities").path("before").toString()).contains("PIPELINING");
    }
}
