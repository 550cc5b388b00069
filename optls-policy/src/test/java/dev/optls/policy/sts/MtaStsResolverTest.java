package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.rpt.TlsRptResult;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TrustAnchors;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The discovery and cache rules of RFC 8461 §3 and §5.1, each with a fake TXT answer source and the real HTTPS
 * policy server on loopback; the clock is a value the test moves.
 */
class MtaStsResolverTest {

    private static final TestPki PKI = TestPki.create();
    private static final String DOMAIN = "example.test";
    private static final String TXT = "_mta-sts.example.test";
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final String ENFORCE = "version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n";
    private static final String TESTING = "version: STSv1\nmode: testing\nmx: mx2.example.test\nmax_age: 3600\n";
    private static final String NONE = "version: STSv1\nmode: none\nmax_age: 86400\n";

    private final TxtDns dns = new TxtDns();
    private final InMemoryPolicyCache cache = new InMemoryPolicyCache();
    private final AtomicReference<String> served = new AtomicReference<>(ENFORCE);
    private final AtomicInteger status = new AtomicInteger(200);
    private PolicyServer server;
    private MtaStsResolver resolver;

    @BeforeEach
    void start() throws IOException {
        server = PolicyServer.start(
                PKI.issue("mta-sts.example.test"),
                exchange -> PolicyServer.respond(status.get(), "text/plain", served.get())
                        .handle(exchange));
        PolicyFetcher fetcher = HttpsPolicyFetcher.builder()
                .trustAnchors(TrustAnchors.of(PKI.trustStore()))
                .timeout(Duration.ofSeconds(10))
                .connectToLoopback("mta-sts.example.test", server.port())
                .build();
        resolver = new MtaStsResolver(dns, fetcher, cache);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void noRecordAndNothingCachedIsNoPolicyWithoutAFetch() {
        StsDecision decision = resolver.policyFor(DOMAIN, T0);

        assertThat(decision).isInstanceOfSatisfying(StsDecision.NoPolicy.class, d -> {
            assertThat(d.reason()).contains("no TXT record").contains("no cached policy");
            assertThat(d.fetchFailure()).isEmpty();
        });
        assertThat(dns.asked).containsExactly("TXT " + TXT);
        assertThat(server.requests).isEmpty();
    }

    @Test
    void aNewRecordFetchesAndCachesThePolicy() {
        dns.records(TXT, "v=spf1 -all", "v=STSv1; id=one;");

        StsDecision decision = resolver.policyFor("Example.Test.", T0);

        StsDecision.Apply apply = applied(decision, StsDecision.Basis.FETCHED);
        assertThat(apply.mode()).isEqualTo(StsMode.ENFORCE);
        assertThat(apply.allows("mx1.example.test")).isTrue();
        assertThat(apply.allows("mx1.elsewhere.test")).isFalse();
        assertThat(cache.get(DOMAIN)).hasValueSatisfying(c -> {
            assertThat(c.id()).isEqualTo("one");
            assertThat(c.fetchedAt()).isEqualTo(T0);
            assertThat(c.expiresAt()).isEqualTo(T0.plusSeconds(86400));
            assertThat(c.policy().text()).isEqualTo(ENFORCE);
        });
        assertThat(server.requests).hasSize(1);
    }

    @Test
    void anUnchangedIdUsesTheCacheWithoutFetching() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);
        served.set(TESTING); // would be visible if it were fetched again

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(3600));

        assertThat(applied(decision, StsDecision.Basis.CACHED_SAME_ID).mode()).isEqualTo(StsMode.ENFORCE);
        assertThat(server.requests).hasSize(1);
    }

    @Test
    void aChangedIdFetchesAgainAndReplacesTheCache() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);
        dns.records(TXT, "v=STSv1; id=two;");
        served.set(TESTING);

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(60));

        StsDecision.Apply apply = applied(decision, StsDecision.Basis.FETCHED);
        assertThat(apply.mode()).isEqualTo(StsMode.TESTING);
        assertThat(apply.reason()).contains("cached id was one");
        assertThat(cache.get(DOMAIN)).hasValueSatisfying(c -> {
            assertThat(c.id()).isEqualTo("two");
            assertThat(c.expiresAt()).isEqualTo(T0.plusSeconds(60 + 3600));
        });
        assertThat(server.requests).hasSize(2);
    }

    @Test
    void aFailedFetchKeepsApplyingTheValidCachedPolicy() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);
        dns.records(TXT, "v=STSv1; id=two;");
        status.set(404);

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(60));

        StsDecision.Apply apply = applied(decision, StsDecision.Basis.CACHED_FETCH_FAILED);
        assertThat(apply.mode()).isEqualTo(StsMode.ENFORCE);
        assertThat(apply.policy().id()).isEqualTo("one");
        assertThat(apply.fetchFailure()).hasValueSatisfying(f -> {
            assertThat(f.failure()).isEqualTo(StsFetchFailure.HTTP_STATUS);
            assertThat(f.tlsRptResult()).isEqualTo(TlsRptResult.STS_POLICY_FETCH_ERROR);
        });
        assertThat(cache.get(DOMAIN)).hasValueSatisfying(c -> assertThat(c.id()).isEqualTo("one"));
    }

    @Test
    void aFailedFetchWithoutACachedPolicyIsNoPolicyAndReportsTheFailure() {
        dns.records(TXT, "v=STSv1; id=one;");
        served.set("version: STSv1\nmode: enforce\n");

        StsDecision decision = resolver.policyFor(DOMAIN, T0);

        assertThat(decision).isInstanceOfSatisfying(StsDecision.NoPolicy.class, d -> {
            assertThat(d.fetchFailure())
                    .hasValueSatisfying(f -> assertThat(f.tlsRptResult()).isEqualTo(TlsRptResult.STS_POLICY_INVALID));
            assertThat(d.reason()).contains("sts-policy-invalid").contains("no cached policy");
        });
        assertThat(cache.get(DOMAIN)).isEmpty();
    }

    @Test
    void aVanishedRecordDoesNotRemoveTheValidCachedPolicy() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);
        dns.nxdomain(TXT);

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(86399));

        assertThat(applied(decision, StsDecision.Basis.CACHED_NO_RECORD).mode()).isEqualTo(StsMode.ENFORCE);
        assertThat(server.requests).hasSize(1);
    }

    @Test
    void aFailedTxtLookupKeepsApplyingTheValidCachedPolicy() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);
        dns.servfail(TXT);

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(10));

        assertThat(applied(decision, StsDecision.Basis.CACHED_NO_RECORD).reason())
                .contains("TXT lookup of " + TXT + " failed");
    }

    @Test
    void invalidOrSeveralRecordsAreNoRecord() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);

        dns.records(TXT, "v=STSv1; id=two;", "v=STSv1; id=three;");
        assertThat(applied(resolver.policyFor(DOMAIN, T0.plusSeconds(1)), StsDecision.Basis.CACHED_NO_RECORD)
                        .reason())
                .contains("2 records");
        dns.records(TXT, "v=STSv1; id=not-valid;");
        assertThat(applied(resolver.policyFor(DOMAIN, T0.plusSeconds(2)), StsDecision.Basis.CACHED_NO_RECORD)
                        .reason())
                .contains("invalid record");
        assertThat(server.requests).hasSize(1);

        cache.remove(DOMAIN);
        assertThat(resolver.policyFor(DOMAIN, T0.plusSeconds(3))).isInstanceOf(StsDecision.NoPolicy.class);
    }

    @Test
    void anExpiredCachedPolicyNoLongerApplies() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);
        dns.nxdomain(TXT);

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(86400));

        assertThat(decision)
                .isInstanceOfSatisfying(
                        StsDecision.NoPolicy.class, d -> assertThat(d.reason()).contains("no cached policy"));
    }

    @Test
    void anExpiredCachedPolicyWithTheSameIdIsFetchedAgain() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(86400));

        applied(decision, StsDecision.Basis.FETCHED);
        assertThat(server.requests).hasSize(2);
        assertThat(cache.get(DOMAIN))
                .hasValueSatisfying(c -> assertThat(c.fetchedAt()).isEqualTo(T0.plusSeconds(86400)));
    }

    @Test
    void anExpiredCachedPolicyDoesNotRescueAFailedFetch() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);
        dns.records(TXT, "v=STSv1; id=two;");
        status.set(500);

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(90000));

        assertThat(decision)
                .isInstanceOfSatisfying(
                        StsDecision.NoPolicy.class,
                        d -> assertThat(d.fetchFailure()).isPresent());
    }

    @Test
    void modeNoneReplacesAnEnforcedPolicyAndMeansNoPolicy() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);
        dns.records(TXT, "v=STSv1; id=off;");
        served.set(NONE);

        StsDecision decision = resolver.policyFor(DOMAIN, T0.plusSeconds(60));

        assertThat(decision)
                .isInstanceOfSatisfying(
                        StsDecision.NoPolicy.class, d -> assertThat(d.reason()).contains("mode is none"));
        assertThat(cache.get(DOMAIN))
                .hasValueSatisfying(c -> assertThat(c.policy().mode()).isEqualTo(StsMode.NONE));
        // RFC 8461 §8.3: the domain then deletes its records; the old enforce policy must not come back.
        dns.nxdomain(TXT);
        assertThat(resolver.policyFor(DOMAIN, T0.plusSeconds(120))).isInstanceOf(StsDecision.NoPolicy.class);
        assertThat(server.requests).hasSize(2);
    }

    @Test
    void cacheEntriesExpireAfterMaxAgeAndArePurged() {
        dns.records(TXT, "v=STSv1; id=one;");
        resolver.policyFor(DOMAIN, T0);

        assertThat(cache.get(DOMAIN).orElseThrow().isValidAt(T0.plusSeconds(86399)))
                .isTrue();
        assertThat(cache.purgeExpired(T0.plusSeconds(86399))).isZero();
        assertThat(cache.purgeExpired(T0.plusSeconds(86400))).isEqualTo(1);
        assertThat(cache.size()).isZero();
    }

    private static StsDecision.Apply applied(StsDecision decision, StsDecision.Basis basis) {
        assertThat(decision).as(decision.reason()).isInstanceOf(StsDecision.Apply.class);
        StsDecision.Apply apply = (StsDecision.Apply) decision;
        assertThat(apply.basis()).as(apply.reason()).isEqualTo(basis);
        return apply;
    }
}
