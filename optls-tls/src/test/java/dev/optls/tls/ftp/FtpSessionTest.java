package dev.optls.tls.ftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.ftp.FtpReply;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Our FTP client session against our read-only FTP server, over loopback, with protected data channels. */
class FtpSessionTest {
    private static final TestPki PKI = TestPki.create();
    private static final Credential CREDENTIAL = PKI.issue("localhost");
    private static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));
    private static final FtpFiles FILES = FtpFiles.of(Map.of(
            "/pub/hello.txt", "hello over TLS\n".getBytes(StandardCharsets.US_ASCII),
            "/pub/sub/deep.bin", new byte[] {1, 2, 3},
            "/readme", new byte[0]));

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<FtpReadOnlyServer.DataConnection> data = new CopyOnWriteArrayList<>();
    private ServerSocket listener;

    @AfterEach
    void stop() throws IOException {
        if (listener != null) {
            listener.close();
        }
        pool.shutdownNow();
    }

    private int start(FtpServerPolicy policy, TlsProfile profile, boolean implicit) throws IOException {
        return start(policy, profile, implicit, true);
    }

    private int start(FtpServerPolicy policy, TlsProfile profile, boolean implicit, boolean required)
            throws IOException {
        ServerTls serverTls =
                ServerTls.create(CREDENTIAL.chain(), CREDENTIAL.privateKey(), Optional.of("ftp"), profile);
        ServerOptions options = ServerOptions.offering("ftp.test", Capabilities.of("EPSV", "UTF8"))
                .withTlsRequired(required);
        FtpReadOnlyServer server =
                new FtpReadOnlyServer(options, Optional.of(serverTls), TIMEOUTS, FILES, policy, data::add);
        listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        pool.submit(() -> {
            while (!listener.isClosed()) {
                Socket s = listener.accept();
                pool.submit(() -> implicit ? server.serveImplicit(s) : server.serve(s));
            }
            return null;
        });
        return listener.getLocalPort();
    }

    private static ClientTls clientTls(TlsProfile profile) {
        return ClientTls.create(
                SecurityLevel.VERIFY,
                TrustAnchors.of(PKI.trustStore()),
                ReferenceIdentity.of("localhost"),
                Protocol.FTP.alpn(),
                profile);
    }

    private static FtpClientSession connect(ClientTls tls, int port, boolean implicit) throws IOException {
        ClientSession control = new StartTlsClient(
                        Protocol.FTP, ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(implicit), tls, TIMEOUTS)
                .connect("localhost", port);
        assertThat(control.status()).as(control.toString()).isEqualTo(ClientSession.Status.TLS);
        return FtpClientSession.over(control, Optional.of(tls), TIMEOUTS, Limits.DEFAULT);
    }

    @Test
    void listsAndRetrievesOverDataChannelsThatResumeTheControlSessionAtTls13() throws Exception {
        int port = start(FtpServerPolicy.SECURE, TlsProfile.modern(), false);
        ClientTls tls = clientTls(TlsProfile.modern());
        try (FtpClientSession ftp = connect(tls, port, false)) {
            ftp.login("anonymous", "optls@");
            ftp.protectData();
            FtpTransfer listing = ftp.list("/pub");
            assertThat(listing.text())
                    .contains("hello.txt")
                    .contains("dr-xr-xr-x")
                    .contains(" sub\r\n");
            assertThat(listing.tlsProtected()).isTrue();
            assertThat(listing.tlsVersion()).isEqualTo("TLSv1.3");
            assertThat(listing.resumed())
                    .as("client saw no certificate on the data connection")
                    .isTrue();
            assertThat(listing.closeNotify()).isTrue();
            assertThat(listing.completion().code()).isEqualTo(226);
            // A second data connection resumes again (TLS 1.3 tickets are single-use: a new one is needed).
            FtpTransfer file = ftp.retrieve("/pub/hello.txt");
            assertThat(file.text()).isEqualTo("hello over TLS\n");
            assertThat(file.resumed()).isTrue();
            assertThat(ftp.nameList("pub/sub").text()).isEqualTo("deep.bin\r\n");
            ftp.quit();
        }
        assertThat(data).hasSize(3).allSatisfy(d -> {
            assertThat(d.resumed()).as(d.toString()).isTrue();
            assertThat(d.reply()).startsWith("226");
        });
    }

    @Test
    void implicitTlsOnFtps() throws Exception {
        int port = start(FtpServerPolicy.SECURE, TlsProfile.modern(), true);
        ClientTls tls = clientTls(TlsProfile.modern());
        try (FtpClientSession ftp = connect(tls, port, true)) {
            ftp.login("anonymous", "x");
            ftp.protectData();
            assertThat(ftp.list("").text()).contains("pub").contains("readme");
        }
        assertThat(data).singleElement().satisfies(d -> assertThat(d.resumed()).isTrue());
    }

    /** A data connection with a fresh TLS context (what Commons Net does): JSSE cannot resume it. */
    private static String listWithoutResumption(FtpClientSession ftp, ClientTls otherTls) throws Exception {
        FtpReply epsv = ftp.command("EPSV");
        Matcher m = Pattern.compile("\\|\\|\\|(\\d+)\\|").matcher(epsv.text());
        assertThat(m.find()).as(epsv.summary()).isTrue();
        try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(m.group(1)))) {
            assertThat(ftp.command("LIST").code()).isEqualTo(150);
            TlsConnection c = otherTls.layer(plain, "localhost", plain.getPort(), 10_000);
            byte[] received = c.socket().getInputStream().readAllBytes();
            c.socket().close();
            return new String(received, StandardCharsets.UTF_8) + "|"
                    + ftp.command("NOOP").summary();
        }
    }

    @Test
    void refusesADataConnectionThatDoesNotResumeTheSessionByDefault() throws Exception {
        int port = start(FtpServerPolicy.SECURE, TlsProfile.modern(), false);
        try (FtpClientSession ftp = connect(clientTls(TlsProfile.modern()), port, false)) {
            ftp.login("anonymous", "x");
            ftp.protectData();
            String seen = listWithoutResumption(ftp, clientTls(TlsProfile.modern()));
            // The 522 is the completion reply of LIST; NOOP's 200 follows it.
            assertThat(seen).startsWith("|522 TLS session of data connection not resumed");
        }
        assertThat(data).singleElement().satisfies(d -> {
            assertThat(d.resumed()).isFalse();
            assertThat(d.reply()).startsWith("522");
        });
    }

    @Test
    void servesAFreshDataSessionWhenReuseIsNotRequired() throws Exception {
        int port = start(FtpServerPolicy.SECURE.withRequireSessionReuse(false), TlsProfile.modern(), false);
        try (FtpClientSession ftp = connect(clientTls(TlsProfile.modern()), port, false)) {
            ftp.login("anonymous", "x");
            ftp.protectData();
            String seen = listWithoutResumption(ftp, clientTls(TlsProfile.modern()));
            assertThat(seen).contains("pub").contains("|226 Transfer complete.");
        }
        assertThat(data).singleElement().satisfies(d -> assertThat(d.resumed()).isFalse());
    }

    @Test
    void clearDataIsRefusedUnderRequiredTls() throws Exception {
        int port = start(FtpServerPolicy.SECURE, TlsProfile.modern(), false);
        try (FtpClientSession ftp = connect(clientTls(TlsProfile.modern()), port, false)) {
            assertThat(ftp.command("LIST").code()).isEqualTo(530);
            ftp.login("anonymous", "x");
            assertThat(ftp.command("PROT P").code()).isEqualTo(503);
            assertThat(ftp.command("PBSZ 0").code()).isEqualTo(200);
            assertThat(ftp.command("PROT C").code()).isEqualTo(534);
            assertThat(ftp.command("CCC").code()).isEqualTo(533);
            assertThatThrownBy(() -> ftp.list("/"))
                    .isInstanceOf(FtpReplyException.class)
                    .hasMessageContaining("521");
        }
    }

    /** RFC 2228 §3 / protocols.md §8.3: a login made in plaintext does not survive AUTH TLS. */
    @Test
    void aPlaintextLoginIsForgottenAfterAuthTls() throws Exception {
        int port = start(FtpServerPolicy.SECURE, TlsProfile.modern(), false, false);
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(10_000);
            ControlChannel plain = new ControlChannel(raw, Limits.DEFAULT);
            assertThat(plain.reply().code()).isEqualTo(220);
            plain.send("USER anonymous");
            assertThat(plain.reply().code()).isEqualTo(331);
            plain.send("PASS x");
            assertThat(plain.reply().code()).isEqualTo(230);
            plain.send("AUTH TLS");
            assertThat(plain.reply().code()).isEqualTo(234);
            TlsConnection tls = clientTls(TlsProfile.modern()).layer(raw, "localhost", port, 10_000);
            ControlChannel protectedChannel = new ControlChannel(tls.socket(), Limits.DEFAULT);
            protectedChannel.send("PWD");
            FtpReply pwd = protectedChannel.reply();
            assertThat(pwd.code()).as(pwd.summary()).isEqualTo(530);
            protectedChannel.send("QUIT");
            assertThat(protectedChannel.reply().code()).isEqualTo(221);
        }
    }
}
