package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.policy.ManualScheduler;
import dev.optls.policy.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link RefreshSchedule} (RFC 8461 §5.1 proactive refresh) on a manual executor and a clock the test moves: no
 * test sleeps. One test uses a real executor with no jitter and waits on a latch.
 */
class RefreshScheduleTest {

    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
    private static final String WEEK = "version: STSv1\nmode: enforce\nmx: mx.%s\nmax_age: 604800\n";
    private static final Duration H = Duration.ofHours(1);

    private final MutableClock clock = new MutableClock(T0);
    private final ManualScheduler executor = new ManualScheduler(clock);
    private final TxtDns dns = new TxtDns();
    private final InMemoryPolicyCache cache = new InMemoryPolicyCache();
    private final Map<String, StsFetch> answers = new ConcurrentHashMap<>();
    private final List<String> fetches = new CopyOnWriteArrayList<>();
    private final List<String> alerts = new CopyOnWriteArrayList<>();
    private final List<RefreshRun> runs = new CopyOnWriteArrayList<>();
    private final List<String> failures = new CopyOnWriteArrayList<>();

    private final PolicyFetcher fetcher = domain -> {
        fetches.add(domain + "@" + clock.instant());
        StsFetch a = answers.get(domain);
        return a != null ? a : new StsFetch.Fetched(policy(domain));
    };

    private final RefreshListener listener = new RefreshListener() {
        @Override
        public void alert(StsRefresh refresh, Instant nextAttempt) {
            alerts.add(refresh.policyDomain() + " " + refresh.outcome() + " next " + nextAttempt);
        }

        @Override
        public void finished(RefreshRun run) {
            runs.add(run);
        }

        @Override
        public void failed(RuntimeException error, Instant nextAttempt) {
            failures.add(error.getMessage() + " next " + nextAttempt);
        }
    };

    static StsPolicy policy(String domain) {
        return ((StsPolicyParse.Parsed) StsPolicy.parse(String.format(WEEK, domain))).policy();
    }

    /** A cached week-long policy fetched at {@code fetchedAt}, and its TXT record with {@code id}. */
    private void cached(String domain, String id, Instant fetchedAt) {
        cache.put(CachedPolicy.fetched(domain, id, policy(domain), fetchedAt));
        dns.records("_mta-sts." + domain, "v=STSv1; id=" + id + ";");
    }

    private RefreshSchedule.Builder schedule(PolicyCache c) {
        return RefreshSchedule.builder(new MtaStsResolver(dns, fetcher, c))
                .clock(clock)
                .executor(executor)
                .listener(listener);
    }

    private List<Duration> fetchGaps(String domain) {
        List<Instant> times = new ArrayList<>();
        for (String f : fetches) {
            if (f.startsWith(domain + "@")) {
                times.add(Instant.parse(f.substring(domain.length() + 1)));
            }
        }
        List<Duration> gaps = new ArrayList<>();
        for (int i = 1; i < times.size(); i++) {
            gaps.add(Duration.between(times.get(i - 1), times.get(i)));
        }
        return gaps;
    }

    @Test
    void firstRoundAfterAJitterThenDailyAndARefreshedPolicyLandsInTheCache() {
        cached("good.test", "g1", T0.minus(Duration.ofDays(6))); // expires T0 + 1 d: due within 48 h
        cached("later.test", "l1", T0); // expires T0 + 7 d: not due
        dns.records("_mta-sts.good.test", "v=STSv1; id=g2;"); // the domain published a new policy
        RefreshSchedule s = schedule(cache).build();

        Instant first = s.start();

        assertThat(first).isBetween(T0, T0.plus(RefreshSchedule.DEFAULT_MAX_JITTER));
        assertThat(executor.nextDue()).contains(first);
        assertThat(fetches).isEmpty();

        executor.runNext();

        assertThat(fetches).containsExactly("good.test@" + first);
        CachedPolicy refreshed = cache.get("good.test").orElseThrow();
        assertThat(refreshed.id()).isEqualTo("g2");
        assertThat(refreshed.fetchedAt()).isEqualTo(first);
        assertThat(refreshed.expiresAt()).isEqualTo(first.plus(Duration.ofDays(7)));
        assertThat(cache.get("later.test").orElseThrow().fetchedAt()).isEqualTo(T0);
        assertThat(alerts).isEmpty();
        assertThat(runs).singleElement().satisfies(r -> {
            assertThat(r.due()).isEqualTo(1);
            assertThat(r.refreshes()).extracting(StsRefresh::outcome).containsExactly(StsRefresh.Outcome.REFRESHED);
            assertThat(r.nextRun()).isEqualTo(first.plus(Duration.ofDays(1)));
        });
        assertThat(executor.nextDue()).contains(first.plus(Duration.ofDays(1)));

        // The next round: good.test now expires in 6 days (not due), later.test in 6 days minus the jitter.
        executor.runNext();
        assertThat(fetches).hasSize(1);
        assertThat(runs.get(1).due()).isZero();
        assertThat(executor.nextDue()).contains(first.plus(Duration.ofDays(2)));
    }

