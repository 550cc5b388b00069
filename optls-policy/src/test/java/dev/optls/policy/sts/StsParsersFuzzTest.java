package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.Mutations;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing the MTA-STS parsers (issue 5, "Bad input"): near-valid mutations of good policies and records, arbitrary
 * and huge inputs. Whatever comes in, the outcome is one of the documented values (never an exception), with its
 * invariants, a bounded reason, and a round trip where a writer exists.
 */
class StsParsersFuzzTest {

    /** The longest reason a parser gives: messages quote peer input, shortened. */
    static final int MAX_REASON = 400;

    static final String GOOD_POLICY =
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n";
    static final String GOOD_RECORD = "v=STSv1; id=20240101T000000; ext.x=a:b;";

    // ---- StsPolicy.parse

    @Property(tries = 1000)
    void nearValidPoliciesAreValuesWithTheirInvariants(@ForAll("mutatedPolicies") String text) {
        checkPolicy(StsPolicy.parse(text), text);
    }

    @Property(tries = 500)
    void nearValidPolicyBytesAreValues(@ForAll("mutatedPolicyBytes") byte[] body) {
        StsPolicyParse result = StsPolicy.parse(body);
        assertThat(result).isInstanceOfAny(StsPolicyParse.Parsed.class, StsPolicyParse.Invalid.class);
        if (result instanceof StsPolicyParse.Parsed parsed) {
            // Only UTF-8 is accepted: the text is exactly the body.
            assertThat(parsed.policy().text().getBytes(StandardCharsets.UTF_8)).isEqualTo(body);
            checkPolicy(result, parsed.policy().text());
        } else {
            checkPolicy(result, null);
        }
    }

    @Property(tries = 50)
    void bigPoliciesStayWithinTheLimitAndTime(
            @ForAll("policyLines") String line, @ForAll @IntRange(min = 1, max = 8000) int copies) {
        String text = GOOD_POLICY + (line + "\n").repeat(copies);
        long start = System.nanoTime();

        StsPolicyParse result = StsPolicy.parse(text);

        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(2_000);
        checkPolicy(result, text);
        if (text.length() > StsPolicy.MAX_SIZE) {
            assertThat(result).isInstanceOf(StsPolicyParse.Invalid.class);
        }
    }

    @Test
    void aPolicyOfExactlyTheLimitParsesAndOneByteMoreDoesNot() {
        StringBuilder b = new StringBuilder(GOOD_POLICY);
        while (b.length() < StsPolicy.MAX_SIZE - 100) {
            b.append("mx: m").append(b.length()).append(".example.org\n");
        }
        b.append("x: ").append("y".repeat(StsPolicy.MAX_SIZE - b.length() - 1)).append('\n');
        byte[] exact = b.toString().getBytes(StandardCharsets.US_ASCII);
        assertThat(exact).hasSize(StsPolicy.MAX_SIZE);

        assertThat(StsPolicy.parse(exact)).isInstanceOf(StsPolicyParse.Parsed.class);
        byte[] over = (b + "\n").getBytes(StandardCharsets.US_ASCII);
        assertThat(StsPolicy.parse(over))
                .isEqualTo(new StsPolicyParse.Invalid("the policy is larger than 65536 bytes (RFC 8461 §3.3)"));
        assertThat(StsPolicy.parse(new byte[20 * 1024 * 1024])).isInstanceOf(StsPolicyParse.Invalid.class);
    }

    @Test
    void reasonsQuoteAtMostAShortPieceOfAHugeValue() {
        // Regression: the reason quoted the whole value (up to 64 KiB) of version, mode, max_age and mx.
        String huge = "x".repeat(60_000);
        for (String text : List.of(
                "version: " + huge + "\n",
                "version: STSv1\nmode: " + huge + "\n",
                "version: STSv1\nmode: enforce\nmax_age: " + huge + "\n",
                "version: STSv1\nmode: enforce\nmx: " + huge + "\n",
                "version: STSv1\nmode: enforce\nmx: a." + huge.substring(0, 200) + ".example\n",
                "version: STSv1\nmode: enforce\nmx: " + "a.".repeat(20_000) + "\n")) {
            checkPolicy(StsPolicy.parse(text), text);
        }
    }

