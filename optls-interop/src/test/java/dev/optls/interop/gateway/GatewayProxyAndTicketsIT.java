package dev.optls.interop.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Failure;
import dev.optls.gateway.ConfigLoader;
import dev.optls.gateway.Gateway;
import dev.optls.gateway.GatewayConfig;
import dev.optls.gateway.Route;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TlsSessionInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real PROXY protocol peers and shared ticket keys: HAProxy (TCP mode, send-proxy and send-proxy-v2) in front
 * of a gateway route with accept-proxy-protocol; Postfix (smtpd_upstream_proxy_protocol = haproxy) behind a
 * route with proxy-protocol = "v1"; openssl s_client resuming on a second gateway instance that shares the
 * ticket key file, and not on a third with another file.
 */
class GatewayProxyAndTicketsIT {
    private static Path dir;
    private static TestPki pki;
    private static final List<AutoCloseable> cleanup = new ArrayList<>();
    private static final List<String> events = new CopyOnWriteArrayList<>();
    private static int backend;

    @BeforeAll
    static void setUp() throws IOException {
        Peers.requireCommand("haproxy", "haproxy");
        Peers.requireCommand("openssl", "openssl");
        dir = Files.createTempDirectory("optls-gateway-proxy");
        pki = TestPki.create();
        pki.leaf("localhost").ipAddresses("127.0.0.1").issue().writePem(dir, "gateway");
        backend = greetAndClose();
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    /** An IMAP-like backend: greets, then closes (the client reads the greeting and the session ends). */
    private static int greetAndClose() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        cleanup.add(server);
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write("* OK backend\r\n".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    Thread.sleep(200);
                } catch (IOException e) {
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server.getLocalPort();
    }

    private static Gateway gateway(String toml) throws Exception {
        GatewayConfig config =
                ConfigLoader.load(Files.writeString(Files.createTempFile(dir, "gateway", ".toml"), toml));
        Gateway g = Gateway.start(config, new Gateway.Events() {
            @Override
            public void relaying(Route route, SocketAddress client, TlsSessionInfo tls) {
                events.add("relaying " + route.name() + " " + ((InetSocketAddress) client).getHostString());
            }

            @Override
            public void refused(Route route, SocketAddress client, Failure failure) {
                events.add("refused " + route.name() + " " + client + " " + failure);
            }
        });
        cleanup.add(g);
        return g;
    }

    private static String imapsRoute(String name, int port, String extra) {
        return """
                [[route]]
                name = "%s"
                protocol = "imap"
                listen-tls = "implicit"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "%s"
                key = "%s"
                %s
                """.formatted(name, port, backend, dir.resolve("gateway.crt"), dir.resolve("gateway.key"), extra);
    }

    /** HAProxy in TCP mode: two frontends, one sending PROXY v1, the other v2, to {@code gatewayPort}. */
    private static void haproxy(int v1Port, int v2Port, int gatewayPort) throws IOException {
        Path cfg =
                Files.writeString(dir.resolve("haproxy.cfg"), """
                global
                    maxconn 100
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 30s
                    timeout server 30s
                frontend v1
                    bind 127.0.0.1:%d
                    default_backend gateway-v1
                frontend v2
                    bind 127.0.0.1:%d
                    default_backend gateway-v2
                backend gateway-v1
                    server gw 127.0.0.1:%d send-proxy
                backend gateway-v2
                    server gw 127.0.0.1:%d send-proxy-v2
                """.formatted(v1Port, v2Port, gatewayPort, gatewayPort));
        Process p = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile())
                .start();
        cleanup.add(() -> Peers.killTree(p.toHandle()));
        Peers.awaitPort(Peers.LOOPBACK, v1Port, Duration.ofSeconds(10));
        Peers.awaitPort(Peers.LOOPBACK, v2Port, Duration.ofSeconds(10));
    }

