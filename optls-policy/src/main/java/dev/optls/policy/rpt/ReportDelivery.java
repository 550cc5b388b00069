package dev.optls.policy.rpt;

import java.net.URI;
import java.util.List;
import java.util.Objects;

/**
 * What happened to one report sent to one destination: by HTTPS POST ({@link HttpsReportSender}: {@link Accepted},
 * {@link Rejected}, {@link Failed}) or by mail ({@link MailReportSender}: {@link MailAccepted}, {@link MailRefused},
 * {@link Failed}).
 */
public sealed interface ReportDelivery
        permits ReportDelivery.Accepted,
                ReportDelivery.Rejected,
                ReportDelivery.Failed,
                ReportDelivery.MailAccepted,
                ReportDelivery.MailRefused {

    /** The destination. */
    URI destination();

    /**
     * Whether the destination took the report. RFC 8460 §3: a report counts as delivered once one of the rua
     * destinations accepted it.
     */
    default boolean accepted() {
        return this instanceof Accepted || this instanceof MailAccepted;
    }

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

    /**
     * No answer: connection, TLS or time limit (HTTPS or SMTP), or a {@code mailto:} URI without a usable address;
     * {@code reason} says which.
     */
    record Failed(URI destination, String reason) implements ReportDelivery {
        /** Requires the destination and a reason. */
        public Failed {
            Objects.requireNonNull(destination, "destination");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * RFC 5321 §4.1.1.4: the relay answered the end of the data with 2yz for every address of this {@code mailto:}
     * URI; it has taken responsibility for delivering the report.
     *
     * @param recipients the addresses of the URI
     * @param reply the relay's answer ({@code 250 2.0.0 Ok: queued as …})
     */
    record MailAccepted(URI destination, List<String> recipients, String reply) implements ReportDelivery {
        /** Requires all. */
        public MailAccepted {
            Objects.requireNonNull(destination, "destination");
            recipients = List.copyOf(recipients);
            Objects.requireNonNull(reply, "reply");
        }
    }

    /**
     * The relay refused the report for this {@code mailto:} URI (at {@code MAIL}, {@code RCPT}, {@code DATA} or the
     * end of the data), or it was not sent because the relay's advertised {@code SIZE} is too small.
     *
     * @param reply the refusing reply, or why it was not sent
     * @param permanent 5yz (or too large): sending the same report again will fail again; otherwise (4yz) retry later
     */
    record MailRefused(URI destination, String reply, boolean permanent) implements ReportDelivery {
        /** Requires the destination and the reply. */
        public MailRefused {
            Objects.requireNonNull(destination, "destination");
            Objects.requireNonNull(reply, "reply");
        }
    }
}
