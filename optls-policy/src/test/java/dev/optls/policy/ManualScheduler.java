package dev.optls.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ScheduledExecutorService} that runs nothing by itself: {@link #schedule(Runnable, long, TimeUnit)}
 * records the task with its due time on a {@link MutableClock}; {@link #runNext()} moves the clock to the earliest
 * due task and runs it on the test's thread. Virtual time only: no test sleeps. Only one-shot {@code schedule} of a
 * {@link Runnable} (and {@code execute}) is supported, which is what the schedules use.
 */
public final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

    private final MutableClock clock;
    private final List<Task> tasks = new ArrayList<>();
    private long sequence;
    private boolean shutdown;

    /** A scheduler whose time is {@code clock}. */
    public ManualScheduler(MutableClock clock) {
        this.clock = clock;
    }

    /** One scheduled task. */
    public final class Task implements ScheduledFuture<Object> {
        final Runnable command;
        final Instant due;
        final long order;
        boolean cancelled;
        boolean done;

        Task(Runnable command, Instant due, long order) {
            this.command = command;
            this.due = due;
            this.order = order;
        }

        /** When the task is due. */
        public Instant due() {
            return due;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(Duration.between(clock.instant(), due));
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public synchronized boolean cancel(boolean mayInterruptIfRunning) {
            if (done) {
                return false;
            }
            cancelled = true;
            return true;
        }

        @Override
        public synchronized boolean isCancelled() {
            return cancelled;
        }

        @Override
        public synchronized boolean isDone() {
            return done || cancelled;
        }

        @Override
        public Object get() {
            return null;
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            return null;
        }
    }

    /** The tasks waiting (not cancelled), earliest first. */
    public synchronized List<Task> pending() {
        return tasks.stream()
                .filter(t -> !t.isCancelled())
                .sorted(Comparator.comparing(Task::due).thenComparingLong(t -> t.order))
                .toList();
    }

    /** When the next task is due, if any. */
    public Optional<Instant> nextDue() {
        List<Task> p = pending();
        return p.isEmpty() ? Optional.empty() : Optional.of(p.get(0).due);
    }

    /**
     * Moves the clock to the earliest pending task (if it is in the future) and runs it.
     *
     * @throws AssertionError if nothing is pending
     */
    public Instant runNext() {
        Task next;
        synchronized (this) {
            List<Task> p = pending();
            if (p.isEmpty()) {
                throw new AssertionError("nothing is scheduled");
            }
            next = p.get(0);
            tasks.remove(next);
        }
        if (next.due.isAfter(clock.instant())) {
            clock.set(next.due);
        }
        next.command.run();
        synchronized (next) {
            next.done = true;
        }
        return next.due;
    }

    @Override
    public synchronized ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        }
        Task t = new Task(command, clock.instant().plusNanos(unit.toNanos(Math.max(0, delay))), sequence++);
        tasks.add(t);
        return t;
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("not used by the schedules");
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("not used by the schedules");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("not used by the schedules");
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = tasks.stream().map(t -> t.command).toList();
        tasks.clear();
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }
}
