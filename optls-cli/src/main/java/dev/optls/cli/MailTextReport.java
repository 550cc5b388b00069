package dev.optls.cli;

import java.util.List;

/** Renders a {@link MailProbeReport} for people. */
final class MailTextReport {
    private MailTextReport() {}

    static String render(MailProbeReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.domain()).append("  (mail domain)\n");
        if (r.policy() != null) {
            line(sb, 1, "policy", r.policy().source() + ": " + r.policy().reason());
        }
        MailProbeReport.Mx mx = r.mx();
        line(
                sb,
                1,
                "MX",
                mx.lookup() + ", DNSSEC " + mx.dnssec() + (mx.detail() == null ? "" : " (" + mx.detail() + ")"));
        for (MailProbeReport.Host h : mx.hosts()) {
            sb.append("  ").append(h.preference()).append(' ').append(h.host());
            if (h.requirement() != null) {
                sb.append("  [").append(h.requirement()).append(']');
            }
            sb.append('\n');
            line(
                    sb,
                    2,
                    "addresses",
                    h.addresses().isEmpty()
                            ? "(none)"
                            : String.join(
                                    ", ",
                                    h.addresses().stream()
                                            .map(a -> a.address() + " (" + a.dnssec() + ")")
                                            .toList()));
            line(sb, 2, "STARTTLS", h.starttls() + (h.probed() == null ? "" : " at " + h.probed()));
            if (h.tls() != null) {
                line(sb, 2, "TLS", h.tls().version() + "  " + h.tls().cipher());
            }
            if (h.certificate() != null) {
                ProbeReport.Certificate c = h.certificate();
                line(sb, 2, "certificate", c.subject());
                line(sb, 2, "  SANs", String.join(", ", c.sans()));
                line(sb, 2, "  issuer", c.issuer());
                line(sb, 2, "  valid", c.notBefore() + " .. " + c.notAfter());
            }
            if (h.pkix() != null) {
                line(
                        sb,
                        2,
                        "WebPKI",
                        (h.pkix().chainValid() && h.pkix().nameMatches() ? "valid" : "NOT valid") + " ("
                                + h.pkix().reason() + ")");
            }
            if (h.dane() != null) {
                MailProbeReport.Dane d = h.dane();
                line(
                        sb,
                        2,
                        "DANE",
                        d.outcome()
                                + (d.authenticated() == null
                                        ? ""
                                        : d.authenticated() ? ", authenticated" : ", NOT authenticated"));
                line(sb, 2, "  TLSA", d.tlsaName() + " (DNSSEC " + d.dnssec() + ")");
                for (MailProbeReport.TlsaMatch m : d.records()) {
                    line(sb, 2, "    " + m.match(), shorten(m.record()));
                }
            }
            if (h.stsListed() != null) {
                line(sb, 2, "MTA-STS", h.stsListed() ? "listed" : "NOT listed");
            }
            line(sb, 2, "problem", h.problem());
            line(sb, 2, "verdict", h.verdict().status() + ": " + h.verdict().reason());
        }
        if (r.mtaSts() != null) {
            MailProbeReport.MtaSts s = r.mtaSts();
            line(
                    sb,
                    1,
                    "MTA-STS",
                    "record " + s.record() + (s.id() == null ? "" : " id=" + s.id()) + " (DNSSEC " + s.dnssec() + ")"
                            + (s.mode() == null ? "" : ", mode " + s.mode())
                            + (s.mx() == null ? "" : ", mx " + String.join(" ", s.mx())));
            line(sb, 1, "  decision", s.reason());
            line(sb, 1, "  fetch", s.fetchFailure());
        }
        if (r.tlsRpt() != null) {
            MailProbeReport.TlsRpt t = r.tlsRpt();
            line(
                    sb,
                    1,
                    "TLS-RPT",
                    t.record()
                            + (t.rua() == null ? "" : " rua=" + String.join(",", t.rua()))
                            + (t.reason() == null ? "" : " (" + t.reason() + ")"));
        }
        line(sb, 1, "verdict", r.verdict().status() + ": " + r.verdict().reason());
        return sb.toString();
    }

    private static String shorten(String record) {
        return record.length() <= 80 ? record : record.substring(0, 77) + "...";
    }

    private static void line(StringBuilder sb, int indent, String label, String value) {
        if (value == null) {
            return;
        }
        sb.append("  ".repeat(indent))
                .append(String.format("%-" + (16 - 2 * indent) + "s", label))
                .append(' ')
                .append(value)
                .append('\n');
    }

    static String join(List<String> items) {
        return String.join(", ", items);
    }
}
