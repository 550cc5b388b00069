package dev.optls.policy.postfix;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The service under the load a busy Postfix makes: {@value #CONNECTIONS} persistent connections (one per smtp
 * process) asking for {@value #DOMAINS} domains, answered from the answer cache. Asserts every answer and that each
 * domain was looked up once; prints requests per second and latency percentiles (measured on the test machine, so not
 * asserted).
 */
class SocketmapLoadTest {

    private static final int CONNECTIONS = 16;
    private static final int REQUESTS = 4000;
    private static final int DOMAINS = 200;

    @Test
    void cachedAnswersUnderConcurrentConnections() throws Exception {
        AtomicInteger lookups = new AtomicInteger();
        AnswerCache cache = new AnswerCache(
                domain -> {
                    lookups.incrementAndGet();
                    return SocketmapReply.ok("secure match=mx." + domain + " servername=hostname");
                },
                Duration.ofSeconds(60),
                Duration.ofSeconds(10),
                10_000,
                System::nanoTime);
        try (SocketmapServer server = SocketmapServer.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                (name, key) -> cache.get(key),
                SocketmapServer.Settings.defaults(),
                new SocketmapServer.Listener() {})) {
            ExecutorService pool = Executors.newFixedThreadPool(CONNECTIONS);
            long[] latencies = new long[CONNECTIONS * REQUESTS];
            long start = System.nanoTime();
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int c = 0; c < CONNECTIONS; c++) {
                    int client = c;
                    results.add(pool.submit(() -> {
                        int ok = 0;
                        try (Socket s = new Socket()) {
                            s.connect(server.address(), 2000);
                            s.setSoTimeout(10_000);
                            s.setTcpNoDelay(true);
                            OutputStream out = s.getOutputStream();
                            InputStream in = new BufferedInputStream(s.getInputStream());
                            for (int i = 0; i < REQUESTS; i++) {
                                String domain = "d" + ((client * 7 + i) % DOMAINS) + ".test";
                                long t0 = System.nanoTime();
                                out.write(Netstrings.encode("postfix " + domain));
                                byte[] reply = Netstrings.readRequired(in, Netstrings.POSTFIX_MAX_REPLY);
                                latencies[client * REQUESTS + i] = System.nanoTime() - t0;
                                if (new String(reply, StandardCharsets.US_ASCII)
                                        .equals("OK secure match=mx." + domain + " servername=hostname")) {
                                    ok++;
                                }
                            }
                        }
                        return ok;
                    }));
                }
                for (Future<Integer> f : results) {
                    assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(REQUESTS);
                }
            } finally {
                pool.shutdownNow();
            }
            long elapsed = System.nanoTime() - start;
            Arrays.sort(latencies);
            long total = (long) CONNECTIONS * REQUESTS;
            System.out.printf(
                    "socketmap load: %d connections, %d requests in %d ms = %.0f requests/s; latency p50 %d µs,"
                            + " p99 %d µs, max %d µs; %d lookups, %d cache hits%n",
                    CONNECTIONS,
                    total,
                    elapsed / 1_000_000,
                    total * 1e9 / elapsed,
                    latencies[(int) (total / 2)] / 1000,
                    latencies[(int) (total * 99 / 100)] / 1000,
                    latencies[latencies.length - 1] / 1000,
                    lookups.get(),
                    cache.hits());
            assertThat(server.requests()).isEqualTo(total);
            assertThat(lookups).hasValue(DOMAINS);
        }
    }
}
