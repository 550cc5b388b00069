package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.optls.policy.postfix.Netstrings;
import java.io.BufferedInputStream;
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
                String request = new String(Netstrings.readRequired(in, 1000), StandardCharsets.US_ASCII);
                String key = request.substring(request.indexOf(' ') + 1);
                out.write(Netstrings.encode(key.startsWith("a") ? "OK secure match=." + key : "NOTFOUND "));
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
