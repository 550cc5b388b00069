package dev.optls.policy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/** A UTC clock the test sets and moves; nothing sleeps. Thread-safe. */
public final class MutableClock extends Clock {

    private volatile Instant now;

    /** A clock standing at {@code start}. */
    public MutableClock(Instant start) {
        this.now = Objects.requireNonNull(start, "start");
    }

    /** Moves the clock to {@code instant} (never backwards). */
    public void set(Instant instant) {
        if (instant.isBefore(now)) {
            throw new IllegalArgumentException("the clock does not go back from " + now + " to " + instant);
        }
        now = instant;
    }

    /** Moves the clock forward by {@code step}. */
    public void advance(Duration step) {
        set(now.plus(step));
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("the test clock is UTC only");
    }
}
