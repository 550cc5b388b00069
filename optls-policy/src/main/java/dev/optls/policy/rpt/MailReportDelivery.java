package dev.optls.policy.rpt;

import java.net.URI;
import java.util.List;

/**
 * Sends a report message (RFC 8460 §5.3, built by {@link TlsRptMail#build}) to the {@code mailto:} destinations of a
 * TLS-RPT record, for {@link ReportSchedule}. An implementation submits it by SMTP (RFC 8460 §5.3: with a DKIM
 * signature of the reporting domain, and without requiring TLS for this message); it must be safe to call from the
 * schedule's thread and should return within a bounded time.
 */
@FunctionalInterface
public interface MailReportDelivery {

    /**
     * Sends {@code message} (CRLF line ends, ready for SMTP {@code DATA}) to every address of {@code mailto}.
     *
     * @param message the whole message, headers included
     * @param mailto the {@code mailto:} URIs from the record, in record order (the address is {@link
     *     URI#getSchemeSpecificPart()})
     * @return one outcome per destination, {@link ReportDelivery#accepted()} when the message was accepted for it
     *     ({@link MailReportSender#delivery(String)} gives {@link ReportDelivery.MailAccepted}, {@link
     *     ReportDelivery.MailRefused} or {@link ReportDelivery.Failed})
     */
    List<ReportDelivery> send(byte[] message, List<URI> mailto);
}
