package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.optls.core.Protocol;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code optls bench} against our own (blocking) demo servers: counts and report consistency, not timing. */
class BenchCommandTest {
    private static DemoServers demo;
    private static Path ca;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        demo = DemoServers.start();
        ca = demo.writeCa(dir.resolve("ca.pem"));
    }

    @AfterAll
    static void stop() {
        demo.close();
    }

    private static String uri(Protocol protocol) {
        return demo.servers().stream()
                .filter(s -> s.protocol() == protocol && s.kind() == DemoServers.Kind.STARTTLS)
                .findFirst()
                .orElseThrow()
                .uri();
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void sessionsAtLevelVerifyAreCountedAndConsistent(String engine) throws Exception {
        CliRun run = CliRun.of(
                "bench",
                "sessions",
                uri(Protocol.SMTP),
                "--level",
                "verify",
                "--ca",
                ca.toString(),
                "--servername",
                "localhost",
                "--engine",
                engine,
                "--concurrency",
                "2",
                "--duration",
                "1500ms",
                "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(run.out());
        long completed = report.get("completed").asLong();
        assertThat(completed).isPositive();
        assertThat(report.get("errors").size()).as(run.out()).isZero();
        assertThat(report.get("mode").asText()).isEqualTo("sessions");
        assertThat(report.get("concurrency").asInt()).isEqualTo(2);
        JsonNode latency = report.get("latencyMicros");
        assertThat(latency.get("count").asLong()).isEqualTo(completed);
        assertThat(latency.get("p50").asLong()).isPositive();
        assertThat(latency.get("p50").asLong())
                .isLessThanOrEqualTo(latency.get("p90").asLong())
                .isGreaterThanOrEqualTo(latency.get("min").asLong());
        assertThat(latency.get("p99").asLong())
                .isLessThanOrEqualTo(latency.get("max").asLong());
        double elapsed = report.get("elapsedSeconds").asDouble();
        assertThat(elapsed).isGreaterThanOrEqualTo(1.5);
        assertThat(report.get("perSecond").asDouble())
                .isCloseTo(completed / elapsed, org.assertj.core.api.Assertions.within(0.01 * completed + 0.01));
    }

    @Test
    void warmUpSessionsAreNotCountedAndGroupsAreOffered() throws Exception {
        CliRun run = CliRun.of(
                "bench",
                "sessions",
                uri(Protocol.SMTP),
                "--engine",
                "boringssl",
                "--groups",
                "X25519",
                "--concurrency",
                "1",
                "--warmup",
                "1s",
                "--duration",
                "1s",
                "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("warm-up: ");
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertThat(report.get("completed").asLong()).isPositive();
        // Only the measured second counts: its elapsed time, and the histogram holds exactly its sessions.
        assertThat(report.get("elapsedSeconds").asDouble()).isBetween(1.0, 1.9);
        assertThat(report.get("latencyMicros").get("count").asLong())
                .isEqualTo(report.get("completed").asLong());
    }

    @Test
    void unknownGroupsAndGroupsWithTheJdkEngineAreUsageErrors() {
        CliRun unknown =
                CliRun.of("bench", "sessions", uri(Protocol.SMTP), "--engine", "boringssl", "--groups", "nosuchgroup");
        assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).contains("nosuchgroup");
        CliRun jdk = CliRun.of("bench", "sessions", uri(Protocol.SMTP), "--engine", "jdk", "--groups", "X25519");
        assertThat(jdk.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(jdk.err()).contains("--groups needs the BoringSSL engine");
    }

    @Test
    void anUntrustedCertificateAtLevelVerifyIsCountedAsAnErrorNotASession() {
        CliRun run = CliRun.of(
                "bench",
                "sessions",
                uri(Protocol.IMAP),
                "--level",
                "verify",
                "--servername",
                "localhost",
                "--concurrency",
                "1",
                "--duration",
                "1s");
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.CONNECT_FAILED);
        assertThat(run.out()).contains("sessions          0 ").contains("CERTIFICATE_INVALID");
    }

    @Test
    void idleHoldsTheUpgradedConnections() {
        CliRun run = CliRun.of(
                "bench", "idle", uri(Protocol.POP3), "--connections", "5", "--parallel", "2", "--hold", "200ms");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("holding 5 upgraded connections (0 failed)");
        assertThat(run.out()).contains("connections held  5 ").contains("errors            0");
    }

    @Test
    void badOptionsAreUsageErrors() {
        CliRun duration = CliRun.of("bench", "sessions", uri(Protocol.SMTP), "--duration", "soon");
        assertThat(duration.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(duration.err()).contains("--duration 'soon' is not a positive duration");
        CliRun bulk = CliRun.of("bench", "bulk", uri(Protocol.IMAP), "--size", "1MB");
        assertThat(bulk.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(bulk.err()).contains("use an smtp, submission or lmtp URI");
        CliRun none = CliRun.of("bench", "sessions", uri(Protocol.SMTP), "--level", "none");
        assertThat(none.exitCode()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void sizesAndDurationsParse() {
        assertThat(BenchCommand.bytes("100MB")).isEqualTo(100_000_000L);
        assertThat(BenchCommand.bytes("64KiB")).isEqualTo(65_536L);
        assertThat(BenchCommand.duration("--hold", "2m").toSeconds()).isEqualTo(120);
        assertThat(BenchCommand.duration("--hold", "20").toSeconds()).isEqualTo(20);
        assertThat(BenchCommand.duration("--hold", "500ms").toMillis()).isEqualTo(500);
    }
}
