package dev.optls.interop.ourclient;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.DovecotServer;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.tls.blocking.ClientSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The optls client at VERIFY against one real Dovecot with TLS ({@link #mode()}): STARTTLS for IMAP, STLS for
 * POP3, imaps and pop3s, each followed by a login over the returned socket. Connections come from
 * {@link Peers#OTHER_LOOPBACK} so that Dovecot treats the client as untrusted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DovecotTlsChecks {

    private OurClient.Pki pki;
    private DovecotServer dovecot;
    private String version;

    /** How the Dovecot under test offers TLS. */
    abstract PeerTls mode();

    @BeforeAll
    void startDovecot() {
        pki = OurClient.Pki.create();
        dovecot = OurClient.dovecot(mode(), pki.localhost()).start();
        version = "Dovecot " + DovecotServer.version() + " (" + mode() + ")";
        System.out.println(getClass().getSimpleName() + " against " + version);
    }

    @AfterAll
    void stopDovecot() {
        if (dovecot != null) {
            dovecot.close();
        }
        if (pki != null) {
            pki.close();
        }
    }

    @Test
    void imapStartTlsThenLogin() throws Exception {
        var client = OurClient.client(Protocol.IMAP, SecurityLevel.VERIFY, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, Peers.OTHER_LOOPBACK, dovecot.imapPort())) {
            ClientSession session = attempt.session();
            System.out.println(version + " IMAP: " + OurClient.describe(session));
            assertUpgraded(session);
            Result result = session.result().orElseThrow();
            assertThat(result.before().has("STARTTLS"))
                    .as("before: %s", result.before())
                    .isTrue();
            assertThat(result.after().has("STARTTLS"))
                    .as("after: %s", result.after())
                    .isFalse();
            assertThat(result.after().has("IMAP4rev1"))
                    .as("after: %s", result.after())
                    .isTrue();
            // ssl = required: no plaintext login before TLS (RFC 2595 §3.2), allowed after it.
            assertThat(result.before().has("LOGINDISABLED"))
                    .as("before: %s", result.before())
                    .isEqualTo(mode() == PeerTls.REQUIRED);
            assertThat(result.after().has("LOGINDISABLED"))
                    .as("after: %s", result.after())
                    .isFalse();
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.imap("a", "LOGIN " + dovecot.user() + " " + dovecot.password()))
                    .startsWith("a OK");
            assertThat(lines.imap("b", "SELECT INBOX")).startsWith("b OK");
            assertThat(lines.imap("c", "LOGOUT")).startsWith("c OK");
            assertThat(OurClient.dovecotLoginLine(dovecot, attempt.localPort()))
                    .as(version)
                    .contains("imap-login: Info: Login: user=<" + dovecot.user() + ">")
                    .contains("rip=" + Peers.OTHER_LOOPBACK)
                    .contains(", TLS,");
        }
    }

    @Test
    void pop3StlsThenLogin() throws Exception {
        var client = OurClient.client(Protocol.POP3, SecurityLevel.VERIFY, pki.trust(), false);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, Peers.OTHER_LOOPBACK, dovecot.pop3Port())) {
            ClientSession session = attempt.session();
            System.out.println(version + " POP3: " + OurClient.describe(session));
            assertUpgraded(session);
            Result result = session.result().orElseThrow();
            assertThat(result.before().has("STLS"))
                    .as("before: %s", result.before())
                    .isTrue();
            assertThat(result.after().has("STLS"))
                    .as("after: %s", result.after())
                    .isFalse();
            // ssl = required: Dovecot hides USER and the SASL mechanisms before STLS, lists them after it.
            assertThat(result.before().has("USER"))
                    .as("before: %s", result.before())
                    .isEqualTo(mode() != PeerTls.REQUIRED);
            assertThat(result.after().has("USER"))
                    .as("after: %s", result.after())
                    .isTrue();
            assertThat(result.after().find("SASL")).hasValue("SASL PLAIN LOGIN");
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.send("USER " + dovecot.user()).readLine()).startsWith("+OK");
            assertThat(lines.send("PASS " + dovecot.password()).readLine()).startsWith("+OK");
            assertThat(lines.send("STAT").readLine()).startsWith("+OK 0 0");
            assertThat(lines.send("QUIT").readLine()).startsWith("+OK");
            assertThat(OurClient.dovecotLoginLine(dovecot, attempt.localPort()))
                    .as(version)
                    .contains("pop3-login: Info: Login: user=<" + dovecot.user() + ">")
                    .contains("rip=" + Peers.OTHER_LOOPBACK)
                    .contains(", TLS,");
        }
    }

    @Test
    void imapsImplicitTlsThenLogin() throws Exception {
        var client = OurClient.client(Protocol.IMAP, SecurityLevel.VERIFY, pki.trust(), true);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, Peers.OTHER_LOOPBACK, dovecot.imapsPort())) {
            ClientSession session = attempt.session();
            System.out.println(version + " IMAPS: " + OurClient.describe(session));
            assertImplicit(session);
            Result result = session.result().orElseThrow();
            assertThat(result.after().has("STARTTLS"))
                    .as("after: %s", result.after())
                    .isFalse();
            assertThat(result.after().has("LOGINDISABLED")).isFalse();
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.imap("a", "LOGIN " + dovecot.user() + " " + dovecot.password()))
                    .startsWith("a OK");
            assertThat(lines.imap("b", "LOGOUT")).startsWith("b OK");
        }
    }

    @Test
    void pop3sImplicitTlsThenLogin() throws Exception {
        var client = OurClient.client(Protocol.POP3, SecurityLevel.VERIFY, pki.trust(), true);
        try (OurClient.Attempt attempt = OurClient.negotiate(client, Peers.OTHER_LOOPBACK, dovecot.pop3sPort())) {
            ClientSession session = attempt.session();
            System.out.println(version + " POP3S: " + OurClient.describe(session));
            assertImplicit(session);
            assertThat(session.result().orElseThrow().after().has("STLS")).isFalse();
            Lines lines = Lines.on(session.socket().orElseThrow());
            assertThat(lines.send("USER " + dovecot.user()).readLine()).startsWith("+OK");
            assertThat(lines.send("PASS " + dovecot.password()).readLine()).startsWith("+OK");
            assertThat(lines.send("QUIT").readLine()).startsWith("+OK");
        }
    }

    @Test
    void probeImapReportsTls() {
        OurClient.CliRun run = OurClient.probe(
                "imap://" + dovecot.host() + ":" + dovecot.imapPort(), SecurityLevel.VERIFY, pki.caFile());
        System.out.println(version + " optls probe: " + run.out().strip());
        JsonNode json = run.json();
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(json.path("outcome").asText()).isEqualTo("tls");
        assertThat(json.path("verification").path("result").asText()).isEqualTo("valid");
        assertThat(json.path("capabilities").path("before").toString()).contains("STARTTLS");
        assertThat(json.path("capabilities").path("after").toString()).doesNotContain("STARTTLS");
    }

    private void assertUpgraded(ClientSession session) {
        assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.TLS);
        assertThat(session.result().orElseThrow().ending()).isEqualTo(Result.Ending.UPGRADED);
        assertTls(session);
    }

    private void assertImplicit(ClientSession session) {
        assertThat(session.status()).as(version + ": " + session).isEqualTo(ClientSession.Status.TLS);
        assertThat(session.result().orElseThrow().ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        assertTls(session);
    }

    private void assertTls(ClientSession session) {
        assertThat(session.result().orElseThrow().tlsActive()).isTrue();
        assertThat(session.failure()).isEmpty();
        assertThat(session.tls().orElseThrow().protocolVersion()).isIn("TLSv1.3", "TLSv1.2");
        // ALPN: Dovecot may or may not select the protocol's id; recorded by describe(), not asserted.
        assertThat(session.tls().orElseThrow().applicationProtocol())
                .isIn("", session.protocol().alpn().orElse(""));
        assertThat(session.verification().orElseThrow().valid()).isTrue();
        assertThat(session.socket()).get().isInstanceOf(SSLSocket.class);
    }
}
