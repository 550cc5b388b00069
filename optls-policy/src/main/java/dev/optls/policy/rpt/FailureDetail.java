package dev.optls.policy.rpt;

import java.util.Objects;

/**
 * One {@code failure-details} entry of a TLS-RPT report (RFC 8460 §4.4): a kind of failure and how many sessions
 * had it.
 *
 * @param failure the failure
 * @param failedSessionCount the number of sessions, at least 1
 */
public record FailureDetail(SessionFailure failure, long failedSessionCount) {

    /** Requires a failure and a positive count. */
    public FailureDetail {
        Objects.requireNonNull(failure, "failure");
        if (failedSessionCount < 1) {
            throw new IllegalArgumentException("failed-session-count must be at least 1, not " + failedSessionCount);
        }
    }
}
