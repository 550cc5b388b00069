package dev.optls.gateway;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A loaded, checked gateway configuration.
 *
 * @param source where it was read from (for messages)
 * @param routes at least one route, names unique
 * @param settings the {@code [gateway]} table: drain timeout, metrics address, certificate checks
 * @param operations per route name: connection limits and the certificate files to watch (routes not in
 *     the map get {@link Operations#DEFAULT})
 */
public record GatewayConfig(String source, List<Route> routes, Settings settings, Map<String, Operations> operations) {
    public GatewayConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(settings, "settings");
        routes = List.copyOf(routes);
        operations = Map.copyOf(operations);
    }

    /** Routes with the default settings and limits, and no certificate files to watch (embedding, tests). */
    public GatewayConfig(String source, List<Route> routes) {
        this(source, routes, Settings.DEFAULT, Map.of());
    }

    /** The operations of {@code route}: its limits and certificate files. */
    public Operations operations(Route route) {
        return operations.getOrDefault(route.name(), Operations.DEFAULT);
    }

    /**
     * Global settings ({@code [gateway]} table).
     *
     * @param drainTimeout how long open sessions may go on after shutdown begins before they are cut
     * @param metrics where to serve Prometheus metrics ({@code /metrics}); empty: no metrics port
     * @param certificateCheck how often certificate and key files are checked for changes
     */
    public record Settings(Duration drainTimeout, Optional<Route.HostPort> metrics, Duration certificateCheck) {
        /** Drain 30 s, no metrics port, certificate files checked every 5 s. */
        public static final Settings DEFAULT =
                new Settings(Duration.ofSeconds(30), Optional.empty(), Duration.ofSeconds(5));

        public Settings {
            Objects.requireNonNull(drainTimeout, "drainTimeout");
            Objects.requireNonNull(metrics, "metrics");
            Objects.requireNonNull(certificateCheck, "certificateCheck");
            if (drainTimeout.isNegative() || certificateCheck.isNegative() || certificateCheck.isZero()) {
                throw new IllegalArgumentException("durations must be positive");
            }
        }

        /** The same settings with another metrics address. */
        public Settings withMetrics(Optional<Route.HostPort> address) {
            return new Settings(drainTimeout, address, certificateCheck);
        }

        /** The same settings with another certificate check interval. */
        public Settings withCertificateCheck(Duration interval) {
            return new Settings(drainTimeout, metrics, interval);
        }
    }

    /**
     * How a route is operated.
     *
     * @param maxConnections connections the route holds open at once; more are closed at accept
     * @param maxConnectionsPerClient connections one client address holds open on the route at once
     * @param certificateFiles the PEM files the route's certificate came from, watched for changes; empty:
     *     the certificate is fixed
     * @param acceptProxyProtocol clients connect through a load balancer that sends a PROXY protocol header
     *     (v1 or v2) first; connections without one are closed
     * @param proxyProtocol the PROXY protocol header sent to the backend first, if any
     * @param sniCertificateFiles the PEM files of the route's further certificates (chosen by SNI), in the
     *     order of the route's {@code certificates}, watched and reloaded with the default one
     * @param ticketKeys the session ticket key file shared with other instances (BoringSSL engine), re-read
     *     and re-applied on every reload
     */
    public record Operations(
            int maxConnections,
            int maxConnectionsPerClient,
            Optional<CertificateFiles> certificateFiles,
            boolean acceptProxyProtocol,
            Optional<ProxyHeader> proxyProtocol,
            List<CertificateFiles> sniCertificateFiles,
            Optional<Path> ticketKeys) {
        /** Default limit per route. */
        public static final int DEFAULT_MAX_CONNECTIONS = 20_000;
        /** Default limit per client address and route. */
        public static final int DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 1_000;
        /** The default limits, no certificate files. */
        public static final Operations DEFAULT =
                new Operations(DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_CLIENT, Optional.empty());

        /** Limits and certificate files, no PROXY protocol. */
        public Operations(
                int maxConnections, int maxConnectionsPerClient, Optional<CertificateFiles> certificateFiles) {
            this(maxConnections, maxConnectionsPerClient, certificateFiles, false, Optional.empty());
        }

        /** Limits, the certificate files and PROXY protocol; one certificate, no ticket key file. */
        public Operations(
                int maxConnections,
                int maxConnectionsPerClient,
                Optional<CertificateFiles> certificateFiles,
                boolean acceptProxyProtocol,
                Optional<ProxyHeader> proxyProtocol) {
            this(
                    maxConnections,
                    maxConnectionsPerClient,
                    certificateFiles,
                    acceptProxyProtocol,
                    proxyProtocol,
                    List.of(),
                    Optional.empty());
        }

        public Operations {
            Objects.requireNonNull(certificateFiles, "certificateFiles");
            Objects.requireNonNull(proxyProtocol, "proxyProtocol");
            sniCertificateFiles = List.copyOf(sniCertificateFiles);
            Objects.requireNonNull(ticketKeys, "ticketKeys");
            if (certificateFiles.isEmpty() && !sniCertificateFiles.isEmpty()) {
                throw new IllegalArgumentException("SNI certificates need a default certificate");
            }
            if (maxConnections < 1 || maxConnectionsPerClient < 1) {
                throw new IllegalArgumentException("connection limits must be at least 1");
            }
        }
    }

    /** The PROXY protocol header versions (HAProxy's specification). */
    public enum ProxyHeader {
        /** Text: {@code PROXY TCP4 src dst sport dport\r\n}. */
        V1,
        /** Binary, with the 12-byte signature. */
        V2
    }

    /**
     * The PEM files of a route's certificate.
     *
     * @param chain the certificate chain, leaf first
     * @param key the private key
     */
    public record CertificateFiles(Path chain, Path key) {
        public CertificateFiles {
            Objects.requireNonNull(chain, "chain");
            Objects.requireNonNull(key, "key");
        }
    }
}
