package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SocketmapBenchTest {

    /** Answers like a policy service: OK for keys starting with "a", NOTFOUND otherwise; closes on "close". */
    private static ServerSocket responder() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serve(s));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        accept.setDaemon(true);
        accept.start();
        return server;
    }

    private static void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                String request = SocketmapBench.readNetstring(in);
                String key = request.substring(request.indexOf(' ') + 1);
                out.write(SocketmapBench.netstring(key.startsWith("a") ? "OK secure match=." + key : "NOTFOUND "));
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    @Test
    void countsQueriesAndRepliesByKind() throws Exception {
        try (ServerSocket server = responder()) {
            CliRun run = CliRun.of(
                    "bench",
                    "socketmap",
                    "127.0.0.1:" + server.getLocalPort(),
                    "--keys",
                    "a.test,b.test",
                    "--connections",
                    "2",
                    "--duration",
                    "1s",
                    "--json");

            assertThat(run.exitCode()).as(run.err()).isZero();
            JsonNode report = new ObjectMapper().readTree(run.out());
            long ok = report.at("/replies/OK").asLong();
            long notFound = report.at("/replies/NOTFOUND").asLong();
            assertThat(ok).isPositive();
            assertThat(notFound).isPositive();
            // The keys are asked for in turn, so the two kinds differ by at most one per connection.
            assertThat(Math.abs(ok - notFound)).isLessThanOrEqualTo(2);
            assertThat(report.get("queries").asLong()).isEqualTo(ok + notFound);
            assertThat(report.at("/latencyMicros/p99").asLong()).isPositive();
            assertThat(run.err()).contains("queries in the last second");
        }
    }

    @Test
    void netstringsRoundTripAndBadOnesAreErrors() throws IOException {
        byte[] encoded = SocketmapBench.netstring("postfix example.com");
        assertThat(new String(encoded, StandardCharsets.US_ASCII)).isEqualTo("19:postfix example.com,");
        assertThat(SocketmapBench.readNetstring(new ByteArrayInputStream(encoded)))
                .isEqualTo("postfix example.com");
        for (String bad : new String[] {"", "x:", "3:abc;", "3:ab", ":,", "9999999:"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> SocketmapBench.readNetstring(
                            new ByteArrayInputStream(bad.getBytes(StandardCharsets.US_ASCII))))
                    .as(bad)
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void usageErrorsSayWhatToDo() {
        CliRun noKeys = CliRun.of("bench", "socketmap", "127.0.0.1:1");
        assertThat(noKeys.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noKeys.err()).contains("--keys");
        CliRun badTarget = CliRun.of("bench", "socketmap", "localhost", "--keys", "a.test");
        assertThat(badTarget.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badTarget.err()).contains("ADDRESS:PORT");
        CliRun badKey = CliRun.of("bench", "socketmap", "127.0.0.1:1", "--keys", "a b");
        assertThat(badKey.exitCode()).isEqualTo(ExitCodes.USAGE);
    }
}
