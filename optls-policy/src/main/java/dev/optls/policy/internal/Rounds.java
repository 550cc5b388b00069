package dev.optls.policy.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;

/**
 * Work done in rounds on a scheduled executor, for the MTA-STS refresh and the TLS-RPT report schedules: each round
 * says when the next one runs; a round that throws is reported and the next one runs after a fixed delay; whatever
 * happens the schedule goes on until {@link #close}. The clock is a parameter, so tests move time themselves.
 */
public final class Rounds implements AutoCloseable {

    private final String name;
    private final Clock clock;
    private final ScheduledExecutorService executor;
    private final boolean ownsExecutor;
    private final UnaryOperator<Instant> round;
    private final Duration afterFailure;
    private final BiConsumer<RuntimeException, Instant> failed;
    private final Object lock = new Object();
    private ScheduledFuture<?> pending; // guarded by lock
    private boolean started; // guarded by lock
    private boolean closed; // guarded by lock

    /**
     * Rounds of {@code round} (given the time, it does the work and returns when the next round runs).
     *
     * @param name what the schedule is, for messages (e.g. {@code the refresh schedule}) and its thread's name
     * @param executor the executor to run on, or null for a daemon thread of its own (shut down by {@link #close})
     * @param afterFailure when a round throws, how long until the next one
     * @param failed told of a round that threw and when the next one runs
     */
    public Rounds(
            String name,
            Clock clock,
            ScheduledExecutorService executor,
            UnaryOperator<Instant> round,
            Duration afterFailure,
            BiConsumer<RuntimeException, Instant> failed) {
        this.name = Objects.requireNonNull(name, "name");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ownsExecutor = executor == null;
        this.executor = executor != null
                ? executor
                : Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "optls-" + name.replace(' ', '-'));
                    t.setDaemon(true);
                    return t;
                });
        this.round = Objects.requireNonNull(round, "round");
        this.afterFailure = Objects.requireNonNull(afterFailure, "afterFailure");
        this.failed = Objects.requireNonNull(failed, "failed");
    }

    /**
     * Schedules the first round at {@code first(now)}.
     *
     * @return when the first round runs
     * @throws IllegalStateException if already started or closed (a caller bug)
     */
    public Instant start(UnaryOperator<Instant> first) {
        synchronized (lock) {
            if (started || closed) {
                throw new IllegalStateException(closed ? name + " is closed" : name + " is already started");
            }
            started = true;
            Instant now = clock.instant();
            Instant at = first.apply(now);
            scheduleAt(now, at);
            return at;
        }
    }

    /** Cancels the next round (a round in progress finishes); shuts the executor down if it is this schedule's. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (pending != null) {
                pending.cancel(false);
                pending = null;
            }
        }
        if (ownsExecutor) {
            executor.shutdownNow();
        }
    }

    /** Calls a listener; one that throws (it must not) is logged against {@code owner} and changes nothing. */
    public static void tell(Class<?> owner, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            System.getLogger(owner.getName())
                    .log(System.Logger.Level.ERROR, "a listener of " + owner.getSimpleName() + " threw; fix it", e);
        }
    }

    private void scheduleAt(Instant now, Instant at) {
        long delay = Math.max(0, Duration.between(now, at).toMillis());
        pending = executor.schedule(this::run, delay, TimeUnit.MILLISECONDS);
    }

    private void run() {
        synchronized (lock) {
            if (closed) {
                return;
            }
        }
        Instant now = clock.instant();
        Instant next = now.plus(afterFailure);
        try {
            next = round.apply(now);
        } catch (RuntimeException e) {
            failed.accept(e, next);
        } finally {
            synchronized (lock) {
                if (!closed) {
                    scheduleAt(clock.instant(), next);
                }
            }
        }
    }
}
