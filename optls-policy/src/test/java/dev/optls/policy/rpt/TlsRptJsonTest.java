package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The report JSON of RFC 8460 §4.4, checked against the RFC's example (§4.5) field by field. */
class TlsRptJsonTest {

    /** RFC 8460 §4.5, with {@code mx-host} as an array (errata 6241). */
    static final String RFC_EXAMPLE = """
            {
              "organization-name": "Company-X",
              "date-range": {
                "start-datetime": "2016-04-01T00:00:00Z",
                "end-datetime": "2016-04-01T23:59:59Z"
              },
              "contact-info": "sts-reporting@company-x.example",
              "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
              "policies": [{
                "policy": {
                  "policy-type": "sts",
                  "policy-string": ["version: STSv1","mode: testing",
                        "mx: *.mail.company-y.example","max_age: 86400"],
                  "policy-domain": "company-y.example",
                  "mx-host": ["*.mail.company-y.example"]
                },
                "summary": {
                  "total-successful-session-count": 5326,
                  "total-failure-session-count": 303
                },
                "failure-details": [{
                  "result-type": "certificate-expired",
                  "sending-mta-ip": "2001:db8:abcd:0012::1",
                  "receiving-mx-hostname": "mx1.mail.company-y.example",
                  "failed-session-count": 100
                }, {
                  "result-type": "starttls-not-supported",
                  "sending-mta-ip": "2001:db8:abcd:0013::1",
                  "receiving-mx-hostname": "mx2.mail.company-y.example",
                  "receiving-ip": "203.0.113.56",
                  "failed-session-count": 200,
                  "additional-information": "https://reports.company-x.example/report_info?id=5065427c#StarttlsNotSupported"
                }, {
                  "result-type": "validation-failure",
                  "sending-mta-ip": "198.51.100.62",
                  "receiving-ip": "203.0.113.58",
                  "receiving-mx-hostname": "mx-backup.mail.company-y.example",
                  "failed-session-count": 3,
                  "failure-reason-code": "X509_V_ERR_PROOF_OF_POSSESSION"
                }]
              }]
            }
            """;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The RFC example built from the model, as a sender would. */
    static TlsRptReport rfcExampleReport() {
        ReportPolicy policy = ReportPolicy.sts(
                "company-y.example",
                List.of("version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"),
                List.of("*.mail.company-y.example"));
        List<FailureDetail> details = List.of(
                new FailureDetail(
                        new SessionFailure(
                                TlsRptResult.CERTIFICATE_EXPIRED,
                                "2001:db8:abcd:0012::1",
                                "mx1.mail.company-y.example",
                                null,
                                null,
                                null,
                                null),
                        100),
                new FailureDetail(
                        new SessionFailure(
                                TlsRptResult.STARTTLS_NOT_SUPPORTED,
                                "2001:db8:abcd:0013::1",
                                "mx2.mail.company-y.example",
                                null,
                                "203.0.113.56",
                                "https://reports.company-x.example/report_info?id=5065427c#StarttlsNotSupported",
                                null),
                        200),
                new FailureDetail(
                        new SessionFailure(
                                TlsRptResult.VALIDATION_FAILURE,
                                "198.51.100.62",
                                "mx-backup.mail.company-y.example",
                                null,
                                "203.0.113.58",
                                null,
                                "X509_V_ERR_PROOF_OF_POSSESSION"),
                        3));
        return TlsRptReport.forDay(
                "Company-X",
                "sts-reporting@company-x.example",
                "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
                LocalDate.of(2016, 4, 1),
                List.of(new PolicyReport(policy, 5326, 303, details)));
    }

    @Test
    void writesTheRfcExampleFieldByField() throws Exception {
        JsonNode expected = MAPPER.readTree(RFC_EXAMPLE);
        JsonNode written = MAPPER.readTree(TlsRptJson.toBytes(rfcExampleReport()));

        // Every path and value of the RFC's example, and nothing else (Jackson's equals is order-insensitive for
        // objects, so the leaf list below compares paths too).
        assertThat(leaves(written, "")).containsExactlyInAnyOrderElementsOf(leaves(expected, ""));
        assertThat(written).isEqualTo(expected);
        assertThat(written.get("date-range").get("start-datetime").asText()).isEqualTo("2016-04-01T00:00:00Z");
        assertThat(written.get("policies")
                        .get(0)
                        .get("summary")
                        .get("total-failure-session-count")
                        .isIntegralNumber())
                .isTrue();
    }

    @Test
    void writesFieldsInTheRfcOrder() throws Exception {
        JsonNode written = MAPPER.readTree(TlsRptJson.toBytes(rfcExampleReport()));
        assertThat(names(written))
                .containsExactly("organization-name", "date-range", "contact-info", "report-id", "policies");
        JsonNode entry = written.get("policies").get(0);
        assertThat(names(entry)).containsExactly("policy", "summary", "failure-details");
        assertThat(names(entry.get("policy")))
                .containsExactly("policy-type", "policy-string", "policy-domain", "mx-host");
        assertThat(names(entry.get("failure-details").get(1)))
                .containsExactly(
                        "result-type",
                        "sending-mta-ip",
                        "receiving-mx-hostname",
                        "receiving-ip",
                        "failed-session-count",
                        "additional-information");
    }