    @Test
    void aBrokenDomainBacksOffExponentiallyCappedAndResetsOnSuccess() {
        cached("broken.test", "b1", T0);
        cached("good.test", "g1", T0);
        answers.put("broken.test", new StsFetch.Failed(StsFetchFailure.HTTP_STATUS, "HTTP 503"));
        RefreshSchedule s = schedule(cache)
                .window(Duration.ofDays(30)) // every cached policy is due, every round
                .maxJitter(Duration.ZERO)
                .build();
        s.start();

        while (clock.instant().isBefore(T0.plus(Duration.ofHours(90)))) {
            executor.runNext();
        }

        // RFC 8461 §5.1 failures: 1 h, doubling, capped at 24 h; rounds (daily) skip the domain meanwhile.
        assertThat(fetchGaps("broken.test"))
                .containsExactly(
                        H,
                        H.multipliedBy(2),
                        H.multipliedBy(4),
                        H.multipliedBy(8),
                        H.multipliedBy(16),
                        H.multipliedBy(24),
                        H.multipliedBy(24));
        // The healthy domain is refreshed once per round and never more.
        assertThat(fetchGaps("good.test")).containsOnly(Duration.ofDays(1)).hasSize(4);
        assertThat(alerts).hasSize(8).allSatisfy(a -> assertThat(a).startsWith("broken.test FETCH_FAILED"));
        assertThat(alerts.get(0)).endsWith("next " + T0.plus(H));
        assertThat(s.backoffs()).containsOnlyKeys("broken.test");
        assertThat(runs).anySatisfy(r -> assertThat(r.backingOff()).isEqualTo(1));
        assertThat(cache.get("broken.test").orElseThrow().fetchedAt()).isEqualTo(T0);

        // The domain is fixed: the next retry refreshes it, the back-off is gone, the domain rejoins the rounds.
        answers.remove("broken.test");
        Instant retry = s.backoffs().get("broken.test");
        while (!clock.instant().equals(retry)) {
            executor.runNext();
        }
        assertThat(cache.get("broken.test").orElseThrow().fetchedAt()).isEqualTo(retry);
        assertThat(s.backoffs()).isEmpty();
        int before = fetchGaps("broken.test").size();
        Instant round = executor.nextDue().orElseThrow();
        executor.runNext();
        assertThat(fetchGaps("broken.test")).hasSize(before + 1);
        assertThat(fetchGaps("broken.test").get(before)).isEqualTo(Duration.between(retry, round));
    }

    @Test
    void backoffDurations() {
        RefreshSchedule s = schedule(cache)
                .backoff(Duration.ofMinutes(30), Duration.ofHours(3))
                .build();
        assertThat(List.of(1, 2, 3, 4, 5, 40, Integer.MAX_VALUE))
                .extracting(s::backoffAfter)
                .containsExactly(
                        Duration.ofMinutes(30),
                        Duration.ofHours(1),
                        Duration.ofHours(2),
                        Duration.ofHours(3),
                        Duration.ofHours(3),
                        Duration.ofHours(3),
                        Duration.ofHours(3));
    }

    @Test
    void aRoundDoesABoundedAmountOfWorkPerRun() {
        for (int i = 1; i <= 5; i++) {
            cached("d" + i + ".test", "x" + i, T0.minus(Duration.ofDays(6)).plusSeconds(i));
        }
        RefreshSchedule s = schedule(cache)
                .maxJitter(Duration.ZERO)
                .maxPerRun(2, Duration.ofMinutes(1))
                .build();
        s.start();

        executor.runNext();
        executor.runNext();
        executor.runNext();

        assertThat(runs).extracting(RefreshRun::deferred).containsExactly(3, 1, 0);
        assertThat(runs).extracting(r -> r.refreshes().size()).containsExactly(2, 2, 1);
        assertThat(runs).extracting(RefreshRun::at).containsExactly(T0, T0.plusSeconds(60), T0.plusSeconds(120));
        // Soonest expiry first; each domain once per round.
        assertThat(fetches)
                .extracting(f -> f.substring(0, f.indexOf('@')))
                .containsExactly("d1.test", "d2.test", "d3.test", "d4.test", "d5.test");
        assertThat(runs.get(2).nextRun()).isEqualTo(T0.plus(Duration.ofDays(1)));
        assertThat(cache.expiringBefore(T0.plus(Duration.ofDays(2)))).isEmpty();
    }

