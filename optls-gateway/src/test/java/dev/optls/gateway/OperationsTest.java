package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Failure;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TlsSessionInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits, graceful shutdown, certificate reload and metrics, on loopback: implicit-TLS IMAP routes (the
 * backend's greeting is relayed as is) in front of a line-echo backend.
 */
class OperationsTest {
    private static TestPki pki;
    private static SSLContext clientContext;

    @TempDir
    Path dir;

    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<Failure> refused = new CopyOnWriteArrayList<>();
    private final List<Gateway.Closed> closed = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private Gateway gateway;

    private final Gateway.Events events = new Gateway.Events() {
        @Override
        public void relaying(Route route, SocketAddress client, TlsSessionInfo tls) {
            log.add("relaying " + client);
        }

        @Override
        public void refused(Route route, SocketAddress client, Failure failure) {
            refused.add(failure);
            log.add("refused " + Reasons.of(failure) + " " + failure.detail());
        }

        @Override
        public void closed(Route route, SocketAddress client, Gateway.Closed session) {
            closed.add(session);
            log.add("closed " + session);
        }

        @Override
        public void reloaded(Route route, Path certificate) {
            log.add("reloaded " + certificate.getFileName());
        }

        @Override
        public void reloadFailed(Route route, Path certificate, String problem) {
            log.add("reload-failed " + problem);
        }
    };

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        clientContext = pki.clientContext();
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    /** Answers each connection with a greeting, then echoes every line. */
    private int echoBackend() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        cleanup.add(server);
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    cleanup.add(s);
                    Thread worker = new Thread(() -> echo(s), "echo");
                    worker.setDaemon(true);
                    worker.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server.getLocalPort();
    }

    private static void echo(Socket s) {
        try (s) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            out.write("* OK echo\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String line;
            while ((line = in.readLine()) != null) {
                out.write(("echo " + line + "\r\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException e) {
            // the gateway closed: fine
        }
    }

    private Path writeCredential(String name) {
        Credential c = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        c.writePem(dir, name);
        return dir;
    }

    private GatewayConfig config(int backend, String routeExtra, String gatewayTable) throws ConfigException {
        writeCredential("live");
        String toml =
                "[[route]]\nname = \"r\"\nprotocol = \"imap\"\nlisten = \"127.0.0.1:1\"\nlisten-tls = \"implicit\"\n"
                        + "connect = \"127.0.0.1:" + backend + "\"\ncertificate = \"live.crt\"\nkey = \"live.key\"\n"
                        + "engine = \"jdk\"\nhandshake-timeout = \"5s\"\n" + routeExtra + "\n" + gatewayTable;
        GatewayConfig parsed = ConfigLoader.parse(toml, "ops.toml", dir);
        // Port 0 (the file format asks for a real port): any free loopback port.
        Route r = parsed.routes().get(0);
        Route any = new Route(
                r.name(),
                r.protocol(),
                new Route.HostPort("127.0.0.1", 0),
                r.listenTls(),
                r.connect(),
                r.tls(),
                r.hostname(),
                r.replyTimeout(),
                r.handshakeTimeout());
        return new GatewayConfig(parsed.source(), List.of(any), parsed.settings(), parsed.operations());
    }

    private int port() {
        return gateway.boundAddresses().get("r").getPort();
    }

    /** A TLS client through the gateway, greeted by the backend. */
    private final class Client implements AutoCloseable {
        final SSLSocket socket;
        final BufferedReader in;

        Client(String from) throws IOException {
            socket = (SSLSocket) clientContext.getSocketFactory().createSocket();
            socket.bind(new InetSocketAddress(from, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port()), 5000);
            socket.setSoTimeout(5000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("* OK echo");
        }

        Client() throws IOException {
            this("127.0.0.1");
        }

        String say(String line) throws IOException {
            socket.getOutputStream().write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return in.readLine();
        }

        BigInteger serial() {
            try {
                return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A connection over a limit is closed before anything is read or written. */
    private static void assertClosedAtOnce(String from, int port) throws IOException {
        try (Socket raw = new Socket()) {
            raw.bind(new InetSocketAddress(from, 0));
            raw.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            raw.setSoTimeout(5000);
            long start = System.nanoTime();
            int first;
            try {
                first = raw.getInputStream().read();
            } catch (java.net.SocketException reset) {
                first = -1;
            }
            assertThat(first).as("closed without a byte").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        }
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void connectionsOverTheRouteLimitAreClosedAtAcceptAndCountedAgainAfterAClose() throws Exception {
        gateway = Gateway.start(config(echoBackend(), "max-connections = 2", ""), events);

        try (Client a = new Client();
                Client b = new Client()) {
            assertThat(a.say("one")).isEqualTo("echo one");
            assertClosedAtOnce("127.0.0.1", port());
            await("the refusal", () -> !refused.isEmpty());
            assertThat(Reasons.of(refused.get(0))).isEqualTo(Reasons.CONNECTION_LIMIT);
            assertThat(refused.get(0).detail()).contains("already has 2 connections open (max-connections)");
            assertThat(b.say("two")).isEqualTo("echo two");
        }
        await("the closed connections to be released", () -> gateway.openConnections() == 0);
        try (Client c = new Client()) {
            assertThat(c.say("three")).isEqualTo("echo three");
        }
        assertThat(refused).hasSize(1);
    }

    @Test
    void oneClientAddressCannotTakeTheWholeRoute() throws Exception {
        gateway = Gateway.start(config(echoBackend(), "max-connections-per-client = 1", ""), events);

        try (Client a = new Client("127.0.0.1")) {
            assertClosedAtOnce("127.0.0.1", port());
            await("the refusal", () -> !refused.isEmpty());
            assertThat(refused.get(0).detail())
                    .contains("127.0.0.1 already has 1 connections open on the route (max-connections-per-client)");
            // Another loopback address is another client.
            try (Client b = new Client("127.0.0.2")) {
                assertThat(b.say("hi")).isEqualTo("echo hi");
            }
            assertThat(a.say("still")).isEqualTo("echo still");
        }
    }

    @Test
    void drainLetsASessionFinishThenCutsOnePastTheDeadline() throws Exception {
        gateway = Gateway.start(config(echoBackend(), "", ""), events);
        int port = port();
        Client finishing = new Client();
        Client lingering = new Client();
        assertThat(finishing.say("before")).isEqualTo("echo before");
        assertThat(lingering.say("before")).isEqualTo("echo before");

        long start = System.nanoTime();
        CompletableFuture<Gateway.Drained> drained =
                CompletableFuture.supplyAsync(() -> gateway.close(Duration.ofMillis(1500)));
        // Listening stops at once; open sessions keep working during the drain.
        Thread.sleep(300);
        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                .as("the listener closes at once")
                .isInstanceOf(ConnectException.class);
        assertThat(finishing.say("during the drain")).isEqualTo("echo during the drain");
        finishing.close();

        Gateway.Drained result = drained.get(10, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(result).isEqualTo(new Gateway.Drained(2, 1));
        assertThat(took).isBetween(Duration.ofMillis(1400), Duration.ofSeconds(5));
        assertThat(lingering.in.read()).as("cut at the deadline").isEqualTo(-1);
        lingering.close();
        await("both closings", () -> closed.size() == 2);
        assertThat(closed).filteredOn(c -> c.reason().isEmpty()).singleElement().satisfies(c -> {
            assertThat(c.bytesFromClient()).isEqualTo("before\r\nduring the drain\r\n".length());
            assertThat(c.bytesToClient()).isEqualTo("* OK echo\r\necho before\r\necho during the drain\r\n".length());
        });
        assertThat(closed)
                .filteredOn(c -> c.reason().isPresent())
                .singleElement()
                .satisfies(c -> {
                    assertThat(c.reason()).contains(Reasons.DRAIN_CUT);
                    assertThat(c.duration()).isGreaterThan(Duration.ofMillis(1400));
                });
    }

    @Test
    void aChangedCertificateIsServedToNewConnectionsWhileOldOnesKeepWorking() throws Exception {
        gateway = Gateway.start(config(echoBackend(), "", "[gateway]\ncertificate-check = \"100ms\"\n"), events);
        Client old = new Client();
        BigInteger first = old.serial();

        // Written next to the live files and moved over them, as deployment tools do.
        Credential renewed = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        renewed.writePem(dir.resolve("new"), "live");
        Files.move(dir.resolve("new/live.key"), dir.resolve("live.key"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(dir.resolve("new/live.crt"), dir.resolve("live.crt"), StandardCopyOption.REPLACE_EXISTING);
        await("the reload", () -> log.contains("reloaded live.crt"));

        try (Client fresh = new Client()) {
            assertThat(fresh.serial())
                    .isEqualTo(renewed.certificate().getSerialNumber())
                    .isNotEqualTo(first);
            assertThat(fresh.say("new")).isEqualTo("echo new");
        }
        assertThat(old.serial()).isEqualTo(first);
        assertThat(old.say("old")).isEqualTo("echo old");
        old.close();
    }

    @Test
    void aBadNewCertificateKeepsTheOldOneAndIsReportedOnce() throws Exception {
        gateway = Gateway.start(config(echoBackend(), "", "[gateway]\ncertificate-check = \"50ms\"\n"), events);
        BigInteger serving;
        try (Client c = new Client()) {
            serving = c.serial();
        }
        Files.writeString(dir.resolve("live.crt"), "-----BEGIN CERTIFICATE-----\nnot base64\n");
        await("the rejection", () -> log.stream().anyMatch(l -> l.startsWith("reload-failed")));
        Thread.sleep(300); // several more checks of the same bad content
        assertThat(log.stream().filter(l -> l.startsWith("reload-failed"))).hasSize(1);
        try (Client c = new Client()) {
            assertThat(c.serial()).isEqualTo(serving);
        }
        // SIGHUP's path: a forced reload reports the same bad file again, and still keeps the old certificate.
        gateway.reloadCertificates();
        assertThat(log.stream().filter(l -> l.startsWith("reload-failed"))).hasSize(2);
        assertThat(gateway.metricsText())
                .contains("optls_gateway_certificate_reloads_total{route=\"r\",result=\"failed\"} 2");
    }

    @Test
    void sighupReloadsAtOnce() throws Exception {
        gateway = Gateway.start(config(echoBackend(), "", "[gateway]\ncertificate-check = \"10m\"\n"), events);
        Credential renewed = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        renewed.writePem(dir, "live");

        gateway.reloadCertificates();

        assertThat(log).contains("reloaded live.crt");
        try (Client c = new Client()) {
            assertThat(c.serial()).isEqualTo(renewed.certificate().getSerialNumber());
        }
    }

    private static final Pattern SAMPLE =
            Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)})? (-?[0-9.eE+-]+|\\+Inf|NaN)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Test
    void metricsAreScrapedInTheTextFormatAndMove() throws Exception {
        GatewayConfig base = config(echoBackend(), "", "");
        GatewayConfig withMetrics = new GatewayConfig(
                base.source(),
                base.routes(),
                base.settings().withMetrics(java.util.Optional.of(new Route.HostPort("127.0.0.1", 0))),
                base.operations());
        gateway = Gateway.start(withMetrics, events);
        try (Client c = new Client()) {
            assertThat(c.say("hello")).isEqualTo("echo hello");
        }
        try (Socket plaintext = new Socket(InetAddress.getLoopbackAddress(), port())) {
            plaintext.getOutputStream().write("a1 LOGIN user pass\r\n".getBytes(StandardCharsets.US_ASCII));
            plaintext.setSoTimeout(5000);
            plaintext.getInputStream().readAllBytes();
        }
        await(
                "both sessions to end",
                () -> gateway.openConnections() == 0 && closed.size() == 1 && refused.size() == 1);

        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                        + gateway.metricsAddress().orElseThrow().getPort() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).contains("text/plain; version=0.0.4; charset=utf-8");

        Map<String, Double> samples = parse(response.body());
        assertThat(samples)
                .as("%s", log)
                .containsEntry("optls_gateway_connections_accepted_total{route=r}", 2.0)
                .containsEntry("optls_gateway_connections_open{route=r}", 0.0)
                .containsEntry("optls_gateway_upgrades_total{route=r}", 1.0)
                .containsEntry("optls_gateway_tls_resumed_total{route=r}", 0.0)
                .containsEntry("optls_gateway_sessions_closed_total{route=r}", 1.0)
                .containsEntry("optls_gateway_connections_refused_total{reason=handshake-not-tls,route=r}", 1.0)
                .containsEntry("optls_gateway_handshake_failures_total{reason=handshake-not-tls,route=r}", 1.0)
                .containsEntry("optls_gateway_relayed_bytes_total{direction=client_to_backend,route=r}", (double)
                        "hello\r\n".length())
                .containsEntry("optls_gateway_relayed_bytes_total{direction=backend_to_client,route=r}", (double)
                        "* OK echo\r\necho hello\r\n".length())
                .containsEntry("optls_gateway_tls_latency_seconds_count{route=r}", 1.0)
                .containsEntry("optls_gateway_relay_latency_seconds_count{route=r}", 1.0)
                .containsEntry("optls_gateway_tls_latency_seconds_bucket{le=+Inf,route=r}", 1.0)
                .containsEntry("optls_gateway_tls_latency_seconds_bucket{le=10.0,route=r}", 1.0);
        assertThat(samples.get("optls_gateway_tls_latency_seconds_sum{route=r}"))
                .isPositive();

        assertThat(HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                                + gateway.metricsAddress()
                                                        .orElseThrow()
                                                        .getPort() + "/other"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .statusCode())
                .isEqualTo(404);
    }

    /**
     * Parses the text exposition format 0.0.4 strictly: HELP and TYPE once per family and before its
     * samples, counters end in {@code _total}, histogram buckets cumulative up to {@code +Inf} = count.
     * Returns each sample as {@code name{sorted labels}} → value.
     */
    private static Map<String, Double> parse(String text) {
        assertThat(text).endsWith("\n");
        Map<String, String> types = new HashMap<>();
        Map<String, String> helps = new HashMap<>();
        Map<String, Double> samples = new LinkedHashMap<>();
        Map<String, Double> lastBucket = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] parts = line.split(" ", 4);
                assertThat(helps.put(parts[2], parts[3]))
                        .as("one HELP for " + parts[2])
                        .isNull();
            } else if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                assertThat(parts).hasSize(4);
                assertThat(parts[3]).isIn("counter", "gauge", "histogram", "summary", "untyped");
                assertThat(types.put(parts[2], parts[3]))
                        .as("one TYPE for " + parts[2])
                        .isNull();
                if (parts[3].equals("counter")) {
                    assertThat(parts[2]).endsWith("_total");
                }
            } else {
                Matcher m = SAMPLE.matcher(line);
                assertThat(m.matches()).as("a sample line: " + line).isTrue();
                String name = m.group(1);
                String family = types.containsKey(name) ? name : name.replaceAll("_(bucket|sum|count)$", "");
                assertThat(types).as("TYPE before " + line).containsKey(family);
                assertThat(helps).as("HELP before " + line).containsKey(family);
                Map<String, String> labels = new java.util.TreeMap<>();
                if (m.group(3) != null && !m.group(3).isEmpty()) {
                    for (String pair : m.group(3).split(",(?=[a-zA-Z_][a-zA-Z0-9_]*=\")")) {
                        Matcher l = LABEL.matcher(pair);
                        assertThat(l.matches()).as("a label: " + pair).isTrue();
                        labels.put(l.group(1), l.group(2));
                    }
                }
                double value = m.group(4).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(4));
                String key = name + labels.toString().replace(", ", ",");
                samples.put(key, value);
                if (name.endsWith("_bucket")) {
                    String series = family + labels.get("route");
                    assertThat(value)
                            .as("cumulative " + line)
                            .isGreaterThanOrEqualTo(lastBucket.getOrDefault(series, 0.0));
                    lastBucket.put(series, value);
                }
            }
        }
        for (Map.Entry<String, String> t : types.entrySet()) {
            if (t.getValue().equals("histogram")) {
                samples.keySet().stream()
                        .filter(k -> k.startsWith(t.getKey() + "_count"))
                        .forEach(count -> assertThat(samples.get(count.replace("_count{", "_bucket{le=+Inf,")))
                                .isEqualTo(samples.get(count)));
            }
        }
        return samples;
    }

    @Test
    void metricsPortInUseIsAStartError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            GatewayConfig base = config(echoBackend(), "", "");
            GatewayConfig clash = new GatewayConfig(
                    base.source(),
                    base.routes(),
                    base.settings()
                            .withMetrics(java.util.Optional.of(new Route.HostPort("127.0.0.1", taken.getLocalPort()))),
                    base.operations());
            assertThatThrownBy(() -> Gateway.start(clash, events))
                    .isInstanceOf(GatewayException.class)
                    .hasMessageContaining("[gateway] metrics: cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
    }
}
