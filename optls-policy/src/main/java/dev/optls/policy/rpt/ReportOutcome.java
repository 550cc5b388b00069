package dev.optls.policy.rpt;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link ReportSchedule} did with the report of one policy domain and UTC day. Peer and network faults are
 * values here, never exceptions.
 */
public sealed interface ReportOutcome
        permits ReportOutcome.Delivered,
                ReportOutcome.WillRetry,
                ReportOutcome.GaveUp,
                ReportOutcome.NotWanted,
                ReportOutcome.Dropped {

    /** The policy domain the report is about. */
    String policyDomain();

    /** The UTC day the report covers. */
    LocalDate day();

    /**
     * One destination accepted the report (RFC 8460 §3: it counts as delivered once one endpoint accepts it).
     *
     * @param reportId the {@code report-id} of the report
     * @param attempt which attempt succeeded, from 1
     * @param deliveries every destination tried in this attempt, the accepting one last
     */
    record Delivered(String policyDomain, LocalDate day, String reportId, int attempt, List<ReportDelivery> deliveries)
            implements ReportOutcome {
        /** Copies the list. */
        public Delivered {
            Objects.requireNonNull(policyDomain, "policyDomain");
            Objects.requireNonNull(day, "day");
            Objects.requireNonNull(reportId, "reportId");
            deliveries = List.copyOf(deliveries);
        }
    }

    /**
     * No destination accepted the report (or the record lookup failed); it is tried again at {@code retryAt} (RFC
     * 8460 §5.5: retry, with exponential back-off).
     */
    record WillRetry(
            String policyDomain,
            LocalDate day,
            int attempt,
            String reason,
            List<ReportDelivery> deliveries,
            Instant retryAt)
            implements ReportOutcome {
        /** Copies the list. */
        public WillRetry {
            Objects.requireNonNull(policyDomain, "policyDomain");
            Objects.requireNonNull(day, "day");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(retryAt, "retryAt");
            deliveries = List.copyOf(deliveries);
        }
    }

    /** The last attempt failed and no further one is made (retry time used up, or no destination can be used). */
    record GaveUp(String policyDomain, LocalDate day, int attempts, String reason, List<ReportDelivery> deliveries)
            implements ReportOutcome {
        /** Copies the list. */
        public GaveUp {
            Objects.requireNonNull(policyDomain, "policyDomain");
            Objects.requireNonNull(day, "day");
            Objects.requireNonNull(reason, "reason");
            deliveries = List.copyOf(deliveries);
        }
    }

    /**
     * The domain publishes no usable TLS-RPT record (absent, invalid, several: RFC 8460 §3): nothing is sent.
     *
     * @param reason what the record lookup found
     */
    record NotWanted(String policyDomain, LocalDate day, String reason) implements ReportOutcome {
        /** Requires every field. */
        public NotWanted {
            Objects.requireNonNull(policyDomain, "policyDomain");
            Objects.requireNonNull(day, "day");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The report was never tried: the queue was full, or its day is too long past. */
    record Dropped(String policyDomain, LocalDate day, String reason) implements ReportOutcome {
        /** Requires every field. */
        public Dropped {
            Objects.requireNonNull(policyDomain, "policyDomain");
            Objects.requireNonNull(day, "day");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