    private static void awaitEvent(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (events.stream().noneMatch(e -> e.startsWith(prefix)) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    /** An implicit-TLS IMAP client from {@code from}: the greeting it reads. */
    private static String greetingVia(String from, int port) throws IOException {
        SSLContext context = pki.clientContext();
        try (Socket raw = new Socket()) {
            raw.bind(new InetSocketAddress(from, 0));
            raw.connect(new InetSocketAddress(Peers.LOOPBACK, port), 5000);
            raw.setSoTimeout(5000);
            try (SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(raw, "localhost", port, true)) {
                return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                        .readLine();
            }
        }
    }

    @Test
    void haproxySendProxyV1AndV2GiveTheGatewayTheRealClientAddress() throws Exception {
        int gatewayPort = Peers.freePort();
        gateway(imapsRoute("behind-haproxy", gatewayPort, "accept-proxy-protocol = true"));
        int v1 = Peers.freePort();
        int v2 = Peers.freePort();
        haproxy(v1, v2, gatewayPort);

        // HAProxy connects from 127.0.0.1; the client is on 127.0.0.2, and that is whom the gateway sees.
        assertThat(greetingVia(Peers.OTHER_LOOPBACK, v1)).isEqualTo("* OK backend");
        assertThat(greetingVia(Peers.OTHER_LOOPBACK, v2)).isEqualTo("* OK backend");
        assertThat(events)
                .as(Files.readString(dir.resolve("haproxy.log")) + events)
                .filteredOn(e -> e.startsWith("relaying behind-haproxy"))
                .containsExactly("relaying behind-haproxy 127.0.0.2", "relaying behind-haproxy 127.0.0.2");
        // The port probes (from 127.0.0.1, through HAProxy) left at once: refused under their own address, and
        // never as backend-down (the backend is up).
        assertThat(events)
                .filteredOn(e -> e.startsWith("refused behind-haproxy"))
                .allSatisfy(e -> assertThat(e).contains("/127.0.0.1:").doesNotContain("connect-failed"));
        // Straight to the gateway, without HAProxy's header, the connection is refused.
        events.clear();
        try (Socket direct = new Socket(Peers.LOOPBACK, gatewayPort)) {
            direct.setSoTimeout(5000);
            direct.getOutputStream().write("a001 CAPABILITY and more\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(direct.getInputStream().read()).isEqualTo(-1);
        }
        awaitEvent("refused behind-haproxy");
        assertThat(events)
                .anySatisfy(
                        e -> assertThat(e).startsWith("refused behind-haproxy").contains("PROXY"));
    }

    @Test
    void postfixBehindAProxyProtocolRouteLogsTheRealClient() throws Exception {
        PostfixServer postfix = PostfixServer.builder()
                .tls(PeerTls.NONE)
                .mainCf("smtpd_upstream_proxy_protocol", "haproxy")
                .start();
        cleanup.add(postfix);
        int port = Peers.freePort();
        gateway("""
                [[route]]
                name = "smtp-proxied"
                protocol = "smtp"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "%s"
                key = "%s"
                hostname = "gateway.test"
                proxy-protocol = "v1"
                """.formatted(port, postfix.port(), dir.resolve("gateway.crt"), dir.resolve("gateway.key")));

        try (Socket raw = new Socket()) {
            raw.bind(new InetSocketAddress(Peers.OTHER_LOOPBACK, 0));
            raw.connect(new InetSocketAddress(Peers.LOOPBACK, port), 5000);
            raw.setSoTimeout(10000);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(raw.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = raw.getOutputStream();
            assertThat(in.readLine()).startsWith("220 ");
            out.write("EHLO client.test\r\nSTARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
            String line;
            do {
                line = in.readLine();
            } while (line.startsWith("250-"));
            assertThat(in.readLine()).startsWith("220 ");
            try (SSLSocket tls =
                    (SSLSocket) pki.clientContext().getSocketFactory().createSocket(raw, "localhost", port, true)) {
                BufferedReader tin =
                        new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.US_ASCII));
                tls.getOutputStream().write("EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII));
                String reply;
                do {
                    reply = tin.readLine();
                } while (reply.startsWith("250-"));
                assertThat(reply).as("Postfix's EHLO reply over TLS").startsWith("250 ");
                tls.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(tin.readLine()).startsWith("221");
            }
        }
        // smtpd(8) logs the client the PROXY header named, not the gateway's own address.
        assertThat(postfix.awaitLog("connect from", Duration.ofSeconds(10)))
                .as(String.join("\n", events))
                .containsPattern("connect from [^\\n]*\\[127\\.0\\.0\\.2]");
    }

    /** openssl s_client's "New," or "Reused," line for a session to {@code port}. */
    private static String sClient(int port, Path session, boolean resume) {
        List<String> cmd = new ArrayList<>(List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-tls1_3",
                "-ign_eof",
                "-servername",
                "localhost"));
        cmd.addAll(resume ? List.of("-sess_in", session.toString()) : List.of("-sess_out", session.toString()));
        Peers.CommandResult r = Peers.run(Duration.ofSeconds(20), "", cmd);
        return r.output()
                .lines()
                .filter(l -> l.startsWith("New,") || l.startsWith("Reused,"))
                .findFirst()
                .orElse("no session line in:\n" + r.output());
    }

    @Test
    void instancesSharingTheTicketKeyFileResumeEachOthersSessions() throws Exception {
        Path shared = Files.writeString(
                dir.resolve("shared.keys"),
                "# optls gateway ticket keys\n" + Base64.getEncoder().encodeToString(pki48(1)) + "\n");
        Path other =
                Files.writeString(dir.resolve("other.keys"), Base64.getEncoder().encodeToString(pki48(2)) + "\n");
        int first = Peers.freePort();
        int second = Peers.freePort();
        int stranger = Peers.freePort();
        Gateway one = gateway(imapsRoute("first", first, "engine = \"boringssl\"\nticket-keys = \"" + shared + "\""));
        Gateway two = gateway(imapsRoute("second", second, "engine = \"boringssl\"") + "\n[gateway]\nticket-keys = \""
                + shared + "\"\n");
        Gateway three =
                gateway(imapsRoute("stranger", stranger, "engine = \"boringssl\"\nticket-keys = \"" + other + "\""));
        Path session = dir.resolve("session.pem");

        assertThat(sClient(first, session, false)).startsWith("New, TLSv1.3");
        assertThat(session).isNotEmptyFile();
        assertThat(sClient(second, session, true)).as("same key file").startsWith("Reused, TLSv1.3");
        assertThat(sClient(stranger, session, true)).as("another key file").startsWith("New, TLSv1.3");
        // What an operator sees: the resumption counted by the instance that resumed, and only there.
        assertThat(one.metricsText()).contains("optls_gateway_tls_resumed_total{route=\"first\"} 0\n");
        assertThat(two.metricsText()).contains("optls_gateway_tls_resumed_total{route=\"second\"} 1\n");
        assertThat(three.metricsText()).contains("optls_gateway_tls_resumed_total{route=\"stranger\"} 0\n");
    }

    private static byte[] pki48(int seed) {
        byte[] key = new byte[48];
        new java.util.Random(seed).nextBytes(key);
        return key;
    }
}
