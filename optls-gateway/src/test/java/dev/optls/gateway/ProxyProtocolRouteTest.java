package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Failure;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TlsSessionInfo;
import java.io.ByteArrayOutputStream;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A route behind a load balancer (PROXY header in) in front of a backend that wants one (PROXY header out). */
class ProxyProtocolRouteTest {
    @TempDir
    Path dir;

    private final List<String> events = new CopyOnWriteArrayList<>();

    @Test
    void theLoadBalancersClientIsWhatTheBackendAndTheLogsSee() throws Exception {
        TestPki pki = TestPki.create();
        pki.leaf("localhost").ipAddresses("127.0.0.1").issue().writePem(dir, "gw");
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // A plaintext IMAP backend that reads the PROXY header, then greets.
            CompletableFuture<String> header = CompletableFuture.supplyAsync(() -> {
                try (Socket s = backend.accept()) {
                    String line = readLine(s.getInputStream());
                    s.getOutputStream().write("* OK backend ready\r\n".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    s.getInputStream().read();
                    return line;
                } catch (IOException e) {
                    return "io: " + e;
                }
            });
            GatewayConfig config = ConfigLoader.load(
                    Files.writeString(dir.resolve("gw.toml"), """
                    [[route]]
                    name = "imaps"
                    protocol = "imap"
                    listen = "127.0.0.1:%d"
                    listen-tls = "implicit"
                    connect = "127.0.0.1:%d"
                    certificate = "gw.crt"
                    key = "gw.key"
                    accept-proxy-protocol = true
                    proxy-protocol = "v1"
                    """.formatted(freePort(), backend.getLocalPort())));
            try (Gateway gateway = Gateway.start(config, new Gateway.Events() {
                @Override
                public void relaying(Route r, SocketAddress client, TlsSessionInfo tls) {
                    events.add("relaying " + client);
                }

                @Override
                public void refused(Route r, SocketAddress client, Failure failure) {
                    events.add("refused " + client + " " + failure.detail());
                }
            })) {
                int port = gateway.boundAddresses().get("imaps").getPort();
                try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    raw.setSoTimeout(5000);
                    OutputStream out = raw.getOutputStream();
                    out.write("PROXY TCP4 127.0.0.9 127.0.0.1 40001 993\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    SSLSocket tls = (SSLSocket)
                            pki.clientContext().getSocketFactory().createSocket(raw, "localhost", port, true);
                    tls.startHandshake();
                    assertThat(readLine(tls.getInputStream())).isEqualTo("* OK backend ready");
                }
                assertThat(header.get(10, TimeUnit.SECONDS)).startsWith("PROXY TCP4 127.0.0.9 127.0.0.1 40001 ");
                assertThat(events).contains("relaying /127.0.0.9:40001");

                // Without the load balancer's header: closed, with the reason.
                try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    raw.setSoTimeout(5000);
                    raw.getOutputStream().write("a1 LOGIN x y\r\n".getBytes(StandardCharsets.US_ASCII));
                    assertThat(raw.getInputStream().read()).isEqualTo(-1);
                }
                for (int i = 0; i < 100 && events.size() < 2; i++) {
                    Thread.sleep(20);
                }
                assertThat(events)
                        .anySatisfy(e -> assertThat(e).startsWith("refused").contains("accept-proxy-protocol"));
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