    static void checkPolicy(StsPolicyParse result, String text) {
        assertThat(result).isInstanceOfAny(StsPolicyParse.Parsed.class, StsPolicyParse.Invalid.class);
        if (result instanceof StsPolicyParse.Invalid invalid) {
            assertThat(invalid.reason()).isNotBlank().hasSizeLessThanOrEqualTo(MAX_REASON);
            return;
        }
        StsPolicy p = ((StsPolicyParse.Parsed) result).policy();
        if (text != null) {
            assertThat(p.text()).isEqualTo(text);
        }
        assertThat(p.maxAgeSeconds()).isBetween(0L, StsPolicy.MAX_MAX_AGE);
        assertThat(p.mode() == StsMode.NONE || !p.mx().isEmpty()).isTrue();
        assertThat(p.lines()).isNotEmpty().noneMatch(l -> l.contains("\n"));
        assertThat(p.lines().get(0)).doesNotStartWith(" ");
        for (MxPattern m : p.mx()) {
            assertThat(MxPattern.parse(m.toText())).contains(m);
            assertThat(p.matches(m.wildcard() ? "x." + m.domain() : m.domain())).isTrue();
        }
        // The text, stored by a cache and parsed again, gives the same policy (RFC 8461 §5.1 persistent caches).
        assertThat(StsPolicy.parse(p.text())).isEqualTo(result);
        assertThat(StsPolicy.parse(p.text().getBytes(StandardCharsets.UTF_8))).isEqualTo(result);
    }

    @Provide
    Arbitrary<String> mutatedPolicies() {
        return Arbitraries.oneOf(
                Mutations.of(GOOD_POLICY, Mutations.syntaxCharacters()),
                Mutations.of(GOOD_POLICY.replace("\r\n", "\n"), Mutations.syntaxCharacters()),
                Mutations.of("version: STSv1\nmode: none\nmax_age: 86400\n\n\n", Mutations.syntaxCharacters()),
                Mutations.of(
                        "version: STSv1\nmode: testing\nmx: *.a.b\nmax_age: 99999999999\nx-y.z: \u00e9t\u00e9\n",
                        Mutations.syntaxCharacters()));
    }

    @Provide
    Arbitrary<byte[]> mutatedPolicyBytes() {
        return Mutations.ofBytes(("version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\nnote: "
                        + "\u00e9t\u00e9 \u4e2d\n")
                .getBytes(StandardCharsets.UTF_8));
    }

    @Provide
    Arbitrary<String> policyLines() {
        return Arbitraries.oneOf(
                Arbitraries.of("mx: *.example.org", "mx: a.example.org", "ext: v", "version: STSv2", "mode: none"),
                Mutations.of("mx: mail.example.org", Mutations.syntaxCharacters()));
    }

    // ---- StsRecord.parse / select

    @Property(tries = 1000)
    void nearValidRecordsAreValuesAndValidOnesRoundTrip(@ForAll("mutatedRecords") String text) {
        StsRecordOutcome outcome = StsRecord.parse(text);

        assertThat(outcome).isInstanceOfAny(StsRecordOutcome.Valid.class, StsRecordOutcome.Invalid.class);
        if (outcome instanceof StsRecordOutcome.Valid valid) {
            StsRecord r = valid.record();
            assertThat(StsRecord.isValidId(r.id())).isTrue();
            assertThat(StsRecord.parse(r.toText())).isEqualTo(outcome);
            assertThat(StsRecord.select(List.of(r.toText(), "v=spf1 -all"))).isEqualTo(outcome);
        } else {
            StsRecordOutcome.Invalid invalid = (StsRecordOutcome.Invalid) outcome;
            assertThat(invalid.reason()).isNotBlank().hasSizeLessThanOrEqualTo(MAX_REASON);
            assertThat(invalid.text().length()).isLessThanOrEqualTo(203);
        }
        assertThat(StsRecord.select(List.of(text, text, GOOD_RECORD))).isNotNull();
    }

