package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.dane.FakeDns;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.rpt.TlsRptResult;
import dev.optls.testkit.ClosedPort;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TrustAnchors;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Policy fetches (RFC 8461 §3.3) against a real HTTPS server on loopback with test PKI certificates: the good case
 * and each way a fetch fails, each with its TLS-RPT result type.
 */
class HttpsPolicyFetcherTest {

    private static final TestPki PKI = TestPki.create();
    private static final String DOMAIN = "example.test";
    private static final String HOST = "mta-sts.example.test";
    private static final Credential GOOD = PKI.issue(HOST);

    /** A loopback port where connections are refused, held for the test (see {@link ClosedPort}). */
    private final ClosedPort refusing = ClosedPort.open();

    private PolicyServer server;

    @AfterEach
    void stop() {
        refusing.close();
        if (server != null) {
            server.close();
        }
    }

    @Test
    void fetchesAValidPolicyWithSniAndTheWellKnownPath() throws IOException {
        server = PolicyServer.start(
                GOOD, PolicyServer.respond(200, "text/plain; charset=utf-8", PolicyServer.GOOD_POLICY));

        StsFetch result = fetcher(Duration.ofSeconds(10)).fetch(DOMAIN);

        assertThat(result).isInstanceOfSatisfying(StsFetch.Fetched.class, f -> {
            assertThat(f.policy().mode()).isEqualTo(StsMode.ENFORCE);
            assertThat(f.policy().matches("mx.example.test")).isTrue();
            assertThat(f.policy().text()).isEqualTo(PolicyServer.GOOD_POLICY);
        });
        assertThat(server.requests).containsExactly("GET /.well-known/mta-sts.txt");
        assertThat(server.sniNames).containsExactly(HOST);
        assertThat(server.hostFields).containsExactly(HOST + ":" + server.port());
        assertThat(HttpsPolicyFetcher.policyUri("Example.TEST."))
                .hasToString("https://mta-sts.example.test/.well-known/mta-sts.txt");
    }

    /**
     * The policy host resolved through the mail policy's DnsResolver: its first address refuses the connection (no
     * server on 127.0.0.2), the second one serves the policy.
     */
    @Test
    void thePolicyHostIsResolvedThroughTheDnsResolverAndEachAddressTried() throws Exception {
        server = PolicyServer.start(GOOD, PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY));
        FakeDns dns = new FakeDns()
                .answer(
                        HOST,
                        RecordType.A,
                        new DnsAnswer.Records<>(
                                HOST,
                                RecordType.A,
                                List.of(),
                                DnssecStatus.INSECURE,
                                List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.1"))));

        StsFetch result = resolvingFetcher(dns).fetch(DOMAIN);

        assertThat(result).isInstanceOf(StsFetch.Fetched.class);
        assertThat(dns.asked).startsWith("A " + HOST);
        assertThat(server.sniNames).containsExactly(HOST);
        assertThat(server.hostFields).containsExactly(HOST + ":" + server.port());
    }

    @Test
    void aPolicyHostThatDoesNotResolveIsAFetchErrorNamingTheLookup() throws Exception {
        server = PolicyServer.start(GOOD, PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY));
        FakeDns nothing = new FakeDns();
        assertFailed(
                resolvingFetcher(nothing).fetch(DOMAIN),
                StsFetchFailure.CONNECT,
                TlsRptResult.STS_POLICY_FETCH_ERROR,
                "cannot resolve " + HOST + ": " + HOST + " does not exist (NXDOMAIN)");

        FakeDns bogus = new FakeDns()
                .fail(HOST, RecordType.A, DnssecStatus.BOGUS, LookupFailure.DNSSEC_BOGUS)
                .fail(HOST, RecordType.AAAA, DnssecStatus.BOGUS, LookupFailure.DNSSEC_BOGUS);
        assertFailed(
                resolvingFetcher(bogus).fetch(DOMAIN),
                StsFetchFailure.CONNECT,
                TlsRptResult.STS_POLICY_FETCH_ERROR,
                "A lookup failed");
        assertThat(server.requests).isEmpty();
    }

