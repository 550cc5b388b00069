package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.ftp.FtpReply;
import dev.optls.netty.ServerEngines;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsHandshakeException;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.ftp.FtpClientSession;
import dev.optls.tls.ftp.FtpFiles;
import dev.optls.tls.ftp.FtpReadOnlyServer;
import dev.optls.tls.ftp.FtpServerPolicy;
import dev.optls.tls.ftp.FtpTransfer;
import io.netty.handler.ssl.OpenSsl;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FTPS through the gateway to a plaintext FTP backend (our read-only server without TLS): our blocking FTP
 * client logs in, protects data (PBSZ 0, PROT P) and lists and retrieves over TLS data connections that
 * resume the control session; the gateway answers PBSZ/PROT/CCC/PORT itself and refuses clear or foreign
 * data connections.
 */
class FtpRouteTest {
    private static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));
    private static final byte[] HELLO = "hello through the gateway\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BIG = new byte[3 * 1024 * 1024 + 17];
    private static TestPki pki;
    private static Credential credential;

    private final List<String> refusedReasons = new CopyOnWriteArrayList<>();
    private final List<String> backendCommands = new CopyOnWriteArrayList<>();
    private final List<FtpReadOnlyServer.DataConnection> backendData = new CopyOnWriteArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private ServerSocket backend;
    private Gateway gateway;

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        credential = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        for (int i = 0; i < BIG.length; i++) {
            BIG[i] = (byte) (i * 31 + (i >> 11));
        }
    }

    @AfterEach
    void stop() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        if (backend != null) {
            backend.close();
        }
        pool.shutdownNow();
    }

    static Stream<ServerEngines.Provider> providers() {
        return OpenSsl.isAvailable()
                ? Stream.of(ServerEngines.Provider.JDK, ServerEngines.Provider.BORINGSSL)
                : Stream.of(ServerEngines.Provider.JDK);
    }

    /** Our read-only FTP server without TLS on an ephemeral loopback port; records the commands it gets. */
    private int startBackend() throws IOException {
        FtpReadOnlyServer server = new FtpReadOnlyServer(
                ServerOptions.withoutTls("backend", Capabilities.of("EPSV", "PASV", "SIZE", "UTF8")),
                Optional.empty(),
                FAST,
                FtpFiles.of(Map.of("/pub/hello.txt", HELLO, "/pub/big.bin", BIG)),
                FtpServerPolicy.SECURE,
                backendData::add);
        backend = new RecordingServerSocket(backendCommands);
        backend.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        pool.submit(() -> {
            while (!backend.isClosed()) {
                Socket s;
                try {
                    s = backend.accept();
                } catch (IOException e) {
                    return;
                }
                pool.submit(() -> server.serve(s));
            }
        });
        return backend.getLocalPort();
    }

    private int start(Route.ListenTls listenTls, ServerEngines.Provider provider) throws IOException {
        return start(listenTls, provider, Duration.ofSeconds(5));
    }

    private int start(Route.ListenTls listenTls, ServerEngines.Provider provider, Duration replyTimeout)
            throws IOException {
        int backendPort = startBackend();
        Route route = new Route(
                "ftp",
                Protocol.FTP,
                new Route.HostPort("127.0.0.1", 0),
                listenTls,
                new Route.HostPort("127.0.0.1", backendPort),
                ServerEngines.of(
                        ServerTls.create(
                                credential.chain(), credential.privateKey(), Protocol.FTP.alpn(), TlsProfile.modern()),
                        provider),
                "localhost",
                replyTimeout,
                Duration.ofSeconds(5));
        gateway = Gateway.start(new GatewayConfig("test", List.of(route)), new Gateway.Events() {
            @Override
            public void ftpRefused(Route r, SocketAddress client, String reason, String detail) {
                refusedReasons.add(reason);
            }
        });
        return gateway.boundAddresses().get("ftp").getPort();
    }

    private static ClientTls clientTls() {
        return ClientTls.create(
                SecurityLevel.VERIFY,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.forProtocol(Protocol.FTP, "localhost"),
                Protocol.FTP.alpn(),
                TlsProfile.modern());
    }

    private record Client(ClientSession session, FtpClientSession ftp) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            session.close();
        }
    }

    private static Client connect(int port, boolean implicit) throws IOException {
        ClientTls tls = clientTls();
        ClientSession session = new StartTlsClient(
                        Protocol.FTP, ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(implicit), tls, FAST)
                .connect("127.0.0.1", port);
        assertThat(session.failure()).isEmpty();
        assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
        return new Client(session, FtpClientSession.over(session, Optional.of(tls), FAST, Limits.DEFAULT));
    }

    @ParameterizedTest
    @MethodSource("providers")
    void listsAndRetrievesOverProtectedDataThroughAStartTlsRoute(ServerEngines.Provider provider) throws Exception {
        int port = start(Route.ListenTls.STARTTLS, provider);
        try (Client c = connect(port, false)) {
            // FEAT over TLS comes from the backend, with PBSZ and PROT added (RFC 4217 §6).
            Capabilities after = c.session().result().orElseThrow().after();
            assertThat(after.has("PBSZ")).isTrue();
            assertThat(after.has("PROT")).isTrue();
            assertThat(after.has("EPSV")).as("the backend's own features").isTrue();
            c.ftp().login("anonymous", "x");
            c.ftp().protectData();
            FtpTransfer listing = c.ftp().list("/pub");
            assertThat(listing.text()).contains("hello.txt").contains("big.bin");
            assertThat(listing.completion().code()).isEqualTo(226);
            // The client's data connections resumed the control session and ended with close_notify.
            assertThat(listing.tlsProtected()).isTrue();
            assertThat(listing.resumed()).isTrue();
            assertThat(listing.closeNotify()).isTrue();
            FtpTransfer file = c.ftp().retrieve("/pub/hello.txt");
            assertThat(file.data()).isEqualTo(HELLO);
            FtpTransfer big = c.ftp().retrieve("/pub/big.bin");
            assertThat(big.data()).isEqualTo(BIG);
            assertThat(big.completion().code()).isEqualTo(226);
            c.ftp().quit();
        }
        // PBSZ and PROT never reached the plaintext backend; its data connections were plaintext.
        assertThat(backendCommands).contains("USER", "PASS", "LIST", "RETR").doesNotContain("PBSZ", "PROT", "AUTH");
        assertThat(backendData)
                .hasSize(3)
                .allSatisfy(d -> assertThat(d.tlsProtected()).isFalse());
        assertThat(refusedReasons).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("providers")
    void implicitRouteRelaysTheBackendsGreetingAndProtectedData(ServerEngines.Provider provider) throws Exception {
        int port = start(Route.ListenTls.IMPLICIT, provider);
        try (Client c = connect(port, true)) {
            assertThat(c.session().result().orElseThrow().greeting()).contains("backend");
            c.ftp().login("anonymous", "x");
            c.ftp().protectData();
            assertThat(c.ftp().retrieve("/pub/hello.txt").data()).isEqualTo(HELLO);
            c.ftp().quit();
        }
        assertThat(refusedReasons).isEmpty();
    }

    @Test
    void gatewayAnswersProtectionCommandsAndRefusesClearAndActiveData() throws Exception {
        int port = start(Route.ListenTls.STARTTLS, ServerEngines.Provider.JDK);
        try (Client c = connect(port, false)) {
            c.ftp().login("anonymous", "x");
            assertThat(c.ftp().command("PROT P").code()).as("PROT before PBSZ").isEqualTo(503);
            assertThat(c.ftp().command("EPSV").code())
                    .as("EPSV with clear data")
                    .isEqualTo(521);
            assertThat(c.ftp().command("PBSZ 0").code()).isEqualTo(200);
            assertThat(c.ftp().command("PROT C").code()).isEqualTo(534);
            assertThat(c.ftp().command("PROT E").code()).isEqualTo(536);
            assertThat(c.ftp().command("PASV").code()).as("still clear").isEqualTo(521);
            assertThat(c.ftp().command("CCC").code()).isEqualTo(533);
            assertThat(c.ftp().command("AUTH TLS").code()).isEqualTo(503);
            assertThat(c.ftp().command("PORT 127,0,0,1,4,1").code()).isEqualTo(502);
            assertThat(c.ftp().command("EPRT |1|127.0.0.1|1025|").code()).isEqualTo(502);
            assertThat(c.ftp().command("PROT P").code()).isEqualTo(200);
            assertThat(c.ftp().command("PWD").code()).as("relayed").isEqualTo(257);
            c.ftp().quit();
        }
        assertThat(backendCommands)
                .contains("USER", "PASS", "PWD")
                .doesNotContain("PBSZ", "PROT", "CCC", "AUTH", "PORT", "EPRT", "EPSV", "PASV");
        assertThat(refusedReasons)
                .containsExactly(
                        Reasons.FTP_DATA_UNPROTECTED,
                        Reasons.FTP_PROT_CLEAR,
                        Reasons.FTP_PROT_CLEAR,
                        Reasons.FTP_DATA_UNPROTECTED,
                        Reasons.FTP_ACTIVE_MODE,
                        Reasons.FTP_ACTIVE_MODE);
    }

    private static final Pattern EPSV = Pattern.compile("\\(\\|\\|\\|(\\d+)\\|\\)");

    private static int epsv(FtpClientSession ftp) throws IOException {
        FtpReply reply = ftp.command("EPSV");
        assertThat(reply.code()).isEqualTo(229);
        Matcher m = EPSV.matcher(reply.text());
        assertThat(m.find()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** RFC 4217 §10.2: a data connection with a fresh TLS session (another client's context) is refused. */
    @ParameterizedTest
    @MethodSource("providers")
    void dataConnectionThatDoesNotResumeTheControlSessionIsRefused(ServerEngines.Provider provider) throws Exception {
        int port = start(Route.ListenTls.STARTTLS, provider);
        try (Client c = connect(port, false)) {
            c.ftp().login("anonymous", "x");
            c.ftp().protectData();
            int dataPort = epsv(c.ftp());
            try (Socket data = new Socket(InetAddress.getLoopbackAddress(), dataPort)) {
                FtpReply preliminary = c.ftp().command("RETR /pub/hello.txt");
                assertThat(preliminary.code()).isEqualTo(150);
                // A new ClientTls: a new SSLContext with an empty session cache, so nothing to resume.
                byte[] got = new byte[0];
                try {
                    TlsConnection fresh = clientTls().layer(data, "127.0.0.1", dataPort, 5000);
                    got = fresh.socket().getInputStream().readAllBytes();
                } catch (TlsHandshakeException | IOException e) {
                    // Either way no data: the gateway closes the connection.
                }
                assertThat(got).isEmpty();
            }
            FtpReply finalReply = readReply(c.session().socket().orElseThrow().getInputStream());
            assertThat(finalReply.code()).isEqualTo(522);
            // The session goes on: a resumed data connection works.
            assertThat(c.ftp().retrieve("/pub/hello.txt").data()).isEqualTo(HELLO);
            c.ftp().quit();
        }
        assertThat(refusedReasons).containsExactly(Reasons.FTP_DATA_NOT_RESUMED);
    }

    /** Data port theft: a connection to the data port from another address than the client's is closed. */
    @Test
    void dataConnectionFromAnotherAddressIsClosed() throws Exception {
        int port = start(Route.ListenTls.STARTTLS, ServerEngines.Provider.JDK);
        try (Client c = connect(port, false)) {
            c.ftp().login("anonymous", "x");
            c.ftp().protectData();
            int dataPort = epsv(c.ftp());
            try (Socket thief = new Socket()) {
                thief.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
                thief.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), dataPort), 5000);
                thief.setSoTimeout(5000);
                assertThat(thief.getInputStream().read()).isEqualTo(-1);
            }
            // The port is still there for the client.
            assertThat(c.ftp().list("/pub").text()).contains("hello.txt");
            c.ftp().quit();
        }
        assertThat(refusedReasons).containsExactly(Reasons.FTP_DATA_FOREIGN);
    }

    /** The data port waits for its connection at most the reply timeout, then closes; the session goes on. */
    @Test
    void dataPortClosesWhenNoConnectionComes() throws Exception {
        int port = start(Route.ListenTls.STARTTLS, ServerEngines.Provider.JDK, Duration.ofMillis(500));
        try (Client c = connect(port, false)) {
            c.ftp().login("anonymous", "x");
            c.ftp().protectData();
            int dataPort = epsv(c.ftp());
            Thread.sleep(1500);
            assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), dataPort).close())
                    .isInstanceOf(IOException.class);
            assertThat(c.ftp().command("PWD").code()).isEqualTo(257);
            c.ftp().quit();
        }
        assertThat(refusedReasons).containsExactly(Reasons.FTP_DATA_TIMEOUT);
    }

    @Test
    void commandsBeforeAuthTlsAreAnsweredByTheGatewayNotTheBackend() throws Exception {
        int port = start(Route.ListenTls.STARTTLS, ServerEngines.Provider.JDK);
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            assertThat(readReply(in).code()).isEqualTo(220);
            out.write("USER anonymous\r\nSYST\r\nPBSZ 0\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readReply(in).code()).isEqualTo(530);
            assertThat(readReply(in).code()).isEqualTo(530);
            assertThat(readReply(in).code()).isEqualTo(503);
            assertThat(readReply(in).code()).isEqualTo(221);
        }
        // The gateway's own client only reads the backend's greeting; none of the client's commands reached it.
        assertThat(backendCommands).isEmpty();
    }

    @Test
    void commandLongerThanTheLimitClosesTheControlConnection() throws Exception {
        int port = start(Route.ListenTls.STARTTLS, ServerEngines.Provider.JDK);
        try (Client c = connect(port, false)) {
            c.ftp().login("anonymous", "x");
            FtpReply reply = c.ftp().command("NOOP " + "x".repeat(Limits.DEFAULT.maxLineLength()));
            assertThat(reply.code()).isEqualTo(500);
            assertThatThrownBy(() -> c.ftp().command("PWD")).isInstanceOf(IOException.class);
        }
        assertThat(refusedReasons).containsExactly(Reasons.FTP_COMMAND_TOO_LONG);
    }

    /** Accepts sockets that record the verb of every command line the backend reads. */
    private static final class RecordingServerSocket extends ServerSocket {
        private final List<String> verbs;

        RecordingServerSocket(List<String> verbs) throws IOException {
            this.verbs = verbs;
        }

        @Override
        public Socket accept() throws IOException {
            Socket s = new RecordingSocket(verbs);
            implAccept(s);
            return s;
        }
    }

    private static final class RecordingSocket extends Socket {
        private final List<String> verbs;
        private InputStream in;

        RecordingSocket(List<String> verbs) {
            this.verbs = verbs;
        }

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (in == null) {
                InputStream raw = super.getInputStream();
                in = new InputStream() {
                    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

                    @Override
                    public int read() throws IOException {
                        int b = raw.read();
                        see(b);
                        return b;
                    }

                    @Override
                    public int read(byte[] buf, int off, int len) throws IOException {
                        int n = raw.read(buf, off, len);
                        for (int i = 0; i < n; i++) {
                            see(buf[off + i]);
                        }
                        return n;
                    }

                    private void see(int b) {
                        if (b == '\n') {
                            String text =
                                    line.toString(StandardCharsets.US_ASCII).strip();
                            int sp = text.indexOf(' ');
                            verbs.add((sp < 0 ? text : text.substring(0, sp)).toUpperCase(java.util.Locale.ROOT));
                            line.reset();
                        } else if (b >= 0) {
                            line.write(b);
                        }
                    }
                };
            }
            return in;
        }
    }

    /** Reads one reply (RFC 959 §4.2, multi-line aware) from {@code in}. */
    static FtpReply readReply(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        String code = null;
        while (true) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                if (b != '\r') {
                    line.write(b);
                }
            }
            if (b < 0) {
                throw new IOException("connection closed; reply so far: " + lines);
            }
            String l = line.toString(StandardCharsets.UTF_8);
            if (code == null) {
                code = l.substring(0, 3);
                lines.add(l.length() > 4 ? l.substring(4) : "");
                if (l.length() == 3 || l.charAt(3) == ' ') {
                    return new FtpReply(Integer.parseInt(code), lines);
                }
            } else if (l.startsWith(code + " ")) {
                lines.add(l.substring(4));
                return new FtpReply(Integer.parseInt(code), lines);
            } else {
                lines.add(l);
            }
        }
    }
}
