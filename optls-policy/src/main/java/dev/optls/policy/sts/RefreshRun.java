package dev.optls.policy.sts;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one run of a {@link RefreshSchedule} did.
 *
 * @param at when the run started
 * @param refreshes one outcome per policy refreshed (or tried), soonest expiry first
 * @param due how many cached policies were due at {@code at} (valid, expiring within the window)
 * @param backingOff how many due policies were skipped because their domain is in back-off after failed fetches
 * @param deferred how many due policies were left for a following run because of the per-run limit
 * @param nextRun when the schedule runs next
 */
public record RefreshRun(
        Instant at, List<StsRefresh> refreshes, int due, int backingOff, int deferred, Instant nextRun) {

    /** Copies the list and checks the values. */
    public RefreshRun {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(nextRun, "nextRun");
        refreshes = List.copyOf(refreshes);
    }
}