    @Test
    void readsTheRfcExampleIntoTheSameModel() {
        TlsRptParse parsed = TlsRptJson.parse(RFC_EXAMPLE.getBytes(StandardCharsets.UTF_8));
        assertThat(parsed).isEqualTo(new TlsRptParse.Parsed(rfcExampleReport()));
    }

    @Test
    void noPolicyFoundOmitsPolicyStringsMxHostsAndEmptyDetails() throws Exception {
        TlsRptReport report = TlsRptReport.forDay(
                "Org",
                "mailto:x@example.com",
                "id-1",
                LocalDate.of(2026, 11, 29),
                List.of(new PolicyReport(ReportPolicy.noPolicyFound("Example.COM."), 7, 0, List.of())));
        JsonNode written = MAPPER.readTree(TlsRptJson.toBytes(report));
        JsonNode entry = written.get("policies").get(0);
        assertThat(names(entry.get("policy"))).containsExactly("policy-type", "policy-domain");
        assertThat(entry.get("policy").get("policy-type").asText()).isEqualTo("no-policy-found");
        assertThat(entry.get("policy").get("policy-domain").asText()).isEqualTo("example.com");
        assertThat(names(entry)).containsExactly("policy", "summary");
        assertThat(written.get("date-range").get("end-datetime").asText()).isEqualTo("2026-11-29T23:59:59Z");
    }

    @Test
    void tlsaPolicyAndHeloRoundTrip() {
        ReportPolicy tlsa = ReportPolicy.tlsa("example.net", List.of("3 1 1 1F85A2B3", "2 0 1 ABCDEF00"));
        SessionFailure f = new SessionFailure(
                TlsRptResult.TLSA_INVALID, "192.0.2.1", "mx.example.net", "mx.example.net", "192.0.2.25", null, null);
        TlsRptReport report = TlsRptReport.forDay(
                "Org",
                "c@example.org",
                "r",
                LocalDate.of(2026, 1, 2),
                List.of(new PolicyReport(tlsa, 1, 4, List.of(new FailureDetail(f, 4)))));
        assertThat(TlsRptJson.parse(TlsRptJson.toBytes(report))).isEqualTo(new TlsRptParse.Parsed(report));
    }

    @Test
    void readsLenientlyWhereSendersDiffer() {
        // mx-host as a single string (the RFC body before errata 6241) and a date-time without a zone (Microsoft).
        String json = RFC_EXAMPLE
                .replace("\"mx-host\": [\"*.mail.company-y.example\"]", "\"mx-host\": \"*.mail.company-y.example\"")
                .replace("2016-04-01T00:00:00Z", "2016-04-01T00:00:00");
        TlsRptParse parsed = TlsRptJson.parse(json.getBytes(StandardCharsets.UTF_8));
        assertThat(parsed).isEqualTo(new TlsRptParse.Parsed(rfcExampleReport()));
        assertThat(((TlsRptParse.Parsed) parsed).report().start()).isEqualTo(Instant.parse("2016-04-01T00:00:00Z"));
    }

    @Test
    void malformedReportsAreValues() {
        assertMalformed("not json", "not JSON");
        assertMalformed("[]", "not a JSON object");
        assertMalformed(RFC_EXAMPLE.replace("\"policy-type\": \"sts\"", "\"policy-type\": \"dmarc\""), "policy-type");
        assertMalformed(RFC_EXAMPLE.replace("certificate-expired", "cosmic-rays"), "result-type");
        assertMalformed(RFC_EXAMPLE.replace("5326", "-1"), "non-negative");
        assertMalformed(
                RFC_EXAMPLE.replace("\"failed-session-count\": 3", "\"failed-session-count\": \"3\""), "integer");
        assertMalformed(RFC_EXAMPLE.replace("2016-04-01T23:59:59Z", "yesterday"), "date-time");
        assertMalformed(RFC_EXAMPLE.replace("\"contact-info\"", "\"contact\""), "contact-info");
    }

    private static void assertMalformed(String json, String expected) {
        TlsRptParse parsed = TlsRptJson.parse(json.getBytes(StandardCharsets.UTF_8));
        assertThat(parsed).isInstanceOf(TlsRptParse.Malformed.class);
        assertThat(((TlsRptParse.Malformed) parsed).reason()).contains(expected);
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static List<String> leaves(JsonNode node, String path) {
        List<String> out = new ArrayList<>();
        if (node.isObject()) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                out.addAll(leaves(node.get(name), path + "/" + name));
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                out.addAll(leaves(node.get(i), path + "[" + i + "]"));
            }
        } else {
            out.add(path + "=" + node);
        }
        return out;
    }
}
