package dev.optls.gateway.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The gateway's counters, gauges and histograms, written in the Prometheus text exposition format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats): {@code # HELP} and {@code # TYPE} once per family,
 * counters named {@code *_total}, histograms as cumulative {@code _bucket{le=…}} series with {@code +Inf},
 * {@code _sum} and {@code _count}. Every series has a {@code route} label. Updates are lock-free (event-loop
 * threads); a scrape reads a moment's values.
 */
public final class Metrics {
    /** Histogram bucket upper bounds in seconds, from 0.5 ms to 10 s. */
    private static final double[] LATENCY_BUCKETS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
    };

    private final Map<String, RouteMetrics> routes = Collections.synchronizedMap(new java.util.LinkedHashMap<>());

    /** Registers a route; {@code open} reads its open connections. */
    public RouteMetrics route(String name, IntSupplier open) {
        RouteMetrics m = new RouteMetrics(name, open);
        routes.put(name, m);
        return m;
    }

    /** Everything, in the text exposition format 0.0.4. */
    public String scrape() {
        List<RouteMetrics> all;
        synchronized (routes) {
            all = new ArrayList<>(routes.values());
        }
        StringBuilder out = new StringBuilder(4096);
        family(
                out,
                "optls_gateway_connections_accepted_total",
                "counter",
                "Connections accepted by the route's listener.");
        all.forEach(r -> sample(out, "optls_gateway_connections_accepted_total", r.labels(), r.accepted.sum()));
        family(out, "optls_gateway_connections_open", "gauge", "Client connections open now.");
        all.forEach(r -> sample(out, "optls_gateway_connections_open", r.labels(), r.open.getAsInt()));
        family(
                out,
                "optls_gateway_connections_refused_total",
                "counter",
                "Connections refused or aborted before relaying, or cut at shutdown, by reason.");
        all.forEach(r -> r.refused.forEach((reason, n) ->
                sample(out, "optls_gateway_connections_refused_total", r.labels("reason", reason), n.sum())));
        family(
                out,
                "optls_gateway_upgrades_total",
                "counter",
                "TLS sessions established with clients (STARTTLS upgrades and implicit-TLS handshakes).");
        all.forEach(r -> sample(out, "optls_gateway_upgrades_total", r.labels(), r.upgrades.sum()));
        family(
                out,
                "optls_gateway_tls_resumed_total",
                "counter",
                "Of those, sessions that resumed an earlier one (a session ticket, perhaps another instance's sharing"
                        + " the ticket keys) instead of a full handshake; counted with the BoringSSL engine only.");
        all.forEach(r -> sample(out, "optls_gateway_tls_resumed_total", r.labels(), r.resumed.sum()));
        family(
                out,
                "optls_gateway_handshake_failures_total",
                "counter",
                "Failed TLS handshakes with clients, by reason.");
        all.forEach(r -> r.handshakeFailures.forEach((reason, n) ->
                sample(out, "optls_gateway_handshake_failures_total", r.labels("reason", reason), n.sum())));
        family(out, "optls_gateway_sessions_closed_total", "counter", "Relayed sessions that have ended.");
        all.forEach(r -> sample(out, "optls_gateway_sessions_closed_total", r.labels(), r.closed.sum()));
        family(
                out,
                "optls_gateway_relayed_bytes_total",
                "counter",
                "Plaintext bytes relayed, by direction (client_to_backend, backend_to_client).");
        all.forEach(r -> {
            sample(
                    out,
                    "optls_gateway_relayed_bytes_total",
                    r.labels("direction", "client_to_backend"),
                    r.bytesFromClient.sum());
            sample(
                    out,
                    "optls_gateway_relayed_bytes_total",
                    r.labels("direction", "backend_to_client"),
                    r.bytesToClient.sum());
        });
        family(
                out,
                "optls_gateway_certificate_reloads_total",
                "counter",
                "Certificate reloads, by result (ok: new connections get the new certificate; failed: the old one stays).");
        all.forEach(r -> {
            sample(out, "optls_gateway_certificate_reloads_total", r.labels("result", "ok"), r.reloadsOk.sum());
            sample(out, "optls_gateway_certificate_reloads_total", r.labels("result", "failed"), r.reloadsFailed.sum());
        });
        family(
                out,
                "optls_gateway_tls_latency_seconds",
                "histogram",
                "Time from accepting a connection to the client's TLS being up.");
        all.forEach(r -> r.tlsLatency.write(out, "optls_gateway_tls_latency_seconds", r));
        family(
                out,
                "optls_gateway_relay_latency_seconds",
                "histogram",
                "Time from accepting a connection to relaying to the backend.");
        all.forEach(r -> r.relayLatency.write(out, "optls_gateway_relay_latency_seconds", r));
        return out.toString();
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
        out.append(name).append(labels).append(' ').append(number(value)).append('\n');
    }

    private static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }

    private static String escapeHelp(String text) {
        return text.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** A label value escaped as the format requires: backslash, double quote and line feed. */
    static String escapeLabel(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** One route's series. */
    public static final class RouteMetrics {
        private final String route;
        private final IntSupplier open;
        private final LongAdder accepted = new LongAdder();
        private final LongAdder upgrades = new LongAdder();
        private final LongAdder resumed = new LongAdder();
        private final LongAdder closed = new LongAdder();
        private final LongAdder bytesFromClient = new LongAdder();
        private final LongAdder bytesToClient = new LongAdder();
        private final LongAdder reloadsOk = new LongAdder();
        private final LongAdder reloadsFailed = new LongAdder();
        private final Map<String, LongAdder> refused = new ConcurrentSkipListMap<>();
        private final Map<String, LongAdder> handshakeFailures = new ConcurrentSkipListMap<>();
        private final Histogram tlsLatency = new Histogram();
        private final Histogram relayLatency = new Histogram();

        RouteMetrics(String route, IntSupplier open) {
            this.route = route;
            this.open = open;
        }

        String labels() {
            return "{route=\"" + escapeLabel(route) + "\"}";
        }

        String labels(String name, String value) {
            return "{route=\"" + escapeLabel(route) + "\"," + name + "=\"" + escapeLabel(value) + "\"}";
        }

        /** A connection was accepted (before the limits are checked). */
        public void accepted() {
            accepted.increment();
        }

        /** A connection was refused or aborted for {@code reason} (see {@code Reasons}). */
        public void refused(String reason) {
            refused.computeIfAbsent(reason, k -> new LongAdder()).increment();
        }

        /** A client's TLS handshake failed for {@code reason}. */
        public void handshakeFailed(String reason) {
            handshakeFailures.computeIfAbsent(reason, k -> new LongAdder()).increment();
        }

        /**
         * A client's TLS is up, {@code nanos} after accept; {@code resumed} says whether its handshake resumed an
         * earlier session (empty where the engine cannot tell).
         */
        public void upgraded(long nanos, Optional<Boolean> resumed) {
            upgrades.increment();
            tlsLatency.observe(nanos);
            if (resumed.orElse(false)) {
                this.resumed.increment();
            }
        }

        /** Relaying began, {@code nanos} after accept. */
        public void relaying(long nanos) {
            relayLatency.observe(nanos);
        }

        /** A relayed session ended. */
        public void closed() {
            closed.increment();
        }

        /** Bytes relayed client → backend. */
        public void fromClient(long bytes) {
            bytesFromClient.add(bytes);
        }

        /** Bytes relayed backend → client. */
        public void toClient(long bytes) {
            bytesToClient.add(bytes);
        }

        /** A certificate reload succeeded or failed. */
        public void reloaded(boolean ok) {
            (ok ? reloadsOk : reloadsFailed).increment();
        }
    }

    /** Cumulative buckets over {@link #LATENCY_BUCKETS}; observations in nanoseconds, written in seconds. */
    static final class Histogram {
        private final LongAdder[] buckets = new LongAdder[LATENCY_BUCKETS.length];
        private final LongAdder count = new LongAdder();
        private final LongAdder sumNanos = new LongAdder();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        void observe(long nanos) {
            double seconds = nanos / 1e9;
            for (int i = 0; i < LATENCY_BUCKETS.length; i++) {
                if (seconds <= LATENCY_BUCKETS[i]) {
                    buckets[i].increment();
                    break;
                }
            }
            count.increment();
            sumNanos.add(nanos);
        }

        void write(StringBuilder out, String name, RouteMetrics r) {
            // Read the count first: buckets observed after it only make the +Inf bucket lag, never exceed.
            long total = count.sum();
            long cumulative = 0;
            for (int i = 0; i < LATENCY_BUCKETS.length; i++) {
                cumulative += buckets[i].sum();
                sample(
                        out,
                        name + "_bucket",
                        r.labels("le", Double.toString(LATENCY_BUCKETS[i])),
                        Math.min(cumulative, total));
            }
            sample(out, name + "_bucket", r.labels("le", "+Inf"), total);
            out.append(name)
                    .append("_sum")
                    .append(r.labels())
                    .append(' ')
                    .append(sumNanos.sum() / 1e9)
                    .append('\n');
            sample(out, name + "_count", r.labels(), total);
        }
    }
}
