package dev.optls.policy.sts;

import dev.optls.policy.internal.Rounds;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.random.RandomGenerator;

/**
 * Proactive refresh of cached MTA-STS policies (RFC 8461 §5.1: "Implementations are also encouraged to proactively
 * refresh cached policies before they expire", suggested once a day): a task on a {@link ScheduledExecutorService}
 * that calls {@link MtaStsResolver}'s refresh for every cached policy due (still valid, expiring within the window).
 *
 * <ul>
 *   <li>A round every {@link Builder#interval} (24 h) with a window of {@link Builder#window} (48 h), so a policy
 *       gets at least two chances before it expires; the first round after a random delay up to {@link
 *       Builder#maxJitter} (1 h) so that a fleet of servers started together does not refresh together.
 *   <li>Per-domain exponential back-off after {@link StsRefresh.Outcome#FETCH_FAILED}: the domain is tried again
 *       after {@link Builder#backoff first back-off} (1 h), then twice as long each time, at most {@link Builder#backoff longest}
 *       (24 h), and skipped by rounds meanwhile, so one broken domain is not hammered; any other outcome (refreshed,
 *       or no usable TXT record), or the policy no longer being due (refreshed by a delivery, expired, removed),
 *       resets it.
 *   <li>At most {@link Builder#maxPerRun} (100) refreshes per run; the rest follow after {@link
 *       Builder#maxPerRun pause} (1 min), so one run never holds the thread for the whole cache.
 *   <li>Every outcome with {@link StsRefresh#shouldAlert()} goes to the {@link RefreshListener} (RFC 8461 §5.1:
 *       alert administrators), by default {@link RefreshListener#logging() logged}.
 * </ul>
 *
 * <p>Runs follow one another (each schedules the next), so the executor may have any number of threads. A run that
 * throws (the cache store is down) is reported to {@link RefreshListener#failed} and retried after the first
 * back-off. Time comes from the {@link Clock}; the executor only waits.
 */
public final class RefreshSchedule implements AutoCloseable {

    /** RFC 8461 §5.1 suggests refreshing once per day. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofHours(24);

    /** Policies expiring within two days are refreshed, so each gets two daily chances. */
    public static final Duration DEFAULT_WINDOW = Duration.ofHours(48);

    /** The first round starts after a random delay of at most this. */
    public static final Duration DEFAULT_MAX_JITTER = Duration.ofHours(1);

    /** The delay before a domain whose fetch failed is tried again; doubled after each further failure. */
    public static final Duration DEFAULT_FIRST_BACKOFF = Duration.ofHours(1);

    /** The longest back-off. */
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofHours(24);

    /** The most refreshes (each a TXT lookup and maybe an HTTPS fetch) in one run. */
    public static final int DEFAULT_MAX_PER_RUN = 100;

    /** The pause between runs when a round has more policies due than one run may refresh. */
    public static final Duration DEFAULT_CONTINUE_AFTER = Duration.ofMinutes(1);

    private final MtaStsResolver resolver;
    private final Rounds rounds;
    private final RandomGenerator random;
    private final Duration interval;
    private final Duration window;
    private final Duration maxJitter;
    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final int maxPerRun;
    private final Duration continueAfter;
    private final RefreshListener listener;

    // Read and written by runs only; runs follow one another (each schedules the next).
    private final Set<String> doneThisRound = new HashSet<>();
    private volatile Instant nextRound;
    // Read by backoffs() from any thread.
    private final Map<String, Backoff> backoff = new ConcurrentHashMap<>();

    /** A domain in back-off: how many refreshes failed in a row, and when it may be tried again. */
    private record Backoff(int failures, Instant retryAt) {}

    private RefreshSchedule(Builder b) {
        this.resolver = b.resolver;
        this.random = b.random;
        this.interval = b.interval;
        this.window = b.window;
        this.maxJitter = b.maxJitter;
        this.firstBackoff = b.firstBackoff;
        this.maxBackoff = b.maxBackoff;
        this.maxPerRun = b.maxPerRun;
        this.continueAfter = b.continueAfter;
        this.listener = b.listener;
        this.rounds = new Rounds(
                "mta-sts refresh schedule",
                b.clock,
                b.executor,
                this::round,
                firstBackoff,
                (e, retry) -> Rounds.tell(RefreshSchedule.class, () -> listener.failed(e, retry)));
    }

    /** A builder for a schedule refreshing through {@code resolver}'s cache. */
    public static Builder builder(MtaStsResolver resolver) {
        return new Builder(resolver);
    }

    /**
     * Schedules the first round after a random delay of at most the jitter.
     *
     * @return when the first round runs
     * @throws IllegalStateException if already started or closed (a caller bug)
     */
    public Instant start() {
        return rounds.start(now -> {
            long jitterMillis = maxJitter.isZero() ? 0 : random.nextLong(maxJitter.toMillis() + 1);
            nextRound = now.plusMillis(jitterMillis);
            return nextRound;
        });
    }

    /** Cancels the next run (a run in progress finishes); shuts down the executor if the schedule created it. */
    @Override
    public void close() {
        rounds.close();
    }

    /** The domains in back-off after failed fetches, each with when it is tried again (for monitoring). */
    public Map<String, Instant> backoffs() {
        Map<String, Instant> out = new TreeMap<>();
        backoff.forEach((d, b) -> out.put(d, b.retryAt()));
        return out;
    }

    private Instant round(Instant now) {
        RefreshRun run = runOnce(now);
        Rounds.tell(RefreshSchedule.class, () -> listener.finished(run));
        return run.nextRun();
    }