    @Property(tries = 100)
    void hugeRecordsAreInvalidWithShortReasons(
            @ForAll("mutatedRecords") String text, @ForAll @IntRange(min = 1, max = 5000) int copies) {
        String big = text + " x=y;".repeat(copies);
        StsRecordOutcome outcome = StsRecord.parse(big);
        if (big.length() > StsRecord.MAX_LENGTH) {
            assertThat(outcome).isInstanceOf(StsRecordOutcome.Invalid.class);
        }
        if (outcome instanceof StsRecordOutcome.Invalid invalid) {
            assertThat(invalid.reason()).hasSizeLessThanOrEqualTo(MAX_REASON);
        }
    }

    @Provide
    Arbitrary<String> mutatedRecords() {
        return Arbitraries.oneOf(
                Mutations.of(GOOD_RECORD, Mutations.syntaxCharacters()),
                Mutations.of("v=STSv1;id=a1; " + "n" + "a".repeat(30) + "=v", Mutations.syntaxCharacters()));
    }

    // ---- MxPattern

    @Property(tries = 1000)
    void anyPatternTextIsParsedOrRefusedAndParsedOnesRoundTrip(@ForAll("patternText") String text) {
        Optional<MxPattern> p = MxPattern.parse(text);
        if (p.isPresent()) {
            MxPattern m = p.get();
            assertThat(MxPattern.parse(m.toText())).contains(m);
            assertThat(m.domain())
                    .isEqualTo(m.domain().toLowerCase(Locale.ROOT))
                    .doesNotEndWith(".");
            assertThat(text.toLowerCase(Locale.ROOT)).startsWith(m.toText());
            assertThat(MxPattern.problemWithPattern(text)).isEmpty();
        } else {
            assertThat(MxPattern.problemWithPattern(text))
                    .hasValueSatisfying(r -> assertThat(r).hasSizeLessThanOrEqualTo(MAX_REASON));
        }
    }

    @Property(tries = 1000)
    void matchingNeverThrowsAndIgnoresAsciiCaseAndOneTrailingDot(
            @ForAll("patternText") String pattern, @ForAll("patternText") String host) {
        Optional<MxPattern> p = MxPattern.parse(pattern);
        MxPattern m = p.orElse(new MxPattern("example.com", pattern.startsWith("*")));

        boolean matches = m.matches(host);

        if (host.chars().allMatch(c -> c < 0x80)) {
            assertThat(m.matches(host.toUpperCase(Locale.ROOT))).isEqualTo(matches);
            if (!host.endsWith(".")) {
                assertThat(m.matches(host + ".")).isEqualTo(matches);
            }
        }
        if (matches) {
            String h = (host.endsWith(".") ? host.substring(0, host.length() - 1) : host).toLowerCase(Locale.ROOT);
            assertThat(h).endsWith(m.domain());
            assertThat(h.length() == m.domain().length()).isEqualTo(!m.wildcard());
        }
    }

    @Property(tries = 200)
    void anyStringsNeverBreakPatternsOrHosts(
            @ForAll @StringLength(max = 300) String s, @ForAll @Size(max = 3) List<String> more) {
        assertThat(MxPattern.parse(s)).isNotNull();
        assertThat(new MxPattern("mail.example.com", true).matches(s)).isNotNull();
        more.forEach(x -> assertThat(MxPattern.parse(s + "." + x)).isNotNull());
    }

    @Provide
    Arbitrary<String> patternText() {
        return Arbitraries.oneOf(
                Mutations.of("*.mail.example.com", Mutations.syntaxCharacters()),
                Mutations.of("mx1.example.com.", Mutations.syntaxCharacters()),
                Mutations.of("a-b.x" + "y".repeat(60) + ".example", Mutations.syntaxCharacters()),
                Arbitraries.strings().withChars("abc.-*AB0").ofMaxLength(12));
    }
}
