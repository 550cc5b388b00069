package dev.optls.policy.rpt;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;

/**
 * A TLS-RPT aggregate report (RFC 8460 §4.4) for one policy domain and period.
 *
 * @param organizationName the reporting organization
 * @param start {@code date-range.start-datetime}
 * @param end {@code date-range.end-datetime}
 * @param contactInfo an address or URI to contact the reporter
 * @param reportId a unique id
 * @param policies the policies, with their counts
 */
public record TlsRptReport(
        String organizationName,
        Instant start,
        Instant end,
        String contactInfo,
        String reportId,
        List<PolicyReport> policies) {

    /** Requires every field and copies the policies. */
    public TlsRptReport {
        Objects.requireNonNull(organizationName, "organizationName");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        Objects.requireNonNull(contactInfo, "contactInfo");
        Objects.requireNonNull(reportId, "reportId");
        policies = List.copyOf(policies);
        if (end.isBefore(start)) {
            throw new IllegalArgumentException("the report ends (" + end + ") before it starts (" + start + ")");
        }
    }

    /**
     * A report for one UTC day: RFC 8460 §4.4 says the range SHOULD cover a full UTC day; like the RFC's example
     * (§4.5) it runs from 00:00:00Z to 23:59:59Z.
     */
    public static TlsRptReport forDay(
            String organizationName, String contactInfo, String reportId, LocalDate day, List<PolicyReport> policies) {
        Instant start = day.atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant end = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().minusSeconds(1);
        return new TlsRptReport(organizationName, start, end, contactInfo, reportId, policies);
    }
}
