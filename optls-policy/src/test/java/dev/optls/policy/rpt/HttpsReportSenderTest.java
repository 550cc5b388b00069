package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.optls.testkit.ClosedPort;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** HTTPS POST delivery (RFC 8460 §5.4) against the JDK's HttpsServer on 127.0.0.1 with test PKI certificates. */
class HttpsReportSenderTest {

    private static final TestPki PKI = TestPki.create();
    private static final Credential LOOPBACK =
            PKI.leaf("localhost").ipAddresses("127.0.0.1").issue();
    private static final Credential UNTRUSTED =
            PKI.leaf("localhost").ipAddresses("127.0.0.1").signedByUntrustedCa().issue();

    /** A loopback port where connections are refused, held for the test (see {@link ClosedPort}). */
    private final ClosedPort refusing = ClosedPort.open();

    private final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private final List<byte[]> bodies = new CopyOnWriteArrayList<>();
    private final List<String> methods = new CopyOnWriteArrayList<>();
    private HttpsServer server;
    private ExecutorService executor;

    @AfterEach
    void stop() {
        refusing.close();
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    private URI start(Credential credential, int status) throws IOException {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(credential.serverContext()));
        executor = Executors.newFixedThreadPool(2);
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            try (exchange) {
                methods.add(exchange.getRequestMethod() + " "
                        + exchange.getRequestURI().getPath());
                contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
                bodies.add(exchange.getRequestBody().readAllBytes());
                if (status == 302) {
                    exchange.getResponseHeaders().set("Location", "https://127.0.0.1:1/elsewhere");
                }
                exchange.sendResponseHeaders(status, -1);
            }
        });
        server.start();
        return URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/v1/tlsrpt");
    }

    private static HttpsReportSender sender() {
        return HttpsReportSender.create(PKI.clientContext(), Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    private static byte[] report() {
        return TlsRptFiles.gzip(TlsRptJson.toBytes(TlsRptJsonTest.rfcExampleReport()));
    }

    @Test
    void postsTheGzippedReportWithItsMediaType() throws Exception {
        URI uri = start(LOOPBACK, 201);
        byte[] gz = report();

        ReportDelivery result = sender().post(uri, gz);

        assertThat(result).isEqualTo(new ReportDelivery.Accepted(uri, 201));
        assertThat(methods).containsExactly("POST /v1/tlsrpt");
        assertThat(contentTypes).containsExactly("application/tlsrpt+gzip");
        assertThat(bodies.get(0)).isEqualTo(gz);
        assertThat(TlsRptJson.parse(TlsRptFiles.gunzip(bodies.get(0), 1 << 20).orElseThrow()))
                .isEqualTo(new TlsRptParse.Parsed(TlsRptJsonTest.rfcExampleReport()));
    }

    @Test
    void aNon2xxStatusIsARejectionAndRedirectsAreNotFollowed() throws Exception {
        URI uri = start(LOOPBACK, 302);
        assertThat(sender().post(uri, report())).isEqualTo(new ReportDelivery.Rejected(uri, 302));
        assertThat(methods).hasSize(1);
    }

    @Test
    void serverErrorIsARejection() throws Exception {
        URI uri = start(LOOPBACK, 500);
        assertThat(sender().post(uri, report())).isEqualTo(new ReportDelivery.Rejected(uri, 500));
    }

    @Test
    void anUntrustedCertificateFailsTheDelivery() throws Exception {
        URI uri = start(UNTRUSTED, 200);
        ReportDelivery result = sender().post(uri, report());
        assertThat(result).isInstanceOf(ReportDelivery.Failed.class);
        assertThat(((ReportDelivery.Failed) result).reason()).contains("TLS");
        assertThat(methods).isEmpty();
    }

    @Test
    void aClosedPortFailsTheDelivery() throws Exception {
        int port = refusing.port();
        URI uri = URI.create("https://127.0.0.1:" + port + "/");
        assertThat(sender().post(uri, report())).isInstanceOf(ReportDelivery.Failed.class);
    }

    @Test
    void stopsAtTheFirstDestinationThatAccepts() throws Exception {
        URI good = start(LOOPBACK, 200);
        int closedPort = refusing.port();
        URI closed = URI.create("https://127.0.0.1:" + closedPort + "/");

        List<ReportDelivery> attempts = sender().postUntilAccepted(List.of(closed, good, good), report());

        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0)).isInstanceOf(ReportDelivery.Failed.class);
        assertThat(attempts.get(1)).isEqualTo(new ReportDelivery.Accepted(good, 200));
        assertThat(methods).hasSize(1);
    }

    @Test
    void aUriTheHttpClientRefusesIsAFailedDelivery() {
        // From a peer's record (TlsRptRecord keeps it: it has a host); the JDK refuses the port.
        URI uri = URI.create("https://127.0.0.1:99999/");
        ReportDelivery result = sender().post(uri, report());
        assertThat(result)
                .isInstanceOfSatisfying(
                        ReportDelivery.Failed.class, f -> assertThat(f.reason()).contains("port out of range"));
    }

    @Test
    void onlyHttpsUris() {
        assertThatThrownBy(() -> sender().post(URI.create("http://127.0.0.1:1/"), report()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("https");
    }
}
