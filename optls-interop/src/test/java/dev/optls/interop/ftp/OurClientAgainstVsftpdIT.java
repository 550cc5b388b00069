package dev.optls.interop.ftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.FailureKind;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.ftp.FtpClientSession;
import dev.optls.tls.ftp.FtpReplyException;
import dev.optls.tls.ftp.FtpTransfer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * OUR FTP client against a real vsftpd 3 with {@code ssl_enable=YES}, {@code require_ssl_reuse=YES} and
 * data forced over TLS (at TLS 1.3, and capped at TLS 1.2), and against vsftpd without TLS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OurClientAgainstVsftpdIT {
    private TestPki pki;
    private VsftpdServer tls13;
    private VsftpdServer tls12;
    private VsftpdServer plain;
    private String version;

    @BeforeAll
    void start() {
        Peers.requireRoot();
        Peers.requireCommand("vsftpd", "vsftpd");
        version = VsftpdServer.version();
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        tls13 = new VsftpdServer(leaf, true, false);
        tls12 = new VsftpdServer(leaf, true, true);
        plain = new VsftpdServer(leaf, false, false);
    }

    @AfterAll
    void stop() {
        for (VsftpdServer s : new VsftpdServer[] {tls13, tls12, plain}) {
            if (s != null) {
                s.close();
            }
        }
    }

    private void listsAndDownloads(VsftpdServer server, String expectedTls) throws Exception {
        ClientTls tls = OurFtpClient.tls(pki, SecurityLevel.VERIFY);
        ClientSession control = OurFtpClient.connect(tls, SecurityLevel.VERIFY, server.port(), false);
        assertThat(control.failure()).as(version).isEmpty();
        assertThat(control.status()).as(version).isEqualTo(ClientSession.Status.TLS);
        assertThat(control.tls().orElseThrow().protocolVersion()).as(version).isEqualTo(expectedTls);
        assertThat(control.result().orElseThrow().before().entries())
                .as(version)
                .contains("AUTH TLS");
        try (FtpClientSession ftp = OurFtpClient.session(control, tls)) {
            ftp.login("anonymous", "optls@example.org");
            ftp.protectData();
            FtpTransfer listing = ftp.list("/pub");
            assertThat(listing.text()).as(version).contains("hello.txt");
            // require_ssl_reuse=YES: vsftpd would have answered 522 to a fresh session.
            assertThat(listing.resumed()).as(version + ": " + server.log()).isTrue();
            assertThat(listing.tlsVersion()).as(version).isEqualTo(expectedTls);
            assertThat(listing.closeNotify())
                    .as(version + ": vsftpd sends close_notify")
                    .isTrue();
            FtpTransfer file = ftp.retrieve("/pub/hello.txt");
            assertThat(file.data()).as(version).isEqualTo(VsftpdServer.HELLO);
            assertThat(file.resumed()).as(version).isTrue();
            ftp.quit();
        }
        assertThat(server.log()).as(version).contains(expectedTls).contains(", reused,");
    }

    @Test
    void verifyListsAndDownloadsOverResumedDataChannelsAtTls13() throws Exception {
        listsAndDownloads(tls13, "TLSv1.3");
    }

    /**
     * vsftpd 3.0.3 at TLS 1.2 sends no session id and a session ticket with a lifetime of 2^31-1 s, which
     * JSSE discards (RFC 8446 §4.6.1's 7-day cap, applied to TLS 1.2 too): no resumption, 522. With {@code
     * -Djdk.tls.client.enableSessionTicketExtension=false} (JVM-wide, read once) OpenSSL falls back to
     * session ids and the listing works; this test checks whichever applies to the running JVM.
     */
    @Test
    void atTls12ResumptionDependsOnTheJdkTicketSetting() throws Exception {
        if ("false".equals(System.getProperty("jdk.tls.client.enableSessionTicketExtension"))) {
            listsAndDownloads(tls12, "TLSv1.2");
            return;
        }
        ClientTls tls = OurFtpClient.tls(pki, SecurityLevel.VERIFY);
        ClientSession control = OurFtpClient.connect(tls, SecurityLevel.VERIFY, tls12.port(), false);
        assertThat(control.tls().orElseThrow().protocolVersion()).as(version).isEqualTo("TLSv1.2");
        try (FtpClientSession ftp = OurFtpClient.session(control, tls)) {
            ftp.login("anonymous", "x");
            ftp.protectData();
            assertThatThrownBy(() -> ftp.list("/pub"))
                    .as(version)
                    .isInstanceOf(FtpReplyException.class)
                    .hasMessageContaining("522")
                    .hasMessageContaining("-Djdk.tls.client.enableSessionTicketExtension=false");
        }
        assertThat(tls12.log()).as(version).contains("not reused");
    }

    @Test
    void vsftpdRefusesADataConnectionThatDoesNotResume() throws Exception {
        ClientTls tls = OurFtpClient.tls(pki, SecurityLevel.VERIFY);
        ClientSession control = OurFtpClient.connect(tls, SecurityLevel.VERIFY, tls13.port(), false);
        try (FtpClientSession ftp = OurFtpClient.session(control, tls)) {
            ftp.login("anonymous", "x");
            ftp.protectData();
            String seen = OurFtpClient.listWithoutResumption(ftp, OurFtpClient.tls(pki, SecurityLevel.VERIFY));
            assertThat(seen).as(version).contains("|522 ").doesNotContain("hello");
        }
    }

    @Test
    void mayUpgrades() throws Exception {
        ClientTls tls = OurFtpClient.tls(pki, SecurityLevel.MAY);
        try (ClientSession control = OurFtpClient.connect(tls, SecurityLevel.MAY, tls13.port(), false)) {
            assertThat(control.status()).as(version).isEqualTo(ClientSession.Status.TLS);
        }
    }

    @Test
    void requiredLevelFailsClosedAgainstVsftpdWithoutTls() throws Exception {
        ClientTls tls = OurFtpClient.tls(pki, SecurityLevel.VERIFY);
        try (ClientSession control = OurFtpClient.connect(tls, SecurityLevel.VERIFY, plain.port(), false)) {
            assertThat(control.status()).as(version).isEqualTo(ClientSession.Status.FAILED);
            assertThat(control.socket()).isEmpty();
            // vsftpd without SSL lists no AUTH in FEAT and answers AUTH TLS with 530.
            assertThat(control.failure().orElseThrow().kind()).as(version).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(control.failure().orElseThrow().detail()).as(version).contains("530");
        }
        assertThat(plain.log()).as(version).contains("\"AUTH TLS\"").doesNotContain("\"USER ");
    }

    @Test
    void mayFallsBackToPlaintextAndListsInClearAgainstVsftpdWithoutTls() throws Exception {
        ClientTls tls = OurFtpClient.tls(pki, SecurityLevel.MAY);
        ClientSession control = OurFtpClient.connect(tls, SecurityLevel.MAY, plain.port(), false);
        assertThat(control.status()).as(version).isEqualTo(ClientSession.Status.PLAINTEXT);
        assertThat(control.failure().orElseThrow().kind()).as(version).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        try (FtpClientSession ftp = OurFtpClient.session(control, tls)) {
            ftp.login("anonymous", "x");
            FtpTransfer listing = ftp.list("/pub");
            assertThat(listing.text()).as(version).contains("hello.txt");
            assertThat(listing.tlsProtected()).isFalse();
        }
    }
}
