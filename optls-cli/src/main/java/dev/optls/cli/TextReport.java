package dev.optls.cli;

import java.util.List;

/** Renders a {@link ProbeReport} for people. */
final class TextReport {
    private TextReport() {}

    static String render(ProbeReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.target())
                .append("  (")
                .append(r.protocol())
                .append(", level ")
                .append(r.level())
                .append(")\n");
        line(sb, "greeting", r.greeting());
        if (r.capabilities() != null) {
            line(sb, "before TLS", join(r.capabilities().before()));
        }
        if (r.tls() != null) {
            line(
                    sb,
                    "TLS",
                    r.tls().version() + "  " + r.tls().cipher()
                            + (r.tls().alpn() == null ? "" : "  ALPN " + r.tls().alpn()));
        }
        if (r.certificate() != null) {
            ProbeReport.Certificate c = r.certificate();
            line(sb, "certificate", c.subject());
            line(sb, "  SANs", String.join(", ", c.sans()));
            line(sb, "  issuer", c.issuer());
            line(sb, "  valid", c.notBefore() + " .. " + c.notAfter());
            line(sb, "  sha256", c.sha256());
            line(sb, "  spki sha256", c.spkiSha256());
        }
        if (r.verification() != null) {
            line(
                    sb,
                    "verification",
                    r.verification().result() + " (" + r.verification().reason() + ")");
        }
        if (r.capabilities() != null && r.tls() != null) {
            line(sb, "after TLS", join(r.capabilities().after()));
        }
        if (r.failure() != null) {
            line(sb, "problem", r.failure().kind() + ": " + r.failure().detail());
        }
        line(
                sb,
                "outcome",
                r.outcome()
                        + (r.satisfied()
                                ? " (level " + r.level() + " satisfied)"
                                : " (level " + r.level() + " NOT satisfied)"));
        return sb.toString();
    }

    private static String join(List<String> items) {
        return items.isEmpty() ? "(nothing)" : String.join(", ", items);
    }

    private static void line(StringBuilder sb, String label, String value) {
        if (value == null) {
            return;
        }
        sb.append("  ")
                .append(String.format("%-14s", label))
                .append(' ')
                .append(value)
                .append('\n');
    }
}