    /** A policy domain TLS cannot name (SNI takes host names only): a fetch error, before any lookup. */
    @Test
    void aPolicyHostThatSniCannotNameIsAFetchErrorWithoutALookup() throws Exception {
        server = PolicyServer.start(GOOD, PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY));
        FakeDns dns = new FakeDns();
        assertFailed(
                resolvingFetcher(dns).fetch("under_score.test"),
                StsFetchFailure.CONNECT,
                TlsRptResult.STS_POLICY_FETCH_ERROR,
                "mta-sts.under_score.test cannot be named in TLS");
        assertThat(dns.asked).isEmpty();
    }

    private HttpsPolicyFetcher resolvingFetcher(FakeDns dns) {
        return HttpsPolicyFetcher.builder()
                .trustAnchors(TrustAnchors.of(PKI.trustStore()))
                .resolver(dns)
                .portForTesting(server.port())
                .timeout(Duration.ofSeconds(10))
                .build();
    }

    @Test
    void aWildcardCertificateForThePolicyHostIsAccepted() throws IOException {
        server = PolicyServer.start(
                PKI.issue("*.example.test"), PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY));

        assertThat(fetcher(Duration.ofSeconds(10)).fetch(DOMAIN)).isInstanceOf(StsFetch.Fetched.class);
    }

    @Test
    void aRedirectIsNotFollowed() throws IOException {
        server = PolicyServer.start(GOOD, exchange -> {
            exchange.getResponseHeaders().set("Location", "https://" + HOST + "/elsewhere.txt");
            exchange.sendResponseHeaders(301, -1);
        });

        StsFetch result = fetcher(Duration.ofSeconds(10)).fetch(DOMAIN);

        assertFailed(result, StsFetchFailure.REDIRECT, TlsRptResult.STS_POLICY_FETCH_ERROR, "not followed");
        assertThat(server.requests).containsExactly("GET /.well-known/mta-sts.txt");
    }

    @Test
    void notFoundIsAFetchError() throws IOException {
        server = PolicyServer.start(GOOD, PolicyServer.respond(404, "text/plain", "no policy here"));

        assertFailed(
                fetcher(Duration.ofSeconds(10)).fetch(DOMAIN),
                StsFetchFailure.HTTP_STATUS,
                TlsRptResult.STS_POLICY_FETCH_ERROR,
                "HTTP 404");
    }

    @Test
    void aWrongContentTypeIsRefused() throws IOException {
        server = PolicyServer.start(GOOD, PolicyServer.respond(200, "text/html", PolicyServer.GOOD_POLICY));

        assertFailed(
                fetcher(Duration.ofSeconds(10)).fetch(DOMAIN),
                StsFetchFailure.CONTENT_TYPE,
                TlsRptResult.STS_POLICY_INVALID,
                "text/html");
    }

    @Test
    void anInvalidPolicyBodyIsRefused() throws IOException {
        server = PolicyServer.start(GOOD, PolicyServer.respond(200, "text/plain", "version: STSv1\nmode: enforce\n"));

        assertFailed(
                fetcher(Duration.ofSeconds(10)).fetch(DOMAIN),
                StsFetchFailure.POLICY_SYNTAX,
                TlsRptResult.STS_POLICY_INVALID,
                "no max_age");
    }

    @Test
    void anEndlessBodyIsCutOffWhileReading() throws Exception {
        AtomicLong written = new AtomicLong();
        CountDownLatch aborted = new CountDownLatch(1);
        server = PolicyServer.start(GOOD, exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, 0); // chunked, no length announced
            byte[] chunk = ("x-pad: " + "y".repeat(8185) + "\n").getBytes(StandardCharsets.US_ASCII);
            try {
                for (int i = 0; i < 64 * 1024; i++) { // up to 512 MiB: far more than any buffer
                    PolicyServer.write(exchange, chunk);
                    written.addAndGet(chunk.length);
                }
            } catch (IOException e) {
                aborted.countDown();
            }
        });
        long start = System.nanoTime();

        StsFetch result = fetcher(Duration.ofSeconds(20)).fetch(DOMAIN);

        assertFailed(result, StsFetchFailure.TOO_LARGE, TlsRptResult.STS_POLICY_INVALID, "more than 65536 bytes");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(aborted.await(10, TimeUnit.SECONDS))
                .as("the server's writes fail once the client gives up")
                .isTrue();
        assertThat(written.get()).isLessThan(64L * 1024 * 8192);
    }

    @Test
    void anAnnouncedOversizedBodyIsRefusedBeforeReading() throws IOException {
        String body = PolicyServer.GOOD_POLICY + "pad: " + "z".repeat(StsPolicy.MAX_SIZE) + "\n";
        server = PolicyServer.start(GOOD, PolicyServer.respond(200, "text/plain", body));

        assertFailed(
                fetcher(Duration.ofSeconds(10)).fetch(DOMAIN),
                StsFetchFailure.TOO_LARGE,
                TlsRptResult.STS_POLICY_INVALID,
                "Content-Length");
    }

    @Test
    void aServerThatStallsBeforeAnsweringTimesOut() throws IOException {
        server = PolicyServer.start(GOOD, exchange -> {
            server.release();
            PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY).handle(exchange);
        });

        assertFailed(
                fetcher(Duration.ofMillis(700)).fetch(DOMAIN),
                StsFetchFailure.TIMEOUT,
                TlsRptResult.STS_POLICY_FETCH_ERROR,
                HOST);
    }

    @Test
    void aServerThatStallsInTheBodyTimesOut() throws IOException {
        server = PolicyServer.start(GOOD, exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, PolicyServer.GOOD_POLICY.length());
            PolicyServer.write(exchange, "version: STSv1\r\n".getBytes(StandardCharsets.US_ASCII));
            server.release();
        });
        long start = System.nanoTime();

        StsFetch result = fetcher(Duration.ofMillis(700)).fetch(DOMAIN);

        assertFailed(result, StsFetchFailure.TIMEOUT, TlsRptResult.STS_POLICY_FETCH_ERROR, "within 700 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    /** A server that trickles a byte every 50 ms: no read waits long, the deadline still ends the fetch. */
    @Test
    void aServerThatTricklesTheBodyTimesOutAtTheDeadline() throws IOException {
        server = PolicyServer.start(GOOD, exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, 0);
            try {
                for (int i = 0; i < 600; i++) {
                    PolicyServer.write(exchange, new byte[] {'#'});
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long start = System.nanoTime();

        StsFetch result = fetcher(Duration.ofMillis(700)).fetch(DOMAIN);

        assertFailed(result, StsFetchFailure.TIMEOUT, TlsRptResult.STS_POLICY_FETCH_ERROR, "within 700 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void aCertificateForAnotherNameIsRefused() throws IOException {
        server = PolicyServer.start(
                PKI.issue("mta-sts.other.test"), PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY));

        assertFailed(
                fetcher(Duration.ofSeconds(10)).fetch(DOMAIN),
                StsFetchFailure.CERTIFICATE_NAME_MISMATCH,
                TlsRptResult.STS_WEBPKI_INVALID,
                HOST);
        assertThat(server.requests).isEmpty();
    }

    @Test
    void aCertificateForTheDomainItselfIsRefused() throws IOException {
        server = PolicyServer.start(
                PKI.issue(DOMAIN, "mx.example.test"),
                PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY));

        assertFailed(
                fetcher(Duration.ofSeconds(10)).fetch(DOMAIN),
                StsFetchFailure.CERTIFICATE_NAME_MISMATCH,
                TlsRptResult.STS_WEBPKI_INVALID,
                HOST);
    }

    @Test
    void anExpiredCertificateIsRefused() throws IOException {
        server = PolicyServer.start(
                PKI.leaf(HOST).expired().issue(), PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY));

        assertFailed(
                fetcher(Duration.ofSeconds(10)).fetch(DOMAIN),
                StsFetchFailure.CERTIFICATE_EXPIRED,
                TlsRptResult.STS_WEBPKI_INVALID,
                "expired");
        assertThat(server.requests).isEmpty();
    }

    @Test
    void aCertificateFromAnUntrustedCaIsRefused() throws IOException {
        server = PolicyServer.start(
                PKI.leaf(HOST).signedByUntrustedCa().issue(),
                PolicyServer.respond(200, "text/plain", PolicyServer.GOOD_POLICY));

        assertFailed(
                fetcher(Duration.ofSeconds(10)).fetch(DOMAIN),
                StsFetchFailure.CERTIFICATE_NOT_TRUSTED,
                TlsRptResult.STS_WEBPKI_INVALID,
                HOST);
    }

    @Test
    void aClosedPortIsAConnectError() throws IOException {
        int port = refusing.port();
        PolicyFetcher fetcher = HttpsPolicyFetcher.builder()
                .trustAnchors(TrustAnchors.of(PKI.trustStore()))
                .connectToLoopback(HOST, port)
                .build();

        assertFailed(fetcher.fetch(DOMAIN), StsFetchFailure.CONNECT, TlsRptResult.STS_POLICY_FETCH_ERROR, HOST);
    }

    private HttpsPolicyFetcher fetcher(Duration timeout) {
        return HttpsPolicyFetcher.builder()
                .trustAnchors(TrustAnchors.of(PKI.trustStore()))
                .connectTimeout(Duration.ofSeconds(5))
                .timeout(timeout)
                .connectToLoopback(HOST, server.port())
                .build();
    }

    private static void assertFailed(
            StsFetch result, StsFetchFailure failure, TlsRptResult rpt, String detailFragment) {
        assertThat(result).isInstanceOfSatisfying(StsFetch.Failed.class, f -> {
            assertThat(f.failure()).as(f.detail()).isEqualTo(failure);
            assertThat(f.tlsRptResult()).isEqualTo(rpt);
            assertThat(f.detail()).contains(detailFragment);
        });
    }
}
