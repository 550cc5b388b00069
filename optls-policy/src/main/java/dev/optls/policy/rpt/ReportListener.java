package dev.optls.policy.rpt;

import java.lang.System.Logger.Level;
import java.time.Instant;

/**
 * Hears what a {@link ReportSchedule} does. Called on the schedule's thread; must return quickly and not throw.
 * {@link #logging()} writes through {@link System.Logger} (the default).
 */
public interface ReportListener {

    /** One report's outcome. */
    void outcome(ReportOutcome outcome);

    /** A run broke on something other than a peer (a bug or a broken dependency); the schedule tries again later. */
    default void failed(RuntimeException error, Instant nextAttempt) {}

    /**
     * Logs deliveries at info level, retries and domains without a record at debug level, reports given up or dropped
     * as warnings, broken runs as errors.
     */
    static ReportListener logging() {
        System.Logger log = System.getLogger(ReportSchedule.class.getName());
        return new ReportListener() {
            @Override
            public void outcome(ReportOutcome o) {
                if (o instanceof ReportOutcome.Delivered d) {
                    log.log(
                            Level.INFO,
                            "TLS-RPT report {0} for {1} on {2} delivered to {3} (attempt {4})",
                            d.reportId(),
                            d.policyDomain(),
                            d.day(),
                            d.deliveries().get(d.deliveries().size() - 1).destination(),
                            d.attempt());
                } else if (o instanceof ReportOutcome.WillRetry r) {
                    log.log(
                            Level.DEBUG,
                            "TLS-RPT report for {0} on {1} not delivered ({2}); attempt {3} failed, next at {4}",
                            r.policyDomain(),
                            r.day(),
                            r.reason(),
                            r.attempt(),
                            r.retryAt());
                } else if (o instanceof ReportOutcome.GaveUp g) {
                    log.log(
                            Level.WARNING,
                            "TLS-RPT report for {0} on {1} given up after {2} attempt(s): {3}. Reports are optional "
                                    + "(RFC 8460); if this repeats for many domains, check outbound HTTPS and mail.",
                            g.policyDomain(),
                            g.day(),
                            g.attempts(),
                            g.reason());
                } else if (o instanceof ReportOutcome.Dropped x) {
                    log.log(
                            Level.WARNING,
                            "TLS-RPT report for {0} on {1} dropped unsent: {2}",
                            x.policyDomain(),
                            x.day(),
                            x.reason());
                } else if (o instanceof ReportOutcome.NotWanted n) {
                    log.log(
                            Level.DEBUG,
                            "no TLS-RPT report for {0} on {1}: {2}",
                            n.policyDomain(),
                            n.day(),
                            n.reason());
                }
            }

            @Override
            public void failed(RuntimeException error, Instant nextAttempt) {
                log.log(
                        Level.ERROR,
                        "TLS-RPT report run failed; queued reports wait for the next attempt at " + nextAttempt,
                        error);
            }
        };
    }
}
