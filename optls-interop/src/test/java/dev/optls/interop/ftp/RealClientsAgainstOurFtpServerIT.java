package dev.optls.interop.ftp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.interop.peers.OpenSsl;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ftp.FtpReadOnlyServer;
import dev.optls.tls.ftp.FtpServerPolicy;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.net.ftp.FTPFile;
import org.apache.commons.net.ftp.FTPSClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real FTP clients against OUR read-only FTP server (TLS required, data protected, session reuse required by
 * default): {@code openssl s_client -starttls ftp}, curl, lftp and Apache Commons Net {@code FTPSClient},
 * each completing a directory listing over a protected data channel where the client can.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RealClientsAgainstOurFtpServerIT {
    private final Peers.PeerDirectory dir = Peers.tempDir("ftp-clients");
    private TestPki pki;
    private Credential leaf;
    private Path caFile;
    private OurFtpServer secure;

    @BeforeAll
    void start() {
        pki = TestPki.create();
        leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        caFile = pki.writeCaPem(dir.resolve("ca.pem"));
        secure = new OurFtpServer(leaf, FtpServerPolicy.SECURE, false);
    }

    @AfterAll
    void stop() {
        if (secure != null) {
            secure.close();
        }
        dir.close();
    }

    private FtpReadOnlyServer.DataConnection lastData(OurFtpServer server) {
        List<FtpReadOnlyServer.DataConnection> all = server.data();
        assertThat(all).isNotEmpty();
        return all.get(all.size() - 1);
    }

    @Test
    void opensslStartTlsFtpVerifiesAndLogsInOverTls() throws Exception {
        String version = OpenSsl.version();
        Peers.CommandResult run = Peers.run(
                Duration.ofSeconds(20),
                "USER anonymous\nPASS x\nPBSZ 0\nPROT P\nPWD\nQUIT\n",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        "ftp",
                        "-connect",
                        Peers.LOOPBACK + ":" + secure.port(),
                        "-CAfile",
                        caFile.toString(),
                        "-verify_return_error",
                        "-verify_hostname",
                        "localhost",
                        "-alpn",
                        "ftp",
                        "-crlf",
                        "-ign_eof",
                        "-brief"));
        assertThat(run.exitCode()).as(version + ": " + run.output()).isZero();
        assertThat(run.output())
                .as(version)
                .contains("Verification: OK")
                .contains("230 Login successful.")
                .contains("200 PROT now Private.")
                .contains("257 \"/\"")
                .contains("221 Goodbye");
        assertThat(secure.next().tls()).as(version).isPresent();
    }

    @Test
    void curlListsAndDownloadsOverResumedTlsDataChannels() throws Exception {
        Peers.requireCommand("curl", "curl");
        String version = Peers.run(Duration.ofSeconds(10), "curl", "--version")
                .output()
                .lines()
                .findFirst()
                .orElse("curl");
        String base = "ftp://" + Peers.LOOPBACK + ":" + secure.port();
        Peers.CommandResult list = Peers.run(
                Duration.ofSeconds(20), "curl", "-sS", "--ssl-reqd", "--cacert", caFile.toString(), base + "/pub/");
        assertThat(list.exitCode()).as(version + ": " + list.output()).isZero();
        assertThat(list.output()).as(version).contains("hello.txt").contains("docs");
        FtpReadOnlyServer.DataConnection d = lastData(secure);
        assertThat(d.tlsProtected()).as(version + ": " + d).isTrue();
        assertThat(d.resumed())
                .as(version + ": OpenSSL resumes the control session: " + d)
                .isTrue();
        Peers.CommandResult file = Peers.run(
                Duration.ofSeconds(20),
                "curl",
                "-sS",
                "--ssl-reqd",
                "--cacert",
                caFile.toString(),
                base + "/pub/hello.txt");
        assertThat(file.output()).as(version).isEqualTo(new String(OurFtpServer.HELLO, "US-ASCII"));
    }

    @Test
    void curlOverImplicitFtps() throws Exception {
        Peers.requireCommand("curl", "curl");
        try (OurFtpServer implicit = new OurFtpServer(leaf, FtpServerPolicy.SECURE, true)) {
            Peers.CommandResult list = Peers.run(
                    Duration.ofSeconds(20),
                    "curl",
                    "-sS",
                    "--cacert",
                    caFile.toString(),
                    "ftps://" + Peers.LOOPBACK + ":" + implicit.port() + "/pub/");
            assertThat(list.exitCode()).as(list.output()).isZero();
            assertThat(list.output()).contains("hello.txt");
            assertThat(lastData(implicit).resumed()).isTrue();
        }
    }

    @Test
    void lftpListsOverProtectedResumedDataChannels() throws Exception {
        Peers.requireCommand("lftp", "lftp");
        String version = Peers.run(Duration.ofSeconds(10), "lftp", "--version")
                .output()
                .lines()
                .findFirst()
                .orElse("lftp");
        Peers.CommandResult run = Peers.run(
                Duration.ofSeconds(30),
                "lftp",
                "-c",
                String.join(
                        "; ",
                        "set ssl:ca-file " + caFile,
                        "set ftp:ssl-force true",
                        "set ftp:ssl-protect-data true",
                        "set net:max-retries 1",
                        "set net:timeout 10",
                        "open -u anonymous,x -p " + secure.port() + " " + Peers.LOOPBACK,
                        "cls -1 /pub",
                        "cat /pub/hello.txt"));
        assertThat(run.exitCode()).as(version + ": " + run.output()).isZero();
        // No "Fatal error": data and control connections end with close_notify alone (no user_canceled).
        assertThat(run.output())
                .as(version)
                .contains("hello.txt")
                .contains("hello from optls")
                .doesNotContain("Fatal error");
        FtpReadOnlyServer.DataConnection d = lastData(secure);
        assertThat(d.tlsProtected()).as(version + ": " + d).isTrue();
        assertThat(d.resumed())
                .as(version + ": GnuTLS resumes the control session: " + d)
                .isTrue();
    }

    private static FTPSClient commonsNet(TestPki pki) throws Exception {
        FTPSClient ftps = new FTPSClient(false);
        ftps.setTrustManager(pki.trustManagerFactory().getTrustManagers()[0]);
        ftps.setEndpointCheckingEnabled(true);
        ftps.setConnectTimeout(10_000);
        ftps.setDefaultTimeout(10_000);
        return ftps;
    }

    /**
     * Commons Net 3.11 layers each data connection with a new SSLSocket whose JSSE cache lookup uses the
     * data port, so it never resumes the control session (its long-standing open issue): our server's
     * secure default refuses its data connection with 522, as vsftpd does.
     */
    @Test
    void commonsNetIsRefusedByTheSecureDefaultBecauseItDoesNotResume() throws Exception {
        FTPSClient ftps = commonsNet(pki);
        try {
            ftps.connect(Peers.LOOPBACK, secure.port());
            ftps.execPBSZ(0);
            ftps.execPROT("P");
            assertThat(ftps.login("anonymous", "x")).isTrue();
            ftps.enterLocalPassiveMode();
            FTPFile[] files = ftps.listFiles("/pub");
            assertThat(files).isEmpty();
            assertThat(ftps.getReplyCode()).as(ftps.getReplyString()).isEqualTo(522);
        } finally {
            ftps.disconnect();
        }
        FtpReadOnlyServer.DataConnection d = lastData(secure);
        assertThat(d.resumed()).isFalse();
        assertThat(d.reply()).startsWith("522");
    }

    @Test
    void commonsNetListsAndRetrievesWhenReuseIsNotRequired() throws Exception {
        try (OurFtpServer lenient =
                new OurFtpServer(leaf, FtpServerPolicy.SECURE.withRequireSessionReuse(false), false)) {
            FTPSClient ftps = commonsNet(pki);
            try {
                ftps.connect(Peers.LOOPBACK, lenient.port());
                ftps.execPBSZ(0);
                ftps.execPROT("P");
                assertThat(ftps.login("anonymous", "x")).isTrue();
                ftps.enterLocalPassiveMode();
                FTPFile[] files = ftps.listFiles("/pub");
                assertThat(Arrays.stream(files).map(FTPFile::getName)).containsExactlyInAnyOrder("hello.txt", "docs");
                ftps.setFileType(FTPSClient.BINARY_FILE_TYPE);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                assertThat(ftps.retrieveFile("/pub/hello.txt", out))
                        .as(ftps.getReplyString())
                        .isTrue();
                assertThat(out.toByteArray()).isEqualTo(OurFtpServer.HELLO);
                ftps.logout();
            } finally {
                ftps.disconnect();
            }
            assertThat(lenient.data()).hasSize(2).allSatisfy(d -> {
                assertThat(d.tlsProtected()).isTrue();
                assertThat(d.resumed()).isFalse();
                assertThat(d.reply()).startsWith("226");
            });
        }
    }
}
