package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.sts.internal.BoundedBody;
import dev.optls.policy.sts.internal.WebPkiTrustManager;
import dev.optls.tls.TrustAnchors;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;

/**
 * Fetches {@code https://mta-sts.<domain>/.well-known/mta-sts.txt} with the JDK {@link HttpClient} as RFC 8461
 * §3.3 requires: a PKIX-valid certificate for {@code mta-sts.<domain>} (SNI set to that name), TLS 1.2 or newer,
 * HTTP 200 only, no redirects, {@code Content-Type: text/plain}, at most {@value StsPolicy#MAX_SIZE} bytes counted
 * while reading, a connect timeout and an overall time limit for the whole exchange, and no HTTP caching. Every
 * failure is a {@link StsFetch.Failed} naming its TLS-RPT result type.
 *
 * <pre>{@code
 * PolicyFetcher fetcher = HttpsPolicyFetcher.builder().build();   // JDK default trust store
 * StsFetch result = fetcher.fetch("example.com");
 * }</pre>
 *
 * <p>The host name is resolved by the JDK resolver. One instance holds one {@link HttpClient} (with its threads) and
 * is meant to be shared.
 */
public final class HttpsPolicyFetcher implements PolicyFetcher {

    /** RFC 8461 §3.3: the policy host is {@code mta-sts.} followed by the policy domain. */
    public static final String HOST_PREFIX = "mta-sts.";

    /** RFC 8461 §3.3: the path of the policy on the policy host. */
    public static final String PATH = "/.well-known/mta-sts.txt";

    private final Duration timeout;
    private final int maxSize;
    private final HttpClient client;
    private final Map<String, Target> overrides;

    private record Target(int port, HttpClient client) {}

    private HttpsPolicyFetcher(Builder builder) {
        this.timeout = builder.timeout;
        this.maxSize = builder.maxSize;
        SSLContext context = sslContext(builder.trustAnchors);
        this.client = client(builder, context, null);
        Map<String, Target> targets = new HashMap<>();
        builder.loopbackPorts.forEach(
                (host, port) -> targets.put(host, new Target(port, client(builder, context, host))));
        this.overrides = Map.copyOf(targets);
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
        Target target = overrides.get(host);
        URI uri = target == null ? policyUri(domain) : URI.create("https://127.0.0.1:" + target.port() + PATH);
        HttpClient http = target == null ? client : target.client();
        HttpRequest request = HttpRequest.newBuilder(uri)
                .GET()
                .timeout(timeout)
                .header("Accept", "text/plain")
                // RFC 8461 §3.3: no HTTP caching (RFC 7234) — tell any cache on the way, too.
                .header("Cache-Control", "no-cache")
                .build();
        BoundedBody handler = new BoundedBody(maxSize);
        CompletableFuture<HttpResponse<BoundedBody.Result>> response = http.sendAsync(request, handler);
        BoundedBody.Result result;
        try {
            // The request timeout covers the response headers only; this covers the body as well.
            result = response.get(timeout.toMillis(), TimeUnit.MILLISECONDS).body();
        } catch (TimeoutException e) {
            response.cancel(true);
            handler.cancel();
            return new StsFetch.Failed(
                    StsFetchFailure.TIMEOUT,
                    "no complete policy from " + host + " within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            response.cancel(true);
            handler.cancel();
            Thread.currentThread().interrupt();
            return new StsFetch.Failed(StsFetchFailure.IO, "interrupted while fetching the policy from " + host);
        } catch (ExecutionException | CancellationException e) {
            return classify(host, e.getCause() != null ? e.getCause() : e);
        }
        if (result instanceof BoundedBody.Rejected rejected) {
            return new StsFetch.Failed(rejected.failure(), rejected.detail() + " (" + uri(host) + ")");
        }
        byte[] body = ((BoundedBody.Body) result).bytes();
        StsPolicyParse parsed = StsPolicy.parse(body);
        if (parsed instanceof StsPolicyParse.Parsed ok) {
            return new StsFetch.Fetched(ok.policy());
        }
        return new StsFetch.Failed(
                StsFetchFailure.POLICY_SYNTAX,
                "the policy at " + uri(host) + " is invalid: " + ((StsPolicyParse.Invalid) parsed).reason());
    }

    private static String uri(String host) {
        return "https://" + host + PATH;
    }

    private static StsFetch classify(String host, Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof WebPkiTrustManager.WebPkiException webPki) {
                return new StsFetch.Failed(webPki.failure(), webPki.getMessage());
            }
        }
        String message = describe(failure);
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException) {
                return new StsFetch.Failed(StsFetchFailure.TIMEOUT, "connecting to " + host + " timed out");
            }
            if (t instanceof HttpTimeoutException) {
                return new StsFetch.Failed(
                        StsFetchFailure.TIMEOUT, "no response from " + host + " within the time limit");
            }
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return new StsFetch.Failed(StsFetchFailure.CONNECT, "cannot resolve " + host + ": " + message);
            }
            if (t instanceof ConnectException) {
                return new StsFetch.Failed(StsFetchFailure.CONNECT, "cannot connect to " + host + ": " + message);
            }
            if (t instanceof SSLException) {
                return new StsFetch.Failed(StsFetchFailure.TLS, "TLS with " + host + " failed: " + message);
            }
        }
        if (failure instanceof IOException) {
            return new StsFetch.Failed(StsFetchFailure.IO, "fetching the policy from " + host + " failed: " + message);
        }
        return new StsFetch.Failed(
                StsFetchFailure.IO, "fetching the policy from " + host + " failed unexpectedly: " + message);
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

    private static SSLContext sslContext(TrustAnchors anchors) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new WebPkiTrustManager(anchors)}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a TLS context for MTA-STS fetches", e);
        }
    }

    private static HttpClient client(Builder builder, SSLContext context, String sniHost) {
        SSLParameters parameters = new SSLParameters();
        // RFC 8461 §7.2 (and RFC 8996): TLS 1.2 or newer.
        parameters.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        if (sniHost != null) {
            // A test target is reached by address: name the policy host in SNI ourselves (the certificate check
            // uses this name too).
            parameters.setServerNames(List.of(new SNIHostName(sniHost)));
        }
        HttpClient.Builder http = HttpClient.newBuilder()
                .sslContext(context)
                .sslParameters(parameters)
                // RFC 8461 §3.3: 3xx redirects must not be followed.
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(builder.connectTimeout);
        if (sniHost != null) {
            http.proxy(HttpClient.Builder.NO_PROXY);
        }
        return http.build();
    }

    /** Settings of a {@link HttpsPolicyFetcher}. */
    public static final class Builder {
        private TrustAnchors trustAnchors = TrustAnchors.jdkDefault();
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration timeout = Duration.ofSeconds(60);
        private int maxSize = StsPolicy.MAX_SIZE;
        private final Map<String, Integer> loopbackPorts = new HashMap<>();

        private Builder() {}

        /** The roots certificates of policy hosts must chain to (the JDK default trust store by default). */
        public Builder trustAnchors(TrustAnchors anchors) {
            this.trustAnchors = Objects.requireNonNull(anchors, "anchors");
            return this;
        }

        /** The time limit for the TCP connection (10 s by default). */
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
         * For tests: connect to {@code 127.0.0.1:port} instead of resolving {@code host} (e.g. {@code
         * mta-sts.example.test}). SNI and the certificate check still use {@code host}; the HTTP Host header carries
         * the address. Only loopback can be targeted this way.
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
