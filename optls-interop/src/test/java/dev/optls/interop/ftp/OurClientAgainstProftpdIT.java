package dev.optls.interop.ftp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.ftp.FtpClientSession;
import dev.optls.tls.ftp.FtpTransfer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** OUR FTP client against a real ProFTPD 1.3.8 with mod_tls (TLSRequired, session reuse required). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OurClientAgainstProftpdIT {
    private TestPki pki;
    private ProftpdServer tls13;
    private ProftpdServer tls12;
    private String version;

    @BeforeAll
    void start() {
        Peers.requireRoot();
        version = ProftpdServer.version();
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        tls13 = new ProftpdServer(leaf, "TLSv1.2 TLSv1.3");
        tls12 = new ProftpdServer(leaf, "TLSv1.2");
    }

    @AfterAll
    void stop() {
        for (ProftpdServer s : new ProftpdServer[] {tls13, tls12}) {
            if (s != null) {
                s.close();
            }
        }
    }

    private void listsAndDownloads(ProftpdServer server, String expectedTls) throws Exception {
        ClientTls tls = OurFtpClient.tls(pki, SecurityLevel.VERIFY);
        ClientSession control = OurFtpClient.connect(tls, SecurityLevel.VERIFY, server.port(), false);
        assertThat(control.failure()).as(version).isEmpty();
        assertThat(control.tls().orElseThrow().protocolVersion()).as(version).isEqualTo(expectedTls);
        try (FtpClientSession ftp = OurFtpClient.session(control, tls)) {
            ftp.login("anonymous", "optls@example.org");
            ftp.protectData();
            FtpTransfer listing = ftp.list("/pub");
            assertThat(listing.text()).as(version).contains("hello.txt");
            assertThat(listing.resumed()).as(version + ": " + server.tlsLog()).isTrue();
            FtpTransfer file = ftp.retrieve("/pub/hello.txt");
            assertThat(file.data()).as(version).isEqualTo(ProftpdServer.HELLO);
            assertThat(file.resumed()).as(version).isTrue();
            ftp.quit();
        }
        assertThat(server.tlsLog())
                .as(version)
                .contains("client reused TLS session for data connection")
                .contains(expectedTls + " data connection accepted");
    }

    @Test
    void verifyListsAndDownloadsOverResumedDataChannelsAtTls13() throws Exception {
        listsAndDownloads(tls13, "TLSv1.3");
    }

    @Test
    void verifyListsAndDownloadsOverResumedDataChannelsAtTls12() throws Exception {
        // ProFTPD resumes TLS 1.2 by session id (no tickets by default), which JSSE offers.
        listsAndDownloads(tls12, "TLSv1.2");
    }

    @Test
    void proftpdRefusesADataConnectionThatDoesNotResume() throws Exception {
        ClientTls tls = OurFtpClient.tls(pki, SecurityLevel.VERIFY);
        ClientSession control = OurFtpClient.connect(tls, SecurityLevel.VERIFY, tls13.port(), false);
        try (FtpClientSession ftp = OurFtpClient.session(control, tls)) {
            ftp.login("anonymous", "x");
            ftp.protectData();
            String seen = OurFtpClient.listWithoutResumption(ftp, OurFtpClient.tls(pki, SecurityLevel.VERIFY));
            assertThat(seen).as(version).doesNotContain("hello").doesNotContain("|226");
        }
        assertThat(tls13.tlsLog()).as(version).contains("did not reuse");
    }
}
