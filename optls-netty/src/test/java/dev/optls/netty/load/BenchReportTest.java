package dev.optls.netty.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class BenchReportTest {
    private static final LatencyHistogram.Latency LATENCY =
            new LatencyHistogram.Latency(200, 900, 1_500, 2_500, 4_000, 9_000, 1_700.5);

    private static BenchReport sessions() {
        return new BenchReport(
                "sessions",
                "smtp://127.0.0.1:2525",
                8,
                Duration.ofSeconds(4),
                200,
                new TreeMap<>(Map.of("CONNECT", 2L, "HANDSHAKE_FAILED", 1L)),
                LATENCY,
                0);
    }

    @Test
    void ratesAreCountsOverElapsedTime() {
        BenchReport r = sessions();
        assertThat(r.perSecond()).isCloseTo(50.0, within(1e-9));
        assertThat(r.errorCount()).isEqualTo(3);
        BenchReport bulk = new BenchReport(
                "bulk", "smtp://127.0.0.1:2525", 1, Duration.ofMillis(500), 1, new TreeMap<>(), LATENCY, 100_000_000);
        assertThat(bulk.megabytesPerSecond()).isCloseTo(200.0, within(1e-9));
        BenchReport empty =
                new BenchReport("idle", "smtp://127.0.0.1:2525", 1, Duration.ZERO, 0, new TreeMap<>(), LATENCY, 0);
        assertThat(empty.perSecond()).isZero();
    }

    @Test
    void textShowsEveryFigure() {
        String text = sessions().text();
        assertThat(text)
                .contains("optls bench sessions smtp://127.0.0.1:2525: concurrency 8, 4.0 s")
                .contains("sessions          200 (50.0/s)")
                .contains("p50 1.50 ms  p90 2.50 ms  p99 4.00 ms  max 9.00 ms  (200 samples)")
                .contains("errors            3")
                .contains("CONNECT         2")
                .contains("HANDSHAKE_FAILED 1");
    }

    @Test
    void jsonHasTheSameFigures() {
        assertThat(sessions().json())
                .isEqualTo("{\"mode\":\"sessions\",\"target\":\"smtp://127.0.0.1:2525\",\"concurrency\":8,"
                        + "\"elapsedSeconds\":4.000,\"completed\":200,\"perSecond\":50.000,\"bytes\":0,"
                        + "\"megabytesPerSecond\":0.000,\"latencyMicros\":{\"count\":200,\"min\":900,\"p50\":1500,"
                        + "\"p90\":2500,\"p99\":4000,\"max\":9000,\"mean\":1700.500},"
                        + "\"errors\":{\"CONNECT\":2,\"HANDSHAKE_FAILED\":1}}");
    }

    @Test
    void jsonStringsAreEscaped() {
        assertThat(BenchReport.quote("a\"b\\c\n")).isEqualTo("\"a\\\"b\\\\c\\u000a\"");
    }

    @Test
    void errorsAreACopy() {
        TreeMap<String, Long> errors = new TreeMap<>(Map.of("CONNECT", 1L));
        BenchReport r =
                new BenchReport("sessions", "smtp://127.0.0.1:1", 1, Duration.ofSeconds(1), 0, errors, LATENCY, 0);
        errors.put("OTHER", 5L);
        assertThat(r.errors()).containsOnlyKeys("CONNECT");
    }
}
