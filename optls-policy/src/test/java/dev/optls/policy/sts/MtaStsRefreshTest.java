package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Proactive refresh before expiry (RFC 8461 §5.1) with the clock passed in and a recording fake fetcher. */
class MtaStsRefreshTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration DAY = Duration.ofDays(1);
    private static final String HOUR = "version: STSv1\nmode: enforce\nmx: mx.hour.test\nmax_age: 3600\n";
    private static final String WEEK = "version: STSv1\nmode: testing\nmx: mx.week.test\nmax_age: 604800\n";
    private static final String NONE = "version: STSv1\nmode: none\nmax_age: 3600\n";

    private final TxtDns dns = new TxtDns();
    private final List<String> fetched = new ArrayList<>();
    private final AtomicReference<StsFetch> answer = new AtomicReference<>();
    private final PolicyFetcher fetcher = domain -> {
        synchronized (fetched) {
            fetched.add(domain);
        }
        return answer.get() != null ? answer.get() : new StsFetch.Fetched(policy(HOUR));
    };

    @TempDir
    Path dir;

    static StsPolicy policy(String text) {
        return ((StsPolicyParse.Parsed) StsPolicy.parse(text)).policy();
    }

    @Test
    void refreshesOnlyValidPoliciesExpiringWithinTheWindowSoonestFirst() {
        InMemoryPolicyCache cache = new InMemoryPolicyCache();
        cache.put(CachedPolicy.fetched("week.test", "w1", policy(WEEK), T0)); // expires T0 + 7 d
        cache.put(CachedPolicy.fetched("hour.test", "h1", policy(HOUR), T0.plusSeconds(1800))); // T0 + 1.5 h
        cache.put(CachedPolicy.fetched("soon.test", "s1", policy(HOUR), T0)); // T0 + 1 h
        cache.put(CachedPolicy.fetched("gone.test", "g1", policy(HOUR), T0.minus(DAY))); // expired
        dns.records("_mta-sts.hour.test", "v=STSv1; id=h1;");
        dns.records("_mta-sts.soon.test", "v=STSv1; id=s2;");
        Instant now = T0.plusSeconds(600);

        List<StsRefresh> outcomes = new MtaStsResolver(dns, fetcher, cache).refreshDue(now, DAY);

        assertThat(outcomes).extracting(StsRefresh::policyDomain).containsExactly("soon.test", "hour.test");
        assertThat(outcomes).allSatisfy(o -> {
            assertThat(o.outcome()).isEqualTo(StsRefresh.Outcome.REFRESHED);
            assertThat(o.shouldAlert()).isFalse();
        });
        assertThat(fetched).containsExactly("soon.test", "hour.test");
        // Same id: fetched anyway, so the expiry moves; new id: replaced with the new id.
        assertThat(cache.get("hour.test").orElseThrow().id()).isEqualTo("h1");
        assertThat(cache.get("hour.test").orElseThrow().expiresAt()).isEqualTo(now.plusSeconds(3600));
        assertThat(cache.get("soon.test").orElseThrow().id()).isEqualTo("s2");
        assertThat(outcomes.get(0).reason()).contains("cached id was s1");
        assertThat(cache.get("week.test").orElseThrow().fetchedAt()).isEqualTo(T0);
        assertThat(cache.get("gone.test").orElseThrow().fetchedAt()).isEqualTo(T0.minus(DAY));
    }

    @Test
    void aFailedFetchKeepsTheCachedPolicyAndAsksForAnAlert() {
        InMemoryPolicyCache cache = new InMemoryPolicyCache();
        CachedPolicy entry = CachedPolicy.fetched("hour.test", "h1", policy(HOUR), T0);
        cache.put(entry);
        dns.records("_mta-sts.hour.test", "v=STSv1; id=h1;");
        answer.set(new StsFetch.Failed(StsFetchFailure.HTTP_STATUS, "HTTP 500"));

        List<StsRefresh> outcomes = new MtaStsResolver(dns, fetcher, cache).refreshDue(T0.plusSeconds(60), DAY);

        assertThat(outcomes).singleElement().satisfies(o -> {
            assertThat(o.outcome()).isEqualTo(StsRefresh.Outcome.FETCH_FAILED);
            assertThat(o.entry()).isEqualTo(entry);
            assertThat(o.fetchFailure()).isPresent();
            assertThat(o.reason()).contains("HTTP 500").contains("keeping cached policy id h1");
            assertThat(o.shouldAlert()).isTrue();
        });
        assertThat(cache.get("hour.test")).contains(entry);
    }

    @Test
    void noRecordKeepsTheCachedPolicyWithoutFetchingAndModeNoneNeedsNoAlert() {
        InMemoryPolicyCache cache = new InMemoryPolicyCache();
        CachedPolicy none = CachedPolicy.fetched("none.test", "n1", policy(NONE), T0);
        CachedPolicy lame = CachedPolicy.fetched("lame.test", "l1", policy(HOUR), T0.plusSeconds(1));
        cache.put(none);
        cache.put(lame);
        dns.servfail("_mta-sts.lame.test");

        List<StsRefresh> outcomes = new MtaStsResolver(dns, fetcher, cache).refreshDue(T0, DAY);

        assertThat(outcomes).extracting(StsRefresh::outcome).containsOnly(StsRefresh.Outcome.NO_RECORD);
        assertThat(outcomes).extracting(StsRefresh::shouldAlert).containsExactly(false, true);
        assertThat(outcomes.get(1).reason()).contains("lookup of _mta-sts.lame.test failed");
        assertThat(fetched).isEmpty();
        assertThat(cache.get("none.test")).contains(none);
        assertThat(cache.get("lame.test")).contains(lame);
    }

    @Test
    void theWindowDecidesWhatIsDueAndMustNotBeNegative() {
        InMemoryPolicyCache cache = new InMemoryPolicyCache();
        cache.put(CachedPolicy.fetched("hour.test", "h1", policy(HOUR), T0));
        dns.records("_mta-sts.hour.test", "v=STSv1; id=h1;");
        MtaStsResolver resolver = new MtaStsResolver(dns, fetcher, cache);

        assertThat(resolver.refreshDue(T0, Duration.ofMinutes(59))).isEmpty();
        assertThat(resolver.refreshDue(T0, Duration.ofMinutes(61))).hasSize(1);
        assertThatThrownBy(() -> resolver.refreshDue(T0, Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative");
    }

    @Test
    void refreshWorksOnTheSqliteCacheToo() {
        try (SqlitePolicyCache cache = SqlitePolicyCache.open(dir.resolve("sts.db"))) {
            cache.put(CachedPolicy.fetched("hour.test", "h1", policy(HOUR), T0));
            cache.put(CachedPolicy.fetched("week.test", "w1", policy(WEEK), T0));
            dns.records("_mta-sts.hour.test", "v=STSv1; id=h2;");
            Instant now = T0.plusSeconds(3000);

            List<StsRefresh> outcomes = new MtaStsResolver(dns, fetcher, cache).refreshDue(now, DAY);

            assertThat(outcomes).extracting(StsRefresh::policyDomain).containsExactly("hour.test");
            assertThat(cache.get("hour.test").orElseThrow().id()).isEqualTo("h2");
            assertThat(cache.get("hour.test").orElseThrow().fetchedAt()).isEqualTo(now);
        }
    }
}
