package dev.optls.policy.rpt;

import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Objects;
import java.util.UUID;

/**
 * The mail form of a report (RFC 8460 §5.3): a {@code multipart/report; report-type="tlsrpt"} message with a short
 * text part and the gzipped report as a base64 attachment, and the headers {@code TLS-Report-Domain}, {@code
 * TLS-Report-Submitter} and the RFC's {@code Subject}. Built as bytes with CRLF line ends, ready for SMTP {@code
 * DATA} (no dot-stuffing needed: no line begins with a dot).
 *
 * <p>Not done here: the DKIM signature RFC 8460 §5.3 requires (receivers ignore unsigned reports) and sending; {@link
 * MailReportSender} does both.
 */
public final class TlsRptMail {

    private static final int BASE64_LINE = 76;

    private TlsRptMail() {}

    /**
     * Builds the message.
     *
     * @param from the report sender's address
     * @param to the {@code mailto:} address from the TLS-RPT record
     * @param submitter the reporting domain ({@code TLS-Report-Submitter})
     * @param report the report (its first policy's domain is the {@code TLS-Report-Domain})
     * @param gzippedReport the gzipped JSON of {@code report}
     * @param fileName the attachment name ({@link TlsRptFiles#fileName})
     * @param date the message date
     */
    public static byte[] build(
            String from,
            String to,
            String submitter,
            TlsRptReport report,
            byte[] gzippedReport,
            String fileName,
            ZonedDateTime date) {
        Objects.requireNonNull(gzippedReport, "gzippedReport");
        if (report.policies().isEmpty()) {
            throw new IllegalArgumentException("a report without policies has no policy domain");
        }
        String domain = report.policies().get(0).policy().policyDomain();
        String boundary = "----=_tlsrpt_" + UUID.nameUUIDFromBytes(gzippedReport);
        StringBuilder m = new StringBuilder(gzippedReport.length * 4 / 3 + 1024);
        header(m, "From", from);
        header(m, "To", to);
        header(m, "Date", DateTimeFormatter.RFC_1123_DATE_TIME.format(Objects.requireNonNull(date, "date")));
        // RFC 8460 §5.3: "Subject: Report Domain: <domain> Submitter: <submitter> Report-ID: <<id>>".
        header(
                m,
                "Subject",
                "Report Domain: " + domain + " Submitter: " + submitter + " Report-ID: <" + report.reportId() + ">");
        // RFC 8460 §5.3: the two headers that identify the report without parsing it.
        header(m, "TLS-Report-Domain", domain);
        header(m, "TLS-Report-Submitter", submitter);
        // RFC 8460 §5.3 / RFC 8689 §5: the report must get through even when TLS to the receiver fails.
        header(m, "TLS-Required", "No");
        header(m, "Message-ID", "<" + UUID.nameUUIDFromBytes(gzippedReport) + "@" + submitter + ">");
        header(m, "MIME-Version", "1.0");
        header(m, "Content-Type", "multipart/report; report-type=\"tlsrpt\"; boundary=\"" + boundary + "\"");
        m.append("\r\n");
        m.append("This is a multipart message in MIME format.\r\n\r\n");
        m.append("--").append(boundary).append("\r\n");
        m.append("Content-Type: text/plain; charset=us-ascii\r\n");
        m.append("Content-Transfer-Encoding: 7bit\r\n\r\n");
        m.append("This is an aggregate TLS report from ")
                .append(submitter)
                .append(" for ")
                .append(domain)
                .append(".\r\n\r\n");
        m.append("--").append(boundary).append("\r\n");
        m.append("Content-Type: ").append(TlsRptFiles.GZIP_MEDIA_TYPE).append("\r\n");
        m.append("Content-Transfer-Encoding: base64\r\n");
        m.append("Content-Disposition: attachment; filename=\"")
                .append(check(fileName, "fileName"))
                .append("\"\r\n\r\n");
        String b64 = Base64.getEncoder().encodeToString(gzippedReport);
        for (int i = 0; i < b64.length(); i += BASE64_LINE) {
            m.append(b64, i, Math.min(b64.length(), i + BASE64_LINE)).append("\r\n");
        }
        m.append("\r\n--").append(boundary).append("--\r\n");
        return m.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void header(StringBuilder m, String name, String value) {
        m.append(name).append(": ").append(check(value, name)).append("\r\n");
    }

    private static String check(String value, String what) {
        Objects.requireNonNull(value, what);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7E || c == '"' && what.equals("fileName")) {
                throw new IllegalArgumentException(
                        what + " must be printable US-ASCII on one line (no header injection): " + value);
            }
        }
        return value;
    }
}
