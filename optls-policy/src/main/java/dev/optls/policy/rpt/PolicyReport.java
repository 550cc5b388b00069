package dev.optls.policy.rpt;

import java.util.List;
import java.util.Objects;

/**
 * One element of a report's {@code policies} array (RFC 8460 §4.4): the policy, the summary counts and the failure
 * details.
 *
 * @param policy the policy
 * @param successfulSessions {@code total-successful-session-count}
 * @param failedSessions {@code total-failure-session-count}; may exceed the sum of the details when the collector
 *     dropped details over its limit
 * @param failureDetails the failure details
 */
public record PolicyReport(
        ReportPolicy policy, long successfulSessions, long failedSessions, List<FailureDetail> failureDetails) {

    /** Checks the counts and copies the details. */
    public PolicyReport {
        Objects.requireNonNull(policy, "policy");
        failureDetails = List.copyOf(failureDetails);
        if (successfulSessions < 0 || failedSessions < 0) {
            throw new IllegalArgumentException("session counts cannot be negative");
        }
    }
}
