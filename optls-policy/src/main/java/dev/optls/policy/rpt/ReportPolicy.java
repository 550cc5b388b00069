package dev.optls.policy.rpt;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code policy} object of a TLS-RPT report entry (RFC 8460 §4.4): which policy the sessions were evaluated
 * against. Sessions are aggregated per equal policy.
 *
 * @param type the policy type
 * @param policyStrings for {@code sts} the policy lines, for {@code tlsa} each TLSA record in presentation form;
 *     empty for {@code no-policy-found} (then omitted from the JSON)
 * @param policyDomain the recipient domain, lower case without a trailing dot
 * @param mxHosts for {@code sts} the policy's {@code mx} patterns; may be empty (then omitted from the JSON)
 */
public record ReportPolicy(PolicyType type, List<String> policyStrings, String policyDomain, List<String> mxHosts) {

    /** Normalizes the domain and copies the lists. */
    public ReportPolicy {
        Objects.requireNonNull(type, "type");
        policyStrings = List.copyOf(policyStrings);
        mxHosts = List.copyOf(mxHosts);
        policyDomain = normalizeDomain(policyDomain);
    }

    /** An MTA-STS policy: its lines (as in the policy file) and its {@code mx} patterns. */
    public static ReportPolicy sts(String policyDomain, List<String> policyLines, List<String> mxPatterns) {
        return new ReportPolicy(PolicyType.STS, policyLines, policyDomain, mxPatterns);
    }

    /** A DANE policy: the TLSA records in presentation form, e.g. {@code 3 1 1 1F85...}. */
    public static ReportPolicy tlsa(String policyDomain, List<String> tlsaRecords) {
        return new ReportPolicy(PolicyType.TLSA, tlsaRecords, policyDomain, List.of());
    }

    /** No policy applied to the domain. */
    public static ReportPolicy noPolicyFound(String policyDomain) {
        return new ReportPolicy(PolicyType.NO_POLICY_FOUND, List.of(), policyDomain, List.of());
    }

    static String normalizeDomain(String domain) {
        Objects.requireNonNull(domain, "policyDomain");
        String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
        if (d.isEmpty()) {
            throw new IllegalArgumentException("the policy domain is empty");
        }
        // One trailing dot is removed; a second one would survive and be removed by the next reader: refused, so
        // that a report read back and written again is the same report.
        if (d.endsWith(".")) {
            throw new IllegalArgumentException("the policy domain ends with an empty label: " + shorten(domain));
        }
        return d.toLowerCase(Locale.ROOT);
    }

    private static String shorten(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
