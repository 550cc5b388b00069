package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.optls.policy.Mutations;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing the TLS-RPT readers (issue 5, "Bad input"): report JSON ({@link TlsRptJson#parse}) from arbitrary bytes,
 * mutated RFC 8460 §4.5 examples, report-shaped JSON with random values, huge and deeply nested input; gunzip
 * ({@link TlsRptFiles#gunzip}) of arbitrary and corrupted data and decompression bombs. The outcome is always a
 * value (never an exception), bounded, and what parses writes back to the same report.
 */
class TlsRptFuzzTest {

    static final int MAX_REASON = 400;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    // ---- TlsRptJson.parse

    @Property(tries = 500)
    void arbitraryBytesAreAReportOrMalformed(@ForAll @Size(max = 400) byte[] json) {
        check(json);
    }

    @Property(tries = 1000)
    void mutatedRfcExamplesAreReportsOrMalformed(@ForAll("mutatedExample") String json) {
        Statistics.label("outcome").collect(check(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Property(tries = 1000)
    void reportShapedJsonWithRandomValuesIsAReportOrMalformed(@ForAll("reportShaped") String json) {
        Statistics.label("outcome").collect(check(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Property(tries = 300)
    void generatedReportsRoundTrip(@ForAll("reports") TlsRptReport report) {
        byte[] json = TlsRptJson.toBytes(report);

        assertThat(TlsRptJson.parse(json)).isEqualTo(new TlsRptParse.Parsed(report));
        assertThat(TlsRptFiles.gunzip(TlsRptFiles.gzip(json), json.length)).hasValue(json);
    }

    @Test
    void deepHugeAndOddInputIsMalformedQuickly() {
        long start = System.nanoTime();
        List<byte[]> inputs = List.of(
                "[".repeat(200_000).getBytes(StandardCharsets.US_ASCII),
                "{\"a\":".repeat(100_000).getBytes(StandardCharsets.US_ASCII),
                ("{\"organization-name\":\"" + "x".repeat(TlsRptJson.MAX_JSON_BYTES) + "\"}")
                        .getBytes(StandardCharsets.US_ASCII),
                numberIn("1e999999"),
                numberIn("123456789012345678901234567890"),
                numberIn("-1"),
                numberIn("5.5"),
                numberIn("9".repeat(5000)),
                new byte[0],
                "null".getBytes(StandardCharsets.US_ASCII),
                "\"report\"".getBytes(StandardCharsets.US_ASCII),
                new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'},
                new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'});
        for (byte[] json : inputs) {
            assertThat(TlsRptJson.parse(json)).isInstanceOf(TlsRptParse.Malformed.class);
            check(json);
        }
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
    }

    @Test
    void aDomainWithTwoTrailingDotsIsMalformed() {
        // Regression: "x.." was read as "x.", which was written and read back as "x" (not the same report).
        byte[] json = replaced("\"company-y.example\"", "\"Company-Y.example..\"");
        check(json);
        assertThat(TlsRptJson.parse(json))
                .isEqualTo(
                        new TlsRptParse.Malformed("the policy domain ends with an empty label: Company-Y.example.."));
    }

    @Test
    void reasonsQuoteAtMostAShortPieceOfAHugeValue() {
        // Regression: unknown types and bad date-times were quoted whole (up to 20 MiB).
        String huge = "x".repeat(1_000_000);
        for (byte[] json : List.of(
                replaced("\"sts\"", "\"" + huge + "\""),
                replaced("\"certificate-expired\"", "\"" + huge + "\""),
                replaced("\"2016-04-01T00:00:00Z\"", "\"" + huge + "\""),
                replaced("\"company-y.example\"", "\"" + huge + "..\""),
                ("{\"" + huge + "\" 1}").getBytes(StandardCharsets.US_ASCII),
                ("[" + huge + "]").getBytes(StandardCharsets.US_ASCII))) {
            check(json);
        }
    }

    private static byte[] replaced(String from, String to) {
        String json = new String(TlsRptJson.toBytes(TlsRptJsonTest.rfcExampleReport()), StandardCharsets.UTF_8);
        assertThat(json).contains(from);
        return json.replace(from, to).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aLargeValidReportParsesInBoundedTime() {
        TlsRptReport example = TlsRptJsonTest.rfcExampleReport();
        List<FailureDetail> details = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            details.add(new FailureDetail(
                    new SessionFailure(
                            TlsRptResult.values()[i % TlsRptResult.values().length],
                            "192.0.2." + (i % 250),
                            "mx" + i + ".example",
                            null,
                            "198.51.100.7",
                            null,
                            "code-" + i),
                    i + 1L));
        }
        PolicyReport policy = new PolicyReport(example.policies().get(0).policy(), 5, 20_000, details);
        TlsRptReport big = new TlsRptReport(
                "org", example.start(), example.end(), "c@example", "id", List.of(policy, policy, policy));
        byte[] json = TlsRptJson.toBytes(big);
        assertThat(json.length).isGreaterThan(5_000_000);

        long start = System.nanoTime();
        TlsRptParse parsed = TlsRptJson.parse(json);

        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
        assertThat(parsed).isEqualTo(new TlsRptParse.Parsed(big));
    }

    private static byte[] numberIn(String number) {
        String json = new String(TlsRptJson.toBytes(TlsRptJsonTest.rfcExampleReport()), StandardCharsets.UTF_8)
                .replace("\"failed-session-count\":100", "\"failed-session-count\":" + number);
        return json.getBytes(StandardCharsets.UTF_8);
    }

    /** Checks the outcome of parsing {@code json}; returns its kind, for the statistics. */
    static String check(byte[] json) {
        TlsRptParse result = TlsRptJson.parse(json);
        assertThat(result).isInstanceOfAny(TlsRptParse.Parsed.class, TlsRptParse.Malformed.class);
        if (result instanceof TlsRptParse.Malformed malformed) {
            assertThat(malformed.reason()).isNotBlank().hasSizeLessThanOrEqualTo(MAX_REASON);
            return "malformed";
        }
        TlsRptReport r = ((TlsRptParse.Parsed) result).report();
        assertThat(r.end()).isAfterOrEqualTo(r.start());
        for (PolicyReport p : r.policies()) {
            assertThat(p.successfulSessions()).isNotNegative();
            assertThat(p.failedSessions()).isNotNegative();
            assertThat(p.failureDetails())
                    .allSatisfy(d -> assertThat(d.failedSessionCount()).isPositive());
            assertThat(p.policy().policyDomain()).isNotEmpty();
        }
        // What was read writes back to the same report (the writer's output is what the reader reads).
        assertThat(TlsRptJson.parse(TlsRptJson.toBytes(r))).isEqualTo(result);
        return "report";
    }

    @Provide
    Arbitrary<String> mutatedExample() {
        return Arbitraries.oneOf(
                Mutations.of(TlsRptJsonTest.RFC_EXAMPLE, Mutations.syntaxCharacters()),
                Mutations.of(
                        new String(TlsRptJson.toBytes(TlsRptJsonTest.rfcExampleReport()), StandardCharsets.UTF_8),
                        Mutations.syntaxCharacters()));
    }

    /** The RFC example with one to three nodes replaced by random JSON or removed. */
    @Provide
    Arbitrary<String> reportShaped() {
        Arbitrary<Edit> edit = Combinators.combine(
                        Arbitraries.doubles().between(0, 1), Arbitraries.oneOf(json(2), Arbitraries.just(null)))
                .as(Edit::new);
        return edit.list().ofMinSize(1).ofMaxSize(3).map(edits -> {
            try {
                JsonNode root = MAPPER.readTree(TlsRptJsonTest.RFC_EXAMPLE);
                for (Edit e : edits) {
                    List<Slot> slots = new ArrayList<>();
                    slots(root, slots);
                    Slot s = slots.get(Math.min(slots.size() - 1, (int) (e.where() * slots.size())));
                    s.set(e.value() == null ? null : MAPPER.readTree(e.value()));
                }
                return MAPPER.writeValueAsString(root);
            } catch (JsonProcessingException ex) {
                throw new AssertionError(ex);
            }
        });
    }

    record Edit(double where, String value) {}

    /** A place in a tree: a field of an object or an element of an array. */
    record Slot(JsonNode parent, String field, int index) {
        void set(JsonNode value) {
            if (parent instanceof ObjectNode o) {
                if (value == null) {
                    o.remove(field);
                } else {
                    o.set(field, value);
                }
            } else if (parent instanceof ArrayNode a) {
                if (value == null) {
                    a.remove(index);
                } else {
                    a.set(index, value);
                }
            }
        }
    }

    private static void slots(JsonNode node, List<Slot> out) {
        if (node instanceof ObjectNode o) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                out.add(new Slot(o, n, -1));
                slots(o.get(n), out);
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                out.add(new Slot(a, null, i));
                slots(a.get(i), out);
            }
        }
    }

    /** Random JSON text, at most {@code depth} levels of containers, with the schema's names among the keys. */
    static Arbitrary<String> json(int depth) {
        Arbitrary<String> strings = Arbitraries.oneOf(
                        Arbitraries.strings().ofMaxLength(12),
                        Arbitraries.of(
                                "sts",
                                "tlsa",
                                "no-policy-found",
                                "",
                                ".",
                                "a..",
                                "EXAMPLE.COM.",
                                "2016-04-01T00:00:00Z",
                                "2016-04-01T00:00:00",
                                "2016-04-02T00:00:00+14:00",
                                "+10000-01-01T00:00:00Z",
                                "certificate-expired",
                                "unknown-result"))
                .map(TlsRptFuzzTest::quote);
        Arbitrary<String> scalar = Arbitraries.oneOf(
                strings,
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.of("0", "-0", "1.0", "1e3", "-1", "9223372036854775808", "true", "false", "null"));
        if (depth == 0) {
            return scalar;
        }
        Arbitrary<String> keys = Arbitraries.oneOf(
                Arbitraries.of(
                        "organization-name",
                        "date-range",
                        "start-datetime",
                        "end-datetime",
                        "contact-info",
                        "report-id",
                        "policies",
                        "policy",
                        "policy-type",
                        "policy-string",
                        "policy-domain",
                        "mx-host",
                        "summary",
                        "total-successful-session-count",
                        "total-failure-session-count",
                        "failure-details",
                        "result-type",
                        "failed-session-count"),
                Arbitraries.strings().ofMaxLength(6));
        Arbitrary<String> inner = json(depth - 1);
        Arbitrary<String> array = inner.list().ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> object = Combinators.combine(keys, inner)
                .as((k, v) -> quote(k) + ":" + v)
                .list()
                .ofMaxSize(4)
                .map(l -> "{" + String.join(",", l) + "}");
        return Arbitraries.oneOf(scalar, scalar, array, object);
    }

    private static String quote(String s) {
        try {
            return MAPPER.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    @Provide
    Arbitrary<TlsRptReport> reports() {
        Arbitrary<String> text = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(30),
                Arbitraries.strings().ascii().ofMaxLength(30));
        Arbitrary<String> optional = Arbitraries.oneOf(text, Arbitraries.just(null));
        Arbitrary<String> domain = Arbitraries.strings()
                .withCharRange('a', 'z')
                .withChars('.', '-', '0')
                .ofMinLength(1)
                .ofMaxLength(20)
                .filter(d -> !d.endsWith(".") && !d.isEmpty());
        Arbitrary<ReportPolicy> policy = Combinators.combine(
                        Arbitraries.of(PolicyType.class),
                        text.list().ofMaxSize(4),
                        domain,
                        text.list().ofMaxSize(3))
                .as(ReportPolicy::new);
        Arbitrary<SessionFailure> failure = Combinators.combine(
                        Arbitraries.of(TlsRptResult.class), optional, optional, optional, optional, optional, optional)
                .as(SessionFailure::new);
        Arbitrary<FailureDetail> detail = Combinators.combine(
                        failure, Arbitraries.longs().between(1, Long.MAX_VALUE))
                .as(FailureDetail::new);
        Arbitrary<PolicyReport> policyReport = Combinators.combine(
                        policy,
                        Arbitraries.longs().greaterOrEqual(0),
                        Arbitraries.longs().greaterOrEqual(0),
                        detail.list().ofMaxSize(3))
                .as(PolicyReport::new);
        // Year 1 to 9999, with and without fractions of a second.
        Arbitrary<Instant> instant = Combinators.combine(
                        Arbitraries.longs().between(-62_135_596_800L, 253_402_300_799L - 86_400),
                        Arbitraries.oneOf(
                                Arbitraries.just(0), Arbitraries.integers().between(0, 999_999_999)))
                .as(Instant::ofEpochSecond);
        return Combinators.combine(
                        text,
                        instant,
                        Arbitraries.longs().between(0, 86_400),
                        text,
                        text,
                        policyReport.list().ofMaxSize(3))
                .as((org, start, length, contact, id, policies) ->
                        new TlsRptReport(org, start, start.plusSeconds(length), contact, id, policies));
    }

    // ---- TlsRptRecord.parse (its arbitrary-text properties are in TlsRptRecordTest)

    @Property(tries = 1000)
    void nearValidRecordsAreValuesAndValidOnesRoundTrip(@ForAll("mutatedRecords") String text) {
        TlsRptRecordOutcome outcome = TlsRptRecord.parse(text);

        assertThat(outcome).isInstanceOfAny(TlsRptRecordOutcome.Valid.class, TlsRptRecordOutcome.Invalid.class);
        if (outcome instanceof TlsRptRecordOutcome.Valid valid) {
            TlsRptRecord r = valid.record();
            assertThat(r.rua()).isNotEmpty().hasSizeLessThanOrEqualTo(TlsRptRecord.MAX_URIS);
            assertThat(r.rua()).allSatisfy(u -> assertThat(u.getScheme()).isIn("mailto", "https"));
            assertThat(TlsRptRecord.parse(r.toText())).isEqualTo(outcome);
            Statistics.label("outcome").collect("valid");
        } else {
            assertThat(((TlsRptRecordOutcome.Invalid) outcome).reason())
                    .isNotBlank()
                    .hasSizeLessThanOrEqualTo(MAX_REASON);
            Statistics.label("outcome").collect("invalid");
        }
    }

    @Provide
    Arbitrary<String> mutatedRecords() {
        return Arbitraries.oneOf(
                Mutations.of(
                        "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://r.example/v1?a=%2C;rua=mailto:b@x.example;"
                                + " ext.1=x:y",
                        Mutations.syntaxCharacters()),
                Mutations.of("v=TLSRPTv1;rua=https://[2001:db8::1]:8443/r", Mutations.syntaxCharacters()));
    }

    // ---- TlsRptFiles.gunzip

    @Property(tries = 500)
    void arbitraryBytesInflateToAValueWithinTheLimitOrNothing(
            @ForAll @Size(max = 300) byte[] bytes, @ForAll @IntRange(max = 1 << 16) int max) {
        Optional<byte[]> out = TlsRptFiles.gunzip(bytes, max);
        out.ifPresent(b -> assertThat(b.length).isLessThanOrEqualTo(max));
        // Behind a valid gzip header the deflate data is still arbitrary.
        byte[] withHeader = new byte[10 + bytes.length];
        withHeader[0] = 0x1f;
        withHeader[1] = (byte) 0x8b;
        withHeader[2] = 8;
        System.arraycopy(bytes, 0, withHeader, 10, bytes.length);
        TlsRptFiles.gunzip(withHeader, max).ifPresent(b -> assertThat(b.length).isLessThanOrEqualTo(max));
    }

    @Property(tries = 500)
    void corruptedGzipIsNothingOrTheOriginal(
            @ForAll @Size(max = 2000) byte[] data, @ForAll @Size(min = 1, max = 4) List<Integer> positions) {
        byte[] gz = TlsRptFiles.gzip(data);
        byte[] corrupt = Mutations.flip(
                gz, positions.stream().mapToInt(Integer::intValue).toArray());

        Optional<byte[]> out = TlsRptFiles.gunzip(corrupt, 1 << 20);

        // Header fields such as the time stamp are not checked; everything else is (CRC-32 and length).
        out.ifPresent(b -> assertThat(b).isEqualTo(data));
    }

    @Property(tries = 300)
    void editedGzipIsNothingOrTheOriginal(@ForAll("editedGzip") byte[] gz) {
        TlsRptFiles.gunzip(gz, 1 << 20).ifPresent(b -> assertThat(b).isEqualTo(EDITED_DATA));
    }

    private static final byte[] EDITED_DATA = TlsRptJson.toBytes(TlsRptJsonTest.rfcExampleReport());

    @Provide
    Arbitrary<byte[]> editedGzip() {
        return Mutations.ofBytes(TlsRptFiles.gzip(EDITED_DATA));
    }

    @Test
    void decompressionBombsStopAtTheLimitQuickly() {
        byte[] bomb = TlsRptFiles.gzip(new byte[50 * 1024 * 1024]);
        assertThat(bomb.length).isLessThan(100_000);
        ByteArrayOutputStream members = new ByteArrayOutputStream();
        byte[] member = TlsRptFiles.gzip(new byte[1024 * 1024]);
        for (int i = 0; i < 100; i++) {
            members.writeBytes(member); // RFC 1952 §2.2: a gzip file is a series of members
        }

        long start = System.nanoTime();
        assertThat(TlsRptFiles.gunzip(bomb, TlsRptJson.MAX_JSON_BYTES)).isEmpty();
        assertThat(TlsRptFiles.gunzip(members.toByteArray(), TlsRptJson.MAX_JSON_BYTES))
                .isEmpty();
        assertThat(TlsRptFiles.gunzip(members.toByteArray(), 100 * 1024 * 1024))
                .hasValueSatisfying(b -> assertThat(b).hasSize(100 * 1024 * 1024));
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
        assertThat(TlsRptFiles.gunzip(TlsRptFiles.gzip(new byte[0]), 0))
                .hasValueSatisfying(b -> assertThat(b).isEmpty());
    }
}
