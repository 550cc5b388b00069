package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.mysql.MysqlGreeting;
import dev.optls.netty.ServerEngines;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TlsSessionInfo;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A MySQL route between our blocking client (and raw sockets) and a scripted plaintext backend that greets
 * like MariaDB 10.11 without TLS: the client gets the backend's greeting with CLIENT_SSL, its login reaches
 * the backend renumbered and without CLIENT_SSL, and a plaintext login never reaches it.
 */
class MysqlGatewayTest {
    /** MariaDB 10.11.18's greeting without TLS (captured on loopback; also in the core's tests). */
    private static final byte[] MARIADB_GREETING = HexFormat.of()
            .parseHex("640000000a352e352e352d31302e31312e31382d4d6172696144422d302b6465623132753100030000002a455b7a"
                    + "77636b7000fef7080200ff81150000000000001d0000006f5f6e2a257954787d2d632d006d7973716c5f6e6174"
                    + "6976655f70617373776f726400");

    private static final byte[] OK = HexFormat.of().parseHex("000000020000");
    private static final long CLIENT_FLAGS = 0x000FA20DL | 0x0800L; // PROTOCOL_41, SSL, PLUGIN_AUTH...
    private static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));

    private static TestPki pki;
    private static Credential credential;

    private final List<Failure> refused = new CopyOnWriteArrayList<>();
    private final List<String> relayed = new CopyOnWriteArrayList<>();
    private Gateway gateway;
    private ServerSocket backendSocket;

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        credential = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
    }

    @AfterEach
    void stop() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        if (backendSocket != null) {
            backendSocket.close();
        }
    }

    private int start(int backendPort) {
        Route route = new Route(
                "db",
                Protocol.MYSQL,
                new Route.HostPort("127.0.0.1", 0),
                Route.ListenTls.STARTTLS,
                new Route.HostPort("127.0.0.1", backendPort),
                ServerEngines.of(
                        ServerTls.create(
                                credential.chain(),
                                credential.privateKey(),
                                Protocol.MYSQL.alpn(),
                                TlsProfile.modern()),
                        ServerEngines.Provider.AUTO),
                "localhost",
                Duration.ofSeconds(5),
                Duration.ofSeconds(5));
        gateway = Gateway.start(new GatewayConfig("test", List.of(route)), new Gateway.Events() {
            @Override
            public void refused(Route r, SocketAddress client, Failure failure) {
                refused.add(failure);
            }

            @Override
            public void relaying(Route r, SocketAddress client, TlsSessionInfo tls) {
                relayed.add(tls.protocolVersion());
            }
        });
        return gateway.boundAddresses().get("db").getPort();
    }

    /** What the scripted backend received: its first packet, and whatever followed until EOF. */
    private record BackendSaw(byte[] login, byte[] rest) {}

    /**
     * A backend that sends {@code greeting}, then (if {@code answer}) reads the login, answers OK, reads a
     * command and answers OK to it too; returns what it read.
     */
    private CompletableFuture<BackendSaw> backend(byte[] greeting, boolean answer) throws IOException {
        backendSocket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ServerSocket listening = backendSocket;
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = listening.accept()) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(greeting);
                if (!answer) {
                    return new BackendSaw(new byte[0], s.getInputStream().readAllBytes());
                }
                byte[] login = readPacket(s.getInputStream());
                s.getOutputStream().write(packet(login[3] + 1, OK));
                byte[] command = readPacket(s.getInputStream());
                s.getOutputStream().write(packet(command[3] + 1, OK));
                return new BackendSaw(login, s.getInputStream().readAllBytes());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static byte[] packet(int sequence, byte[] payload) {
        byte[] p = new byte[4 + payload.length];
        p[0] = (byte) payload.length;
        p[1] = (byte) (payload.length >> 8);
        p[2] = (byte) (payload.length >> 16);
        p[3] = (byte) sequence;
        System.arraycopy(payload, 0, p, 4, payload.length);
        return p;
    }

    private static byte[] readPacket(InputStream in) throws IOException {
        byte[] header = in.readNBytes(4);
        if (header.length < 4) {
            throw new EOFException("connection closed before a packet");
        }
        int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
        byte[] payload = in.readNBytes(length);
        byte[] p = Arrays.copyOf(header, 4 + payload.length);
        System.arraycopy(payload, 0, p, 4, payload.length);
        return p;
    }

    private static byte[] handshakeResponse(long flags, String user) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int k = 0; k < 4; k++) {
            out.write((int) (flags >> (8 * k)));
        }
        out.writeBytes(new byte[] {0, 0, 0, 1, 45});
        out.writeBytes(new byte[23]);
        out.writeBytes((user + "\0").getBytes(StandardCharsets.US_ASCII));
        out.write(20);
        out.writeBytes("0123456789abcdefghij".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes("mysql_native_password\0".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static long flagsOf(byte[] packet) {
        return (packet[4] & 0xffL) | (packet[5] & 0xffL) << 8 | (packet[6] & 0xffL) << 16 | (packet[7] & 0xffL) << 24;
    }

    private static ClientTls clientTls() {
        return ClientTls.create(
                SecurityLevel.VERIFY,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.forProtocol(Protocol.MYSQL, "localhost"),
                Protocol.MYSQL.alpn(),
                TlsProfile.modern());
    }

    @Test
    void loginOverTlsReachesThePlaintextBackendRenumberedWithoutClientSsl() throws Exception {
        CompletableFuture<BackendSaw> backend = backend(MARIADB_GREETING, true);
        int port = start(backendSocket.getLocalPort());

        try (ClientSession session = new StartTlsClient(
                        Protocol.MYSQL, ClientOptions.of(SecurityLevel.VERIFY), clientTls(), FAST)
                .connect("127.0.0.1", port)) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            // The greeting the client answers is the backend's: its scramble and connection id, plus CLIENT_SSL.
            var before = session.result().orElseThrow().before();
            assertThat(MysqlGreeting.authPluginData(before).map(HexFormat.of()::formatHex))
                    .hasValue("2a455b7a77636b706f5f6e2a257954787d2d632d");
            assertThat(before.has("CLIENT_SSL")).isTrue();
            assertThat(before.find(MysqlGreeting.CONNECTION_ID)).hasValue("connection-id 3");
            assertThat(session.result().orElseThrow().greeting()).isEqualTo("5.5.5-10.11.18-MariaDB-0+deb12u1");

            Socket tls = session.socket().orElseThrow();
            OutputStream out = tls.getOutputStream();
            InputStream in = tls.getInputStream();
            out.write(packet(2, handshakeResponse(CLIENT_FLAGS, "app")));
            byte[] ok = readPacket(in);
            assertThat(ok[3])
                    .as("the backend's OK (2) renumbered for the client")
                    .isEqualTo((byte) 3);
            assertThat(ok[4]).isZero();
            // Command phase: COM_PING with sequence 0, answered with 1, nothing rewritten.
            out.write(packet(0, new byte[] {0x0e}));
            assertThat(readPacket(in)[3]).isEqualTo((byte) 1);
        }
        BackendSaw saw = backend.get(10, TimeUnit.SECONDS);
        assertThat(saw.login()[3])
                .as("the backend never saw the SSLRequest: login is packet 1")
                .isEqualTo((byte) 1);
        assertThat(flagsOf(saw.login()) & 0x0800)
                .as("CLIENT_SSL cleared for a backend without TLS")
                .isZero();
        assertThat(flagsOf(saw.login())).isEqualTo(CLIENT_FLAGS & ~0x0800L);
        assertThat(new String(saw.login(), 36, 3, StandardCharsets.US_ASCII)).isEqualTo("app");
        assertThat(refused).isEmpty();
        assertThat(relayed).hasSize(1);
    }

    @Test
    void plaintextLoginIsRefusedWith3159AndNeverReachesTheBackend() throws Exception {
        CompletableFuture<BackendSaw> backend = backend(MARIADB_GREETING, false);
        int port = start(backendSocket.getLocalPort());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            byte[] greeting = readPacket(raw.getInputStream());
            MysqlGreeting g = MysqlGreeting.decode(Arrays.copyOfRange(greeting, 4, greeting.length));
            assertThat(g.offersTls()).isTrue();
            assertThat(g.connectionId()).isEqualTo(3);
            raw.getOutputStream().write(packet(1, handshakeResponse(CLIENT_FLAGS & ~0x0800L, "app")));
            byte[] err = readPacket(raw.getInputStream());
            assertThat(err[3]).isEqualTo((byte) 2);
            assertThat(err[4] & 0xff).isEqualTo(0xff);
            assertThat((err[5] & 0xff) | (err[6] & 0xff) << 8).isEqualTo(3159);
            assertThat(new String(err, 13, err.length - 13, StandardCharsets.UTF_8))
                    .startsWith("Connections using insecure transport are prohibited");
            assertThat(raw.getInputStream().read()).as("closed after the ERR").isEqualTo(-1);
        }
        assertThat(backend.get(10, TimeUnit.SECONDS).rest())
                .as("nothing reached the backend")
                .isEmpty();
        assertThat(refused)
                .singleElement()
                .satisfies(f -> assertThat(f.detail()).contains("ERR 3159"));
    }

    @Test
    void backendsErrInsteadOfAGreetingReachesTheClient() throws Exception {
        byte[] tooMany = packet(
                0,
                HexFormat.of()
                        .parseHex("ff1004"
                                + HexFormat.of()
                                        .formatHex("Too many connections".getBytes(StandardCharsets.US_ASCII))));
        CompletableFuture<BackendSaw> backend = backend(tooMany, false);
        int port = start(backendSocket.getLocalPort());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            assertThat(raw.getInputStream().readAllBytes()).isEqualTo(tooMany);
        }
        backend.get(10, TimeUnit.SECONDS);
        assertThat(refused)
                .singleElement()
                .satisfies(f ->
                        assertThat(f.detail()).contains("refused the connection: ERROR 1040: Too many connections"));
    }

    /** With proxy-protocol the backend learns the real client before it greets (its error counts are per client). */
    @Test
    void proxyHeaderGoesBeforeTheBackendGreets(@TempDir Path dir) throws Exception {
        credential.writePem(dir, "gw");
        backendSocket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ServerSocket listening = backendSocket;
        CompletableFuture<String> header = CompletableFuture.supplyAsync(() -> {
            try (Socket s = listening.accept()) {
                s.setSoTimeout(5000);
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                int c;
                while ((c = s.getInputStream().read()) >= 0 && c != '\n') {
                    line.write(c);
                }
                s.getOutputStream().write(MARIADB_GREETING);
                s.getInputStream().read();
                return line.toString(StandardCharsets.US_ASCII).strip();
            } catch (IOException e) {
                return "io: " + e;
            }
        });
        gateway = Gateway.start(
                ConfigLoader.load(
                        Files.writeString(dir.resolve("gw.toml"), """
                        [[route]]
                        name = "db"
                        protocol = "mysql"
                        listen = "127.0.0.1:%d"
                        connect = "127.0.0.1:%d"
                        certificate = "gw.crt"
                        key = "gw.key"
                        proxy-protocol = "v1"
                        """.formatted(freePort(), listening.getLocalPort()))),
                new Gateway.Events() {});
        int port = gateway.boundAddresses().get("db").getPort();
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            byte[] greeting = readPacket(raw.getInputStream());
            assertThat(MysqlGreeting.decode(Arrays.copyOfRange(greeting, 4, greeting.length))
                            .connectionId())
                    .isEqualTo(3);
        }
        assertThat(header.get(10, TimeUnit.SECONDS)).startsWith("PROXY TCP4 127.0.0.1 127.0.0.1 ");
    }

    @Test
    void backendThatIsNoMysqlServerIsRefusedAsBackendDown() throws Exception {
        backend("220 smtp.example ESMTP\r\n".getBytes(StandardCharsets.US_ASCII), false);
        int port = start(backendSocket.getLocalPort());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            assertThat(raw.getInputStream().readAllBytes())
                    .as("no greeting for the client")
                    .isEmpty();
        }
        assertThat(refused).singleElement().satisfies(f -> {
            assertThat(Reasons.of(f)).isEqualTo(Reasons.BACKEND_DOWN);
            assertThat(f.detail()).contains("greeting");
        });
    }
}
