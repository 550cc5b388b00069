package dev.optls.policy.rpt;

import java.net.URI;
import java.util.Objects;

/** What happened to one report sent to one destination. */
public sealed interface ReportDelivery permits ReportDelivery.Accepted, ReportDelivery.Rejected, ReportDelivery.Failed {

    /** The destination. */
    URI destination();

    /** RFC 8460 §5.4: a 2xx status; the report is delivered. */
    record Accepted(URI destination, int status) implements ReportDelivery {
        /** Requires the destination. */
        public Accepted {
            Objects.requireNonNull(destination, "destination");
        }
    }

    /** Any other status: the receiver did not take the report. */
    record Rejected(URI destination, int status) implements ReportDelivery {
        /** Requires the destination. */
        public Rejected {
            Objects.requireNonNull(destination, "destination");
        }
    }

    /** No HTTP answer: connection, TLS or time limit; {@code reason} says which. */
    record Failed(URI destination, String reason) implements ReportDelivery {
        /** Requires the destination and a reason. */
        public Failed {
            Objects.requireNonNull(destination, "destination");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
