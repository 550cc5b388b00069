package dev.optls.interop.peers;

import static dev.optls.interop.peers.PostfixServerIT.assertTlsEstablished;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Smoke tests of {@link DovecotServer}: each TLS mode starts and behaves as configured. */
class DovecotServerIT {

    private static Peers.PeerDirectory certs;
    private static Peers.PemFiles pem;

    @BeforeAll
    static void createCertificate() {
        Peers.requireCommand("openssl");
        certs = Peers.tempDir("dovecot-certs");
        pem = Peers.selfSignedLocalhost(certs.path());
    }

    @AfterAll
    static void deleteCertificate() {
        if (certs != null) {
            certs.close();
        }
    }

    @Test
    void withoutTlsNeitherStartTlsNorStlsIsAdvertised() {
        try (DovecotServer dovecot = DovecotServer.start(PeerTls.NONE, null)) {
            try (PlainClient imap = PlainClient.connect(dovecot.host(), dovecot.imapPort())) {
                assertThat(imap.readLine()).startsWith("* OK").doesNotContain("STARTTLS");
                List<String> capability = imap.send("a1 CAPABILITY").readUntil(l -> l.startsWith("a1 "));
                assertThat(capability).last().asString().startsWith("a1 OK");
                assertThat(capability.get(0))
                        .startsWith("* CAPABILITY IMAP4rev1")
                        .doesNotContain("STARTTLS");
                assertThat(capability.get(0)).doesNotContain("LOGINDISABLED");
                // Plaintext login works without TLS in this mode.
                assertThat(imap.send("a2 LOGIN " + dovecot.user() + " " + dovecot.password())
                                .readUntil(l -> l.startsWith("a2 ")))
                        .last()
                        .asString()
                        .startsWith("a2 OK");
            }
            try (PlainClient pop3 = PlainClient.connect(dovecot.host(), dovecot.pop3Port())) {
                assertThat(pop3.readLine()).startsWith("+OK");
                List<String> capa = pop3.send("CAPA").readUntil("."::equals);
                assertThat(capa).first().asString().startsWith("+OK");
                assertThat(capa).contains("USER").doesNotContain("STLS");
            }
            assertThatThrownBy(dovecot::imapsPort).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(dovecot::pop3sPort).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void optionalTlsOffersStartTlsStlsAndImplicitPorts() {
        try (DovecotServer dovecot = DovecotServer.start(PeerTls.OPTIONAL, pem)) {
            try (PlainClient imap = PlainClient.connect(dovecot.host(), dovecot.imapPort())) {
                imap.readLine();
                List<String> capability = imap.send("a1 CAPABILITY").readUntil(l -> l.startsWith("a1 "));
                assertThat(capability.get(0)).contains(" STARTTLS").doesNotContain("LOGINDISABLED");
            }
            try (PlainClient pop3 = PlainClient.connect(dovecot.host(), dovecot.pop3Port())) {
                pop3.readLine();
                assertThat(pop3.send("CAPA").readUntil("."::equals)).contains("STLS");
            }
            assertTlsEstablished(OpenSsl.sClient("imap", dovecot.host(), dovecot.imapPort()));
            assertTlsEstablished(OpenSsl.sClient("pop3", dovecot.host(), dovecot.pop3Port()));
            assertTlsEstablished(OpenSsl.sClient(null, dovecot.host(), dovecot.imapsPort()));
            assertTlsEstablished(OpenSsl.sClient(null, dovecot.host(), dovecot.pop3sPort()));
            assertThat(dovecot.awaitLog("TLS", Duration.ofSeconds(5))).contains("imap-login", "pop3-login");
        }
    }

    @Test
    void requiredTlsDisablesLoginBeforeStartTlsAndTheUserLogsInAfterIt() {
        Peers.requireCommand("curl");
        try (DovecotServer dovecot = DovecotServer.start(PeerTls.REQUIRED, pem)) {
            try (PlainClient imap = PlainClient.connect(dovecot.host(), dovecot.imapPort(), Peers.OTHER_LOOPBACK)) {
                imap.readLine();
                List<String> capability = imap.send("a1 CAPABILITY").readUntil(l -> l.startsWith("a1 "));
                assertThat(capability.get(0)).contains(" STARTTLS", " LOGINDISABLED");
                assertThat(imap.send("a2 LOGIN " + dovecot.user() + " " + dovecot.password())
                                .readUntil(l -> l.startsWith("a2 ")))
                        .last()
                        .asString()
                        .startsWith("a2 NO");
            }
            try (PlainClient pop3 = PlainClient.connect(dovecot.host(), dovecot.pop3Port(), Peers.OTHER_LOOPBACK)) {
                pop3.readLine();
                assertThat(pop3.send("USER " + dovecot.user()).readLine()).startsWith("-ERR");
            }
            // The quirk Peers.OTHER_LOOPBACK works around: 127.0.0.1 -> 127.0.0.1 counts as secured.
            try (PlainClient imap = PlainClient.connect(dovecot.host(), dovecot.imapPort())) {
                imap.readLine();
                List<String> capability = imap.send("a1 CAPABILITY").readUntil(l -> l.startsWith("a1 "));
                assertThat(capability.get(0)).contains(" STARTTLS").doesNotContain("LOGINDISABLED");
            }
            assertTlsEstablished(OpenSsl.sClient("imap", dovecot.host(), dovecot.imapPort()));
            assertTlsEstablished(OpenSsl.sClient("pop3", dovecot.host(), dovecot.pop3Port()));
            assertTlsEstablished(OpenSsl.sClient(null, dovecot.host(), dovecot.imapsPort()));
            assertTlsEstablished(OpenSsl.sClient(null, dovecot.host(), dovecot.pop3sPort()));
            // curl from the untrusted address: STARTTLS required, self-signed certificate accepted (-k), LIST.
            Peers.CommandResult curl = Peers.run(
                    Duration.ofSeconds(30),
                    "curl",
                    "-sS",
                    "-k",
                    "--ssl-reqd",
                    "--interface",
                    Peers.OTHER_LOOPBACK,
                    "-u",
                    dovecot.user() + ":" + dovecot.password(),
                    "imap://" + dovecot.host() + ":" + dovecot.imapPort() + "/");
            assertThat(curl.exitCode()).as(curl.output()).isZero();
            assertThat(curl.output()).contains("INBOX");
            assertThat(dovecot.awaitLog("Login: user=<" + dovecot.user() + ">", Duration.ofSeconds(5)))
                    .containsPattern("imap-login: Info: Login: user=<optls>.*rip=127\\.0\\.0\\.2.*TLS");
        }
    }

    @Test
    void closeStopsAllPorts() {
        DovecotServer dovecot = DovecotServer.start(PeerTls.OPTIONAL, pem);
        List<Integer> ports = List.of(dovecot.imapPort(), dovecot.pop3Port(), dovecot.imapsPort(), dovecot.pop3sPort());
        dovecot.close();
        assertThat(ports).noneMatch(port -> Peers.accepts(dovecot.host(), port));
    }

    @Test
    void versionIsTheInstalledDovecot() {
        Peers.requireCommand("dovecot", "dovecot-core");
        assertThat(DovecotServer.version()).matches("2\\.\\d+.*");
    }
}
