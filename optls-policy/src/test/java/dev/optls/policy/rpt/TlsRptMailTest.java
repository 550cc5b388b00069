package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The report mail message of RFC 8460 §5.3. */
class TlsRptMailTest {

    private static final ZonedDateTime DATE = ZonedDateTime.of(2016, 4, 2, 3, 0, 0, 0, ZoneOffset.UTC);

    private static String build(byte[] gz) {
        TlsRptReport report = TlsRptJsonTest.rfcExampleReport();
        byte[] message = TlsRptMail.build(
                "tlsrpt-noreply@company-x.example",
                "sts-reports@company-y.example",
                "company-x.example",
                report,
                gz,
                TlsRptFiles.fileName("company-x.example", report, null),
                DATE);
        return new String(message, StandardCharsets.US_ASCII);
    }

    @Test
    void headersAsInTheRfc() {
        String m = build(TlsRptFiles.gzip(TlsRptJson.toBytes(TlsRptJsonTest.rfcExampleReport())));
        String headers = m.substring(0, m.indexOf("\r\n\r\n") + 2);

        assertThat(headers)
                .contains("From: tlsrpt-noreply@company-x.example\r\n")
                .contains("To: sts-reports@company-y.example\r\n")
                .contains("Date: Sat, 2 Apr 2016 03:00:00 GMT\r\n")
                .contains("Subject: Report Domain: company-y.example Submitter: company-x.example"
                        + " Report-ID: <5065427c-23d3-47ca-b6e0-946ea0e8c4be>\r\n")
                .contains("TLS-Report-Domain: company-y.example\r\n")
                .contains("TLS-Report-Submitter: company-x.example\r\n")
                .contains("TLS-Required: No\r\n")
                .contains("MIME-Version: 1.0\r\n")
                .containsPattern("Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"[^\"]+\"\r\n");
    }

    @Test
    void theAttachmentIsTheGzippedReport() {
        byte[] gz = TlsRptFiles.gzip(TlsRptJson.toBytes(TlsRptJsonTest.rfcExampleReport()));
        String m = build(gz);
        String boundary = m.replaceAll("(?s).*boundary=\"([^\"]+)\".*", "$1");
        String[] parts = m.split("--" + java.util.regex.Pattern.quote(boundary));
        // preamble, text part, report part, closing "--"
        assertThat(parts).hasSize(4);
        assertThat(parts[3]).isEqualTo("--\r\n");
        assertThat(parts[1]).contains("Content-Type: text/plain");
        String reportPart = parts[2];
        assertThat(reportPart)
                .contains("Content-Type: application/tlsrpt+gzip\r\n")
                .contains("Content-Transfer-Encoding: base64\r\n")
                .contains("Content-Disposition: attachment;"
                        + " filename=\"company-x.example!company-y.example!1459468800!1459555199.json.gz\"\r\n");
        String body = reportPart.substring(reportPart.indexOf("\r\n\r\n") + 4);
        List<String> lines = new ArrayList<>(Arrays.asList(body.split("\r\n")));
        lines.removeIf(String::isEmpty);
        assertThat(lines).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(76));
        byte[] decoded = Base64.getDecoder().decode(String.join("", lines));
        assertThat(decoded).isEqualTo(gz);
        assertThat(TlsRptJson.parse(TlsRptFiles.gunzip(decoded, 1 << 20).orElseThrow()))
                .isEqualTo(new TlsRptParse.Parsed(TlsRptJsonTest.rfcExampleReport()));
    }

    @Test
    void everyLineEndsInCrlfAndNoLineStartsWithADot() {
        String m = build(TlsRptFiles.gzip(new byte[5000]));
        assertThat(m.replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
        assertThat(m).endsWith("\r\n");
        assertThat(m.split("\r\n")).noneMatch(l -> l.startsWith("."));
    }

    @Test
    void headerValuesCannotInjectHeaders() {
        TlsRptReport report = TlsRptJsonTest.rfcExampleReport();
        assertThatThrownBy(() -> TlsRptMail.build(
                        "a@x.example\r\nBcc: victim@x.example",
                        "b@y.example",
                        "x.example",
                        report,
                        new byte[1],
                        "f.json.gz",
                        DATE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("header injection");
    }
}