    private RefreshRun runOnce(Instant now) {
        boolean round = !now.isBefore(nextRound);
        List<CachedPolicy> due = resolver.due(now, window);
        Set<String> dueDomains = new HashSet<>();
        due.forEach(e -> dueDomains.add(e.policyDomain()));
        // Refreshed by a delivery, expired or removed: no longer due, so its back-off is forgotten.
        backoff.keySet().retainAll(dueDomains);
        doneThisRound.retainAll(dueDomains);

        List<StsRefresh> refreshes = new ArrayList<>();
        List<StsRefresh> alerts = new ArrayList<>();
        int backingOff = 0;
        int deferred = 0;
        for (CachedPolicy entry : due) {
            String domain = entry.policyDomain();
            Backoff b = backoff.get(domain);
            boolean eligible = b != null ? !now.isBefore(b.retryAt()) : round && !doneThisRound.contains(domain);
            if (!eligible) {
                if (b != null) {
                    backingOff++;
                }
                continue;
            }
            if (refreshes.size() >= maxPerRun) {
                deferred++;
                continue;
            }
            StsRefresh r = resolver.refresh(entry, now);
            refreshes.add(r);
            if (round) {
                doneThisRound.add(domain);
            }
            if (r.outcome() == StsRefresh.Outcome.FETCH_FAILED) {
                int failures = b == null ? 1 : b.failures() + 1;
                backoff.put(domain, new Backoff(failures, now.plus(backoffAfter(failures))));
            } else {
                backoff.remove(domain);
            }
            if (r.shouldAlert()) {
                alerts.add(r);
            }
        }
        if (round && deferred == 0) {
            // The round is complete: the next one in an interval.
            nextRound = nextRound.plus(interval);
            if (!nextRound.isAfter(now)) {
                nextRound = now.plus(interval); // the machine slept or a run took longer than the interval
            }
            doneThisRound.clear();
        }
        Instant next = nextRound;
        for (Backoff b : backoff.values()) {
            if (b.retryAt().isBefore(next)) {
                next = b.retryAt();
            }
        }
        Instant soon = now.plus(continueAfter);
        if (deferred > 0 && soon.isBefore(next) || !next.isAfter(now)) {
            // Work left over by the per-run limit (an unfinished round, a back-off already due): after a pause.
            next = soon;
        }
        for (StsRefresh r : alerts) {
            Backoff b = backoff.get(r.policyDomain());
            Instant nextAttempt = b != null ? b.retryAt() : nextRound;
            Rounds.tell(RefreshSchedule.class, () -> listener.alert(r, nextAttempt));
        }
        return new RefreshRun(now, refreshes, due.size(), backingOff, deferred, next);
    }

    /** {@code firstBackoff * 2^(failures-1)}, at most {@code maxBackoff}. */
    Duration backoffAfter(int failures) {
        Duration d = firstBackoff;
        for (int i = 1; i < failures && d.compareTo(maxBackoff) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
    }

    /** Settings of a {@link RefreshSchedule}; every one has a default. */
    public static final class Builder {
        private final MtaStsResolver resolver;
        private Clock clock = Clock.systemUTC();
        private ScheduledExecutorService executor;
        private RandomGenerator random = new SplittableRandom();
        private Duration interval = DEFAULT_INTERVAL;
        private Duration window = DEFAULT_WINDOW;
        private Duration maxJitter = DEFAULT_MAX_JITTER;
        private Duration firstBackoff = DEFAULT_FIRST_BACKOFF;
        private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
        private int maxPerRun = DEFAULT_MAX_PER_RUN;
        private Duration continueAfter = DEFAULT_CONTINUE_AFTER;
        private RefreshListener listener = RefreshListener.logging();

        private Builder(MtaStsResolver resolver) {
            this.resolver = Objects.requireNonNull(resolver, "resolver");
        }

        /** The clock (default: the system's UTC clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The executor that runs the task (default: a daemon thread of its own, shut down by {@link #close}); one
         * given here is not shut down by the schedule.
         */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** The source of the start jitter. */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /** Time between rounds (default 24 h). */
        public Builder interval(Duration interval) {
            this.interval = positive(interval, "interval");
            return this;
        }

        /** Policies expiring within this are refreshed (default 48 h). */
        public Builder window(Duration window) {
            this.window = positive(window, "window");
            return this;
        }

        /** The first round starts after a random delay of 0 to this (default 1 h; zero: at once). */
        public Builder maxJitter(Duration maxJitter) {
            Objects.requireNonNull(maxJitter, "maxJitter");
            if (maxJitter.isNegative()) {
                throw new IllegalArgumentException("maxJitter must not be negative: " + maxJitter);
            }
            this.maxJitter = maxJitter;
            return this;
        }

        /** The first back-off after a failed fetch and the longest (defaults 1 h and 24 h). */
        public Builder backoff(Duration first, Duration max) {
            positive(first, "first back-off");
            positive(max, "longest back-off");
            if (max.compareTo(first) < 0) {
                throw new IllegalArgumentException(
                        "the longest back-off " + max + " is shorter than the first " + first);
            }
            this.firstBackoff = first;
            this.maxBackoff = max;
            return this;
        }

        /** The most refreshes in one run (default 100) and the pause before the next part (default 1 min). */
        public Builder maxPerRun(int maxPerRun, Duration continueAfter) {
            if (maxPerRun < 1) {
                throw new IllegalArgumentException("maxPerRun must be at least 1, not " + maxPerRun);
            }
            this.maxPerRun = maxPerRun;
            this.continueAfter = positive(continueAfter, "continueAfter");
            return this;
        }

        /** Who hears of alerts and runs (default: {@link RefreshListener#logging()}). */
        public Builder listener(RefreshListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** The schedule, not started. */
        public RefreshSchedule build() {
            return new RefreshSchedule(this);
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
