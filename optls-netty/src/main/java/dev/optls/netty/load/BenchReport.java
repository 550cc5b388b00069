package dev.optls.netty.load;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one load run measured.
 *
 * @param mode {@code sessions}, {@code bulk} or {@code idle}
 * @param target the URI the load went to
 * @param concurrency sessions kept in flight (sessions, bulk) or connections asked for (idle)
 * @param elapsed wall-clock time of the measured part (bulk: first payload byte to the last reply to the
 *     final dot; idle: setting the connections up)
 * @param completed sessions that reached TLS and the post-TLS capability reply (sessions), transfers
 *     acknowledged by the server (bulk), upgraded connections held open (idle)
 * @param errors failed attempts by failure kind ({@code CONNECT}, {@code PLAINTEXT} for a MAY session that
 *     was not upgraded, or a {@code FailureKind} name)
 * @param latency connect → capability reply over TLS, per upgraded session (for bulk: the sessions
 *     carrying the transfers)
 * @param bytes payload bytes acknowledged by the server (bulk), 0 otherwise
 */
public record BenchReport(
        String mode,
        String target,
        int concurrency,
        Duration elapsed,
        long completed,
        SortedMap<String, Long> errors,
        LatencyHistogram.Latency latency,
        long bytes) {
    public BenchReport {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(elapsed, "elapsed");
        errors = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(errors));
        Objects.requireNonNull(latency, "latency");
    }

    /** Failed attempts, all kinds together. */
    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Completed per second of {@link #elapsed()}; 0 for an empty interval. */
    public double perSecond() {
        double seconds = elapsed.toNanos() / 1e9;
        return seconds <= 0 ? 0 : completed / seconds;
    }

    /** Payload megabytes (10<sup>6</sup> bytes) per second of {@link #elapsed()}. */
    public double megabytesPerSecond() {
        double seconds = elapsed.toNanos() / 1e9;
        return seconds <= 0 ? 0 : bytes / 1e6 / seconds;
    }

    /** A human-readable report, one figure per line. */
    public String text() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(
                Locale.ROOT,
                "optls bench %s %s: concurrency %d, %.1f s%n",
                mode,
                target,
                concurrency,
                elapsed.toNanos() / 1e9));
        String what = switch (mode) {
            case "idle" -> "connections held";
            case "bulk" -> "transfers";
            default -> "sessions";
        };
        b.append(String.format(Locale.ROOT, "  %-17s %d (%.1f/s)%n", what, completed, perSecond()));
        if (bytes > 0) {
            b.append(String.format(Locale.ROOT, "  %-17s %d (%.1f MB/s)%n", "bytes", bytes, megabytesPerSecond()));
        }
        b.append(String.format(
                Locale.ROOT,
                "  %-17s p50 %s  p90 %s  p99 %s  max %s  (%d samples)%n",
                "latency",
                millis(latency.p50()),
                millis(latency.p90()),
                millis(latency.p99()),
                millis(latency.max()),
                latency.count()));
        b.append(String.format(Locale.ROOT, "  %-17s %d%n", "errors", errorCount()));
        for (Map.Entry<String, Long> e : errors.entrySet()) {
            b.append(String.format(Locale.ROOT, "    %-15s %d%n", e.getKey(), e.getValue()));
        }
        return b.toString();
    }

    /** The report as one JSON object (latencies in microseconds). */
    public String json() {
        StringBuilder b = new StringBuilder("{");
        b.append("\"mode\":").append(quote(mode));
        b.append(",\"target\":").append(quote(target));
        b.append(",\"concurrency\":").append(concurrency);
        b.append(",\"elapsedSeconds\":").append(decimal(elapsed.toNanos() / 1e9));
        b.append(",\"completed\":").append(completed);
        b.append(",\"perSecond\":").append(decimal(perSecond()));
        b.append(",\"bytes\":").append(bytes);
        b.append(",\"megabytesPerSecond\":").append(decimal(megabytesPerSecond()));
        b.append(",\"latencyMicros\":{\"count\":")
                .append(latency.count())
                .append(",\"min\":")
                .append(latency.min())
                .append(",\"p50\":")
                .append(latency.p50())
                .append(",\"p90\":")
                .append(latency.p90())
                .append(",\"p99\":")
                .append(latency.p99())
                .append(",\"max\":")
                .append(latency.max())
                .append(",\"mean\":")
                .append(decimal(latency.mean()))
                .append('}');
        b.append(",\"errors\":{");
        boolean first = true;
        for (Map.Entry<String, Long> e : errors.entrySet()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(quote(e.getKey())).append(':').append(e.getValue());
        }
        b.append("}}");
        return b.toString();
    }

    private static String millis(long micros) {
        return String.format(Locale.ROOT, "%.2f ms", micros / 1000.0);
    }

    private static String decimal(double d) {
        return String.format(Locale.ROOT, "%.3f", d);
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
