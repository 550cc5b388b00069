package dev.optls.interop.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Failure;
import dev.optls.gateway.ConfigLoader;
import dev.optls.gateway.Gateway;
import dev.optls.gateway.GatewayConfig;
import dev.optls.gateway.Reasons;
import dev.optls.gateway.Route;
import dev.optls.interop.ftp.VsftpdServer;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TlsSessionInfo;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real FTPS clients through the gateway to vsftpd without any TLS ({@code ssl_enable=NO}): lftp (ssl-force,
 * ssl-protect-data) and curl ({@code --ssl-reqd}) through an AUTH TLS route, curl {@code ftps://} through
 * an implicit-TLS route. Every data connection is TLS from the client (resuming the control session, which
 * the gateway requires) and plaintext to vsftpd; downloaded and uploaded files are compared byte for byte, and
 * an abandoned download (ABOR) leaves the control connection usable. A client that asks for clear data (PROT C)
 * is refused.
 */
class GatewayFtpIT {
    private static Peers.PeerDirectory dir;
    private static Path ca;
    private static VsftpdServer vsftpd;
    private static Gateway gateway;
    private static int ftpPort;
    private static int ftpsPort;
    private static int jdkPort;
    private static final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Peers.requireCommand("vsftpd", "vsftpd");
        Peers.requireCommand("lftp", "lftp");
        Peers.requireCommand("curl", "curl");
        dir = Peers.tempDir("gateway-ftp");
        TestPki pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        leaf.writePem(dir.path(), "gateway");
        ca = pki.writeCaPem(dir.resolve("ca.pem"));
        vsftpd = new VsftpdServer(leaf, false, false);
        ftpPort = Peers.freePort();
        ftpsPort = Peers.freePort();
        jdkPort = Peers.freePort();
        GatewayConfig config = ConfigLoader.load(Files.writeString(dir.resolve("gateway.toml"), """
                [[route]]
                name = "ftp"
                protocol = "ftp"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "gateway.crt"
                key = "gateway.key"
                reply-timeout = "10s"

                [[route]]
                name = "ftps"
                protocol = "ftp"
                listen-tls = "implicit"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "gateway.crt"
                key = "gateway.key"
                reply-timeout = "10s"

                [[route]]
                name = "ftp-jdk"
                protocol = "ftp"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "gateway.crt"
                key = "gateway.key"
                engine = "jdk"
                """.formatted(
                        ftpPort, vsftpd.port(), ftpsPort, vsftpd.port(), jdkPort, vsftpd.port())));
        gateway = Gateway.start(config, new Gateway.Events() {
            @Override
            public void relaying(Route route, SocketAddress client, TlsSessionInfo tls) {
                events.add("relaying " + route.name() + " " + tls.protocolVersion());
            }

            @Override
            public void refused(Route route, SocketAddress client, Failure failure) {
                events.add("refused " + route.name() + " " + failure);
            }

            @Override
            public void ftpRefused(Route route, SocketAddress client, String reason, String detail) {
                events.add("ftp-refused " + route.name() + " " + reason + " " + detail);
            }
        });
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (vsftpd != null) {
            vsftpd.close();
        }
        if (dir != null) {
            dir.close();
        }
    }

    private static String why(String what, Peers.CommandResult r) {
        return what + " → gateway → " + VsftpdServer.version() + " (ssl_enable=NO):\n" + r.output() + "\nevents: "
                + events + "\nvsftpd log:\n" + vsftpd.log();
    }

    private static List<String> ftpRefusals() {
        return events.stream().filter(e -> e.startsWith("ftp-refused")).toList();
    }

    /** The FTP refusals since {@code before} of them (the tests share one gateway). */
    private static List<String> ftpRefusalsSince(int before) {
        List<String> all = ftpRefusals();
        return all.subList(before, all.size());
    }

    @Test
    void lftpListsAndGetsThroughAnAuthTlsRoute() throws Exception {
        int before = ftpRefusals().size();
        Path big = dir.resolve("lftp-big.bin");
        Peers.CommandResult r = lftp(ftpPort, "cls -1 /pub", "cat /pub/hello.txt", "get /pub/big.bin -o " + big);
        String why = why("lftp", r);
        assertThat(r.exitCode()).as(why).isZero();
        // No "Fatal error": every data connection ended with close_notify, the control connection too.
        assertThat(r.output())
                .as(why)
                .contains("hello.txt")
                .contains("big.bin")
                .contains("hello from vsftpd")
                .doesNotContain("Fatal error");
        assertThat(Files.readAllBytes(big)).as(why).isEqualTo(VsftpdServer.BIG);
        // vsftpd saw the session in plaintext, never a security command (the gateway answered them).
        String log = vsftpd.log();
        assertThat(log).as(why).contains("\"LIST").containsPattern("\"RETR [^\"]*big.bin\"");
        assertThat(log)
                .as(why)
                .doesNotContain("\"AUTH")
                .doesNotContain("\"PBSZ")
                .doesNotContain("\"PROT");
        assertThat(ftpRefusalsSince(before)).as(why).isEmpty();
    }

    @Test
    void lftpUploadsThroughAnAuthTlsRouteAndCurlThroughTheImplicitOne() throws Exception {
        int before = ftpRefusals().size();
        byte[] upload = Arrays.copyOf(VsftpdServer.BIG, VsftpdServer.BIG.length - 1000);
        Path local = Files.write(dir.resolve("upload.bin"), upload);
        Peers.CommandResult r = lftp(ftpPort, "put " + local + " -o /incoming/lftp.bin");
        String why = why("lftp put", r);
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(vsftpd.uploaded("lftp.bin")).as(why).isEqualTo(upload);

        Peers.CommandResult c =
                curl("ftps://" + Peers.LOOPBACK + ":" + ftpsPort + "/incoming/curl.bin", "-T", local.toString());
        String whyCurl = why("curl -T (implicit)", c);
        assertThat(c.exitCode()).as(whyCurl).isZero();
        assertThat(vsftpd.uploaded("curl.bin")).as(whyCurl).isEqualTo(upload);
        assertThat(vsftpd.log())
                .as(whyCurl)
                .containsPattern("\"STOR [^\"]*lftp.bin\"")
                .containsPattern("\"STOR [^\"]*curl.bin\"");
        assertThat(ftpRefusalsSince(before)).as(whyCurl).isEmpty();
    }

    /**
     * lftp abandons a download after 1,000 bytes (its {@code cat} into a {@code head} that exits) while vsftpd
     * is still sending: it closes the data connection and sends ABOR (RFC 959 §4.1.3). The gateway lets the
     * transfer's final reply through first, then forwards ABOR and relays its reply, so the control connection
     * stays in step: the listing and the file read after it on the same connection are right.
     */
    @Test
    void anAbandonedDownloadLeavesTheControlConnectionInStep() throws Exception {
        int before = ftpRefusals().size();
        Peers.CommandResult r =
                lftp(ftpPort, "cat /pub/huge.bin | head -c 1000 >/dev/null", "cls -1 /pub", "cat /pub/hello.txt");
        String why = why("lftp cat | head", r);
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("big.bin").contains("hello from vsftpd");
        // vsftpd (no asynchronous ABOR) fails the transfer (426), then answers ABOR (225); the listing and the
        // next download follow on the same session, with no new connection in between.
        String sameSession = "(?:(?!CONNECT:)[\\s\\S])*";
        assertThat(vsftpd.log())
                .as(why)
                .containsPattern(String.join(
                        sameSession, "\"426 ", "\"ABOR\"", "\"225 ", "\"LIST\"", "\"RETR pub/hello\\.txt\""));
        assertThat(ftpRefusalsSince(before)).as(why).isEmpty();
    }

    @Test
    void curlListsAndDownloadsWithSslReqd() throws Exception {
        int before = ftpRefusals().size();
        String base = "ftp://" + Peers.LOOPBACK + ":" + ftpPort;
        Peers.CommandResult list = curl(base + "/pub/");
        String why = why("curl --ssl-reqd", list);
        assertThat(list.exitCode()).as(why).isZero();
        assertThat(list.output()).as(why).contains("hello.txt").contains("big.bin");
        Path hello = dir.resolve("curl-hello.txt");
        Path big = dir.resolve("curl-big.bin");
        Peers.CommandResult get = curl(base + "/pub/hello.txt", "-o", hello.toString());
        assertThat(get.exitCode()).as(why("curl --ssl-reqd", get)).isZero();
        assertThat(Files.readAllBytes(hello)).isEqualTo(VsftpdServer.HELLO);
        Peers.CommandResult getBig = curl(base + "/pub/big.bin", "-o", big.toString());
        assertThat(getBig.exitCode()).as(why("curl --ssl-reqd", getBig)).isZero();
        assertThat(Files.readAllBytes(big)).isEqualTo(VsftpdServer.BIG);
        assertThat(ftpRefusalsSince(before)).as(why).isEmpty();
    }

    @Test
    void curlFtpsThroughTheImplicitRoute() throws Exception {
        int before = ftpRefusals().size();
        String base = "ftps://" + Peers.LOOPBACK + ":" + ftpsPort;
        Peers.CommandResult list = curl(base + "/pub/");
        String why = why("curl ftps://", list);
        assertThat(list.exitCode()).as(why).isZero();
        assertThat(list.output()).as(why).contains("hello.txt");
        // The backend's own greeting reaches the client over TLS on the implicit route.
        assertThat(list.output()).as(why).contains("220 (vsFTPd");
        Path big = dir.resolve("ftps-big.bin");
        Peers.CommandResult get = curl(base + "/pub/big.bin", "-o", big.toString());
        assertThat(get.exitCode()).as(why("curl ftps://", get)).isZero();
        assertThat(Files.readAllBytes(big)).isEqualTo(VsftpdServer.BIG);
        assertThat(ftpRefusalsSince(before)).as(why).isEmpty();
    }

    /**
     * The JDK engine on the gateway: GnuTLS (lftp) and OpenSSL (curl) data connections resume JSSE's TLS 1.3
     * session (PSK from its ticket), which the gateway recognises by the session's creation time (ADR 0002).
     */
    @Test
    void lftpAndCurlResumeWithTheJdkEngine() throws Exception {
        int before = ftpRefusals().size();
        Peers.CommandResult lftp = lftp(jdkPort, "cls -1 /pub", "cat /pub/hello.txt");
        String why = why("lftp (JDK engine)", lftp);
        assertThat(lftp.exitCode()).as(why).isZero();
        assertThat(lftp.output()).as(why).contains("big.bin").contains("hello from vsftpd");
        Path big = dir.resolve("jdk-big.bin");
        Peers.CommandResult curl =
                curl("ftp://" + Peers.LOOPBACK + ":" + jdkPort + "/pub/big.bin", "-o", big.toString());
        assertThat(curl.exitCode()).as(why("curl (JDK engine)", curl)).isZero();
        assertThat(Files.readAllBytes(big)).isEqualTo(VsftpdServer.BIG);
        assertThat(ftpRefusalsSince(before)).as(why).isEmpty();
    }

    @Test
    void openSslStartTlsFtpVerifiesTheGatewayAndLogsIn() {
        Peers.requireCommand("openssl", "openssl");
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(20),
                "USER anonymous\nPASS x\nPBSZ 0\nPROT P\nPWD\nQUIT\n",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        "ftp",
                        "-connect",
                        Peers.LOOPBACK + ":" + ftpPort,
                        "-CAfile",
                        ca.toString(),
                        "-verify_return_error",
                        "-verify_ip",
                        Peers.LOOPBACK,
                        "-crlf",
                        "-ign_eof",
                        "-brief"));
        String why = why("openssl s_client -starttls ftp", r);
        assertThat(r.exitCode()).as(why).isZero();
        // PBSZ/PROT answered by the gateway; USER, PASS, PWD and QUIT by vsftpd, over TLS.
        assertThat(r.output())
                .as(why)
                .contains("Verification: OK")
                .contains("230 Login successful.")
                .contains("200 PBSZ=0")
                .contains("200 PROT now Private")
                .contains("257 \"/\"")
                .contains("221 Goodbye.");
    }

    /** curl --ftp-ssl-control protects the login only and asks for clear data (PROT C): refused (534). */
    @Test
    void clearDataIsRefused() {
        int before = ftpRefusals().size();
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(30),
                null,
                List.of(
                        "curl",
                        "-sS",
                        "-v",
                        "--ftp-ssl-control",
                        "--cacert",
                        ca.toString(),
                        "ftp://" + Peers.LOOPBACK + ":" + ftpPort + "/pub/hello.txt"));
        String why = why("curl --ftp-ssl-control", r);
        assertThat(r.exitCode()).as(why).isNotZero();
        assertThat(r.output()).as(why).contains("534 PROT C refused").doesNotContain("hello from vsftpd");
        assertThat(ftpRefusalsSince(before))
                .as(why)
                .anySatisfy(e -> assertThat(e).contains(Reasons.FTP_PROT_CLEAR));
    }

    /** lftp with TLS forced on control and data, logged in anonymously on {@code port}, running {@code commands}. */
    private static Peers.CommandResult lftp(int port, String... commands) {
        List<String> script = new java.util.ArrayList<>(List.of(
                "set ssl:ca-file " + ca,
                "set ftp:ssl-force true",
                "set ftp:ssl-protect-data true",
                "set net:max-retries 1",
                "set net:timeout 10",
                "open -u anonymous,x -p " + port + " " + Peers.LOOPBACK));
        script.addAll(List.of(commands));
        return Peers.run(Duration.ofSeconds(60), "lftp", "-c", String.join("; ", script));
    }

    private static Peers.CommandResult curl(String url, String... more) {
        List<String> command = new java.util.ArrayList<>(
                List.of("curl", "-sS", "-v", "--ssl-reqd", "--cacert", ca.toString(), "--max-time", "30"));
        command.addAll(List.of(more));
        command.add(url);
        return Peers.run(Duration.ofSeconds(40), null, command);
    }
}
