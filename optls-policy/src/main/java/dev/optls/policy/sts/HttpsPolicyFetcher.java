package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.HostAddresses;
import dev.optls.policy.sts.internal.PolicyResponse;
import dev.optls.policy.sts.internal.WebPkiTrustManager;
import dev.optls.tls.TrustAnchors;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * Fetches {@code https://mta-sts.<domain>/.well-known/mta-sts.txt} as RFC 8461 §3.3 requires: a PKIX-valid
 * certificate for {@code mta-sts.<domain>} (SNI set to that name), TLS 1.2 or newer, HTTP 200 only, no redirects,
 * {@code Content-Type: text/plain}, at most {@value StsPolicy#MAX_SIZE} bytes counted while reading, a connect timeout
 * and an overall time limit for the whole exchange, and no HTTP caching. Every failure is a {@link StsFetch.Failed}
 * naming its TLS-RPT result type.
 *
 * <pre>{@code
 * PolicyFetcher fetcher = HttpsPolicyFetcher.builder().resolver(dns).build();   // JDK default trust store
 * StsFetch result = fetcher.fetch("example.com");
 * }</pre>
 *
 * <p>The policy host is resolved through the {@link Builder#resolver DnsResolver} the rest of the mail policy uses
 * (its A, then AAAA records, CNAMEs followed; at most {@value #MAX_ADDRESSES} addresses are tried, each until one
 * accepts the connection), or by the JDK resolver when none is given. One HTTP/1.1 request per connection
 * ({@code Connection: close}), read on the calling thread ({@link PolicyResponse}); no proxy is used.
 */
public final class HttpsPolicyFetcher implements PolicyFetcher {

    /** RFC 8461 §3.3: the policy host is {@code mta-sts.} followed by the policy domain. */
    public static final String HOST_PREFIX = "mta-sts.";

    /** RFC 8461 §3.3: the path of the policy on the policy host. */
    public static final String PATH = "/.well-known/mta-sts.txt";

    /** The most addresses of the policy host tried. */
    public static final int MAX_ADDRESSES = 4;

    private static final int HTTPS_PORT = 443;

    private final Duration connectTimeout;
    private final Duration timeout;
    private final int maxSize;
    private final Optional<DnsResolver> dns;
    private final int port;
    private final SSLSocketFactory tls;
    private final Map<String, Integer> overrides;

    private HttpsPolicyFetcher(Builder builder) {
        this.connectTimeout = builder.connectTimeout;
        this.timeout = builder.timeout;
        this.maxSize = builder.maxSize;
        this.dns = builder.dns;
        this.port = builder.port;
        this.tls = sslContext(builder.trustAnchors).getSocketFactory();
        this.overrides = Map.copyOf(builder.loopbackPorts);
    }

    /** A builder with the defaults: JDK trust store, 10 s to connect, 60 s for the whole fetch (RFC 8461 §3.3). */
    public static Builder builder() {
        return new Builder();
    }

    /** The policy URL of {@code policyDomain} (RFC 8461 §3.3). */
    public static URI policyUri(String policyDomain) {
        return URI.create("https://" + HOST_PREFIX + DnsNames.normalize(policyDomain) + PATH);
    }

    @Override
    public StsFetch fetch(String policyDomain) {
        String domain = DnsNames.normalize(policyDomain);
        if (domain.isEmpty()) {
            throw new IllegalArgumentException("the policy domain must not be the root");
        }
        String host = HOST_PREFIX + domain;
        SNIHostName sni;
        try {
            sni = new SNIHostName(host);
        } catch (IllegalArgumentException e) {
            return new StsFetch.Failed(
                    StsFetchFailure.CONNECT, host + " cannot be named in TLS (SNI, RFC 6066 §3): " + e.getMessage());
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Integer loopbackPort = overrides.get(host);
        int targetPort = loopbackPort != null ? loopbackPort : port;
        List<InetAddress> addresses = new ArrayList<>();
        if (loopbackPort != null) {
            addresses.add(InetAddress.getLoopbackAddress());
        } else {
            Optional<String> problem = resolve(host, addresses);
            if (problem.isPresent()) {
                return new StsFetch.Failed(StsFetchFailure.CONNECT, "cannot resolve " + host + ": " + problem.get());
            }
        }
        StsFetch.Failed failed = null;
        for (InetAddress address : addresses) {
            long left = remainingMillis(deadline);
            if (left <= 0) {
                return timedOut(host);
            }
            Socket raw = new Socket();
            String where = host + " (" + address.getHostAddress() + " port " + targetPort + ")";
            try {
                raw.connect(
                        new InetSocketAddress(address, targetPort), (int) Math.min(connectTimeout.toMillis(), left));
            } catch (IOException e) {
                closeQuietly(raw);
                failed = e instanceof SocketTimeoutException
                        ? new StsFetch.Failed(StsFetchFailure.TIMEOUT, "connecting to " + where + " timed out")
                        : new StsFetch.Failed(
                                StsFetchFailure.CONNECT, "cannot connect to " + where + ": " + describe(e));
                continue;
            }
            // Connected: what happens on this connection is the fetch's outcome; no other address is tried. The
            // socket is closed at the deadline, whatever the server sends or withholds (a read timeout alone would
            // not bound a server that trickles).
            AtomicBoolean expired = new AtomicBoolean();
            ScheduledFuture<?> guard = Deadlines.SCHEDULER.schedule(
                    () -> {
                        expired.set(true);
                        closeQuietly(raw);
                    },
                    remainingMillis(deadline),
                    TimeUnit.MILLISECONDS);
            try (Socket connection = raw) {
                return exchange(connection, host, sni, targetPort);
            } catch (IOException e) {
                return expired.get() ? timedOut(host) : classify(host, e);
            } finally {
                guard.cancel(false);
            }
        }
        return Objects.requireNonNull(failed, "no address was tried");
    }

    /** TLS, the request, the response: over {@code raw}, connected to the policy host. */
    private StsFetch exchange(Socket raw, String host, SNIHostName sni, int targetPort) throws IOException {
        SSLSocket socket = (SSLSocket) tls.createSocket(raw, host, targetPort, true);
        SSLParameters parameters = socket.getSSLParameters();
        // RFC 8461 §7.2 (and RFC 8996): TLS 1.2 or newer.
        parameters.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        // RFC 8461 §3.3: the certificate is checked for the policy host, named in SNI (RFC 6066 §3).
        parameters.setServerNames(List.of(sni));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
        OutputStream out = socket.getOutputStream();
        String authority = targetPort == HTTPS_PORT ? host : host + ":" + targetPort;
        out.write(("GET " + PATH + " HTTP/1.1\r\n"
                        + "Host: " + authority + "\r\n"
                        + "Accept: text/plain\r\n"
                        // RFC 8461 §3.3: no HTTP caching (RFC 9111) — tell any cache on the way, too.
                        + "Cache-Control: no-cache\r\n"
                        + "Connection: close\r\n"
                        + "User-Agent: optls\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        PolicyResponse.Result result = PolicyResponse.read(in, maxSize);
        if (result instanceof PolicyResponse.Rejected rejected) {
            return new StsFetch.Failed(rejected.failure(), rejected.detail() + " (" + uri(host) + ")");
        }
        byte[] body = ((PolicyResponse.Body) result).bytes();
        StsPolicyParse parsed = StsPolicy.parse(body);
        if (parsed instanceof StsPolicyParse.Parsed ok) {
            return new StsFetch.Fetched(ok.policy());
        }
        return new StsFetch.Failed(
                StsFetchFailure.POLICY_SYNTAX,
                "the policy at " + uri(host) + " is invalid: " + ((StsPolicyParse.Invalid) parsed).reason());
    }

    /** The addresses of {@code host} into {@code out} (bounded); the problem when there are none. */
    private Optional<String> resolve(String host, List<InetAddress> out) {
        if (dns.isEmpty()) {
            try {
                for (InetAddress address : InetAddress.getAllByName(host)) {
                    if (out.size() < MAX_ADDRESSES) {
                        out.add(address);
                    }
                }
                return Optional.empty();
            } catch (UnknownHostException e) {
                return Optional.of(describe(e));
            }
        }
        HostAddresses found = HostAddresses.lookup(dns.get(), host, MAX_ADDRESSES);
        out.addAll(found.addresses());
        return found.problem();
    }

    /** Closes the sockets of fetches whose time is up. */
    private static final class Deadlines {
        static final ScheduledExecutorService SCHEDULER = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "optls-mta-sts-deadlines");
            t.setDaemon(true);
            return t;
        });
    }

    private static long remainingMillis(long deadline) {
        return (deadline - System.nanoTime()) / 1_000_000;
    }

    private StsFetch.Failed timedOut(String host) {
        return new StsFetch.Failed(
                StsFetchFailure.TIMEOUT, "no complete policy from " + host + " within " + timeout.toMillis() + " ms");
    }

    private static String uri(String host) {
        return "https://" + host + PATH;
    }

    /** A failure on the connected socket: the certificate check, TLS, or the exchange. */
    private static StsFetch classify(String host, IOException failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof WebPkiTrustManager.WebPkiException webPki) {
                return new StsFetch.Failed(webPki.failure(), webPki.getMessage());
            }
        }
        String message = describe(failure);
        if (failure instanceof SSLException) {
            return new StsFetch.Failed(StsFetchFailure.TLS, "TLS with " + host + " failed: " + message);
        }
        return new StsFetch.Failed(StsFetchFailure.IO, "fetching the policy from " + host + " failed: " + message);
    }

    private static String describe(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text =
                root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
        return root == failure || failure.getMessage() == null ? text : failure.getMessage() + " (" + text + ")";
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing was sent on it
        }
    }

    private static SSLContext sslContext(TrustAnchors anchors) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new WebPkiTrustManager(anchors)}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a TLS context for MTA-STS fetches", e);
        }
    }

    /** Settings of a {@link HttpsPolicyFetcher}. */
    public static final class Builder {
        private TrustAnchors trustAnchors = TrustAnchors.jdkDefault();
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration timeout = Duration.ofSeconds(60);
        private int maxSize = StsPolicy.MAX_SIZE;
        private Optional<DnsResolver> dns = Optional.empty();
        private int port = HTTPS_PORT;
        private final Map<String, Integer> loopbackPorts = new HashMap<>();

        private Builder() {}

        /** The roots certificates of policy hosts must chain to (the JDK default trust store by default). */
        public Builder trustAnchors(TrustAnchors anchors) {
            this.trustAnchors = Objects.requireNonNull(anchors, "anchors");
            return this;
        }

        /**
         * Resolves policy hosts through {@code resolver} (the one DANE and the MX lookups use), instead of the JDK
         * resolver. RFC 8461 does not require DNSSEC for the policy host: insecure answers are used, failed ones
         * (SERVFAIL, bogus) fail the fetch.
         */
        public Builder resolver(DnsResolver resolver) {
            this.dns = Optional.of(Objects.requireNonNull(resolver, "resolver"));
            return this;
        }

        /** The time limit for the TCP connection to each address (10 s by default). */
        public Builder connectTimeout(Duration limit) {
            this.connectTimeout = positive(limit, "connectTimeout");
            return this;
        }

        /**
         * The time limit for the whole fetch, body included (60 s by default; RFC 8461 §3.3 suggests a 60 s
         * timeout).
         */
        public Builder timeout(Duration limit) {
            this.timeout = positive(limit, "timeout");
            return this;
        }

        /** The largest body accepted, at most and by default {@value StsPolicy#MAX_SIZE} bytes. */
        public Builder maxSize(int bytes) {
            if (bytes < 1 || bytes > StsPolicy.MAX_SIZE) {
                throw new IllegalArgumentException("maxSize must be 1.." + StsPolicy.MAX_SIZE + ", not " + bytes);
            }
            this.maxSize = bytes;
            return this;
        }

        /**
         * For tests: connect to {@code port} instead of 443 (RFC 8461 §3.3) on the addresses the policy host
         * resolves to.
         */
        public Builder portForTesting(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("not a TCP port: " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * For tests: connect to {@code 127.0.0.1:port} instead of resolving {@code host} (e.g. {@code
         * mta-sts.example.test}). SNI, the {@code Host} field and the certificate check still use {@code host}. Only
         * loopback can be targeted this way.
         */
        public Builder connectToLoopback(String host, int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("not a TCP port: " + port);
            }
            loopbackPorts.put(DnsNames.normalize(host), port);
            return this;
        }

        /** Makes the fetcher. */
        public HttpsPolicyFetcher build() {
            return new HttpsPolicyFetcher(this);
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, not " + d);
            }
            return d;
        }
    }
}