    @Test
    void noRecordAlertsWithoutBackoffAndModeNoneIsQuiet() {
        cached("gone.test", "g1", T0.minus(Duration.ofDays(6)));
        dns.nxdomain("_mta-sts.gone.test");
        cache.put(CachedPolicy.fetched(
                "off.test",
                "o1",
                ((StsPolicyParse.Parsed) StsPolicy.parse("version: STSv1\nmode: none\nmax_age: 86400\n")).policy(),
                T0));
        dns.servfail("_mta-sts.off.test");
        RefreshSchedule s = schedule(cache).maxJitter(Duration.ZERO).build();
        s.start();

        executor.runNext();

        assertThat(alerts).containsExactly("gone.test NO_RECORD next " + T0.plus(Duration.ofDays(1)));
        assertThat(s.backoffs()).isEmpty();
        assertThat(fetches).isEmpty();
        assertThat(runs.get(0).refreshes()).extracting(StsRefresh::outcome).containsOnly(StsRefresh.Outcome.NO_RECORD);
    }

    @Test
    void aBrokenCacheIsReportedAndRetriedAfterTheFirstBackoff() {
        PolicyCache broken = new PolicyCache() {
            @Override
            public Optional<CachedPolicy> get(String policyDomain) {
                return Optional.empty();
            }

            @Override
            public void put(CachedPolicy entry) {}

            @Override
            public void remove(String policyDomain) {}

            @Override
            public java.util.List<CachedPolicy> expiringBefore(Instant cutoff) {
                throw new PolicyCacheException("the Redis server at 127.0.0.1:1 did not answer");
            }
        };
        RefreshSchedule s = schedule(broken).maxJitter(Duration.ZERO).build();
        s.start();

        executor.runNext();

        assertThat(failures).containsExactly("the Redis server at 127.0.0.1:1 did not answer next " + T0.plus(H));
        assertThat(executor.nextDue()).contains(T0.plus(H));
    }

    @Test
    void aListenerThatThrowsDoesNotStopTheSchedule() {
        cached("gone.test", "g1", T0.minus(Duration.ofDays(6)));
        dns.nxdomain("_mta-sts.gone.test");
        RefreshSchedule s = schedule(cache)
                .maxJitter(Duration.ZERO)
                .listener(new RefreshListener() {
                    @Override
                    public void alert(StsRefresh refresh, Instant nextAttempt) {
                        throw new IllegalStateException("listener broken");
                    }

                    @Override
                    public void finished(RefreshRun run) {
                        throw new IllegalStateException("listener broken");
                    }
                })
                .build();
        s.start();

        executor.runNext();

        assertThat(executor.nextDue()).contains(T0.plus(Duration.ofDays(1)));
    }

    @Test
    void closeCancelsTheNextRunAndStartIsOnce() {
        RefreshSchedule s = schedule(cache).build();
        s.start();
        assertThatThrownBy(s::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("already");

        s.close();

        assertThat(executor.pending()).isEmpty();
        assertThat(executor.isShutdown()).isFalse(); // not the schedule's own executor
        assertThatThrownBy(s::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void settingsAreChecked() {
        RefreshSchedule.Builder b = schedule(cache);
        assertThatThrownBy(() -> b.interval(Duration.ZERO)).hasMessageContaining("interval must be positive");
        assertThatThrownBy(() -> b.backoff(H.multipliedBy(2), H)).hasMessageContaining("shorter than the first");
        assertThatThrownBy(() -> b.maxPerRun(0, H)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> b.maxJitter(Duration.ofSeconds(-1))).hasMessageContaining("negative");
    }

    @Test
    void runsOnItsOwnThreadWithTheSystemClock() throws Exception {
        Instant now = Instant.now();
        cache.put(CachedPolicy.fetched("real.test", "r1", policy("real.test"), now.minus(Duration.ofDays(6))));
        dns.records("_mta-sts.real.test", "v=STSv1; id=r2;");
        CountDownLatch done = new CountDownLatch(1);
        List<RefreshRun> seen = new CopyOnWriteArrayList<>();
        try (RefreshSchedule s = RefreshSchedule.builder(new MtaStsResolver(dns, fetcher, cache))
                .maxJitter(Duration.ZERO)
                .listener(new RefreshListener() {
                    @Override
                    public void alert(StsRefresh refresh, Instant nextAttempt) {}

                    @Override
                    public void finished(RefreshRun run) {
                        seen.add(run);
                        done.countDown();
                    }
                })
                .build()) {
            s.start();
            assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen.get(0).refreshes())
                .extracting(StsRefresh::outcome)
                .containsExactly(StsRefresh.Outcome.REFRESHED);
        assertThat(cache.get("real.test").orElseThrow().id()).isEqualTo("r2");
    }
}
