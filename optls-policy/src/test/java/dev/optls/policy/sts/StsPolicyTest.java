package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The policy file (RFC 8461 §3.2) and MX matching (§4.1), by example and by property. */
class StsPolicyTest {

    /** RFC 8461 §3.2 example policy. */
    private static final String RFC_EXAMPLE =
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\n"
                    + "max_age: 604800\r\n";

    @Test
    void parsesTheRfcExample() {
        StsPolicy policy = parsed(RFC_EXAMPLE);

        assertThat(policy.mode()).isEqualTo(StsMode.ENFORCE);
        assertThat(policy.maxAgeSeconds()).isEqualTo(604800);
        assertThat(policy.mx())
                .containsExactly(
                        new MxPattern("mail.example.com", false),
                        new MxPattern("example.net", true),
                        new MxPattern("backupmx.example.com", false));
        assertThat(policy.lines())
                .containsExactly(
                        "version: STSv1",
                        "mode: enforce",
                        "mx: mail.example.com",
                        "mx: *.example.net",
                        "mx: backupmx.example.com",
                        "max_age: 604800");
        // RFC 8461 §4.1 examples.
        assertThat(policy.matches("mail.example.com")).isTrue();
        assertThat(policy.matches("MAIL.Example.COM.")).isTrue();
        assertThat(policy.matches("mx1.example.net")).isTrue();
        assertThat(policy.matches("example.net")).isFalse();
        assertThat(policy.matches("a.b.example.net")).isFalse();
        assertThat(policy.matches("mail.example.org")).isFalse();
    }

    @Test
    void acceptsLfAndCrlfAndIgnoresUnknownFields() {
        StsPolicy policy = parsed(
                "version: STSv1\nmode: testing\r\nmx:\tmx.example.com  \nfuture_field: a b \u00e9\n" + "max_age:86400");

        assertThat(policy.mode()).isEqualTo(StsMode.TESTING);
        assertThat(policy.mx()).containsExactly(new MxPattern("mx.example.com", false));
        assertThat(policy.maxAgeSeconds()).isEqualTo(86400);
        assertThat(parsed("version: STSv1\nmode: none\nmax_age: 0\n\n\n").mode())
                .isEqualTo(StsMode.NONE);
    }

    @Test
    void repeatedFieldsKeepTheFirstAndAllMxLinesCount() {
        StsPolicy policy =
                parsed("version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmx: b.example\nmax_age: 5\n"
                        + "max_age: 9\nversion: whatever\n");

        assertThat(policy.mode()).isEqualTo(StsMode.TESTING);
        assertThat(policy.maxAgeSeconds()).isEqualTo(5);
        assertThat(policy.mx()).extracting(MxPattern::toText).containsExactly("a.example", "b.example");
    }

    @Test
    void maxAgeIsCappedAtOneYear() {
        assertThat(parsed("version: STSv1\nmode: none\nmax_age: 9999999999\n").maxAgeSeconds())
                .isEqualTo(StsPolicy.MAX_MAX_AGE);
        assertThat(parsed("version: STSv1\nmode: none\nmax_age: 31557600\n").maxAgeSeconds())
                .isEqualTo(31557600);
    }

    @Test
    void invalidPoliciesSayWhy() {
        String ok = "version: STSv1\nmode: enforce\nmx: mx.example\nmax_age: 86400\n";
        assertThat(parse(ok)).isInstanceOf(StsPolicyParse.Parsed.class);

        assertInvalid("", "empty");
        assertInvalid(ok.replace("version: STSv1\n", ""), "no version");
        assertInvalid(ok.replace("mode: enforce\n", ""), "no mode");
        assertInvalid(ok.replace("max_age: 86400\n", ""), "no max_age");
        assertInvalid(ok.replace("mx: mx.example\n", ""), "no mx field");
        assertInvalid(ok.replace("STSv1", "STSv2"), "version must be STSv1");
        assertInvalid(ok.replace("enforce", "Enforce"), "mode must be");
        assertInvalid(ok.replace("86400", "12345678901"), "1 to 10 digits");
        assertInvalid(ok.replace("86400", "-1"), "1 to 10 digits");
        assertInvalid(ok.replace("86400", "1d"), "1 to 10 digits");
        assertInvalid(ok.replace("mx.example", "mx.*.example"), "mx pattern");
        assertInvalid(ok.replace("mx.example", "*.*.example"), "mx pattern");
        assertInvalid(ok.replace("mx.example", "*"), "mx pattern");
        assertInvalid(ok.replace("mx.example", "m\u00fcller.example"), "A-labels only");
        assertInvalid(ok.replace("mx.example", "-mx.example"), "mx pattern");
        assertInvalid(ok.replace("mx.example", "mx..example"), "empty label");
        assertInvalid(ok.replace("mode: enforce", "mode : enforce"), "line 2");
        assertInvalid(ok.replace("mode: enforce", " mode: enforce"), "line 2");
        assertInvalid(ok.replace("mode: enforce", "mode enforce"), "line 2: expected 'name: value'");
        assertInvalid(ok.replace("\nmode", "\n\nmode"), "line 2: empty line");
        assertInvalid(ok.replace("enforce", "enforce\rx"), "control character");
        assertInvalid(ok + "ext: \u0001\n", "control character");
        assertInvalid(ok + "ext:\n", "extension field 'ext'");
        assertInvalid(ok + "mode: \n", "repeated field 'mode'");
        assertInvalid(ok + "x".repeat(40) + ": 1\n", "not a field name");
    }

    @Test
    void sizeAndEncodingAreChecked() {
        String ok = "version: STSv1\nmode: none\nmax_age: 1\n";
        byte[] big = (ok + "pad: " + "x".repeat(StsPolicy.MAX_SIZE) + "\n").getBytes(StandardCharsets.US_ASCII);

        assertThat(StsPolicy.parse(big))
                .isInstanceOfSatisfying(
                        StsPolicyParse.Invalid.class,
                        i -> assertThat(i.reason()).contains("larger than 65536"));
        assertThat(StsPolicy.parse(new byte[] {'v', (byte) 0xC3, (byte) 0x28}))
                .isEqualTo(new StsPolicyParse.Invalid("the policy is not valid UTF-8"));
        assertThat(StsPolicy.parse(ok.getBytes(StandardCharsets.US_ASCII))).isInstanceOf(StsPolicyParse.Parsed.class);
    }

    @Test
    void wildcardMatchesExactlyOneLeftMostLabel() {
        MxPattern wildcard = MxPattern.parse("*.Example.COM.").orElseThrow();

        assertThat(wildcard).isEqualTo(new MxPattern("example.com", true));
        assertThat(wildcard.matches("mail.example.com")).isTrue();
        assertThat(wildcard.matches("MAIL.EXAMPLE.COM.")).isTrue();
        assertThat(wildcard.matches("example.com")).isFalse();
        assertThat(wildcard.matches(".example.com")).isFalse();
        assertThat(wildcard.matches("a.b.example.com")).isFalse();
        assertThat(wildcard.matches("*.example.com")).isFalse();
        assertThat(wildcard.matches("mailexample.com")).isFalse();
        assertThat(MxPattern.parse("mail.example.com").orElseThrow().matches("x.mail.example.com"))
                .isFalse();
    }

    @Property
    void generatedPoliciesParseBackToTheSameValues(
            @ForAll("modes") StsMode mode,
            @ForAll("patternLists") List<MxPattern> mx,
            @ForAll @LongRange(min = 0, max = 99_999_999_99L) long maxAge,
            @ForAll boolean crlf) {
        List<String> lines = new ArrayList<>();
        lines.add("version: STSv1");
        lines.add("mode: " + mode.wireName());
        mx.forEach(p -> lines.add("mx: " + p.toText()));
        lines.add("max_age: " + maxAge);
        String eol = crlf ? "\r\n" : "\n";
        String text = String.join(eol, lines) + eol;

        StsPolicy policy = parsed(text);

        assertThat(policy.mode()).isEqualTo(mode);
        assertThat(policy.mx()).isEqualTo(mx);
        assertThat(policy.maxAgeSeconds()).isEqualTo(Math.min(maxAge, StsPolicy.MAX_MAX_AGE));
        assertThat(policy.lines()).isEqualTo(lines);
    }

    @Property
    void arbitraryBytesAreAValueNeverAnException(@ForAll @Size(max = 400) byte[] body) {
        StsPolicyParse result = StsPolicy.parse(body);

        assertThat(result).isInstanceOfAny(StsPolicyParse.Parsed.class, StsPolicyParse.Invalid.class);
        if (result instanceof StsPolicyParse.Parsed parsed) {
            assertThat(StsPolicy.parse(parsed.policy().text())).isEqualTo(result);
        }
    }

    @Property
    void fieldSoupIsAValueNeverAnException(@ForAll("soup") String text) {
        StsPolicyParse result = StsPolicy.parse(text);

        assertThat(result).isInstanceOfAny(StsPolicyParse.Parsed.class, StsPolicyParse.Invalid.class);
        if (result instanceof StsPolicyParse.Parsed parsed) {
            StsPolicy p = parsed.policy();
            assertThat(p.text()).isEqualTo(text);
            assertThat(p.maxAgeSeconds()).isBetween(0L, StsPolicy.MAX_MAX_AGE);
            assertThat(p.mode() == StsMode.NONE || !p.mx().isEmpty()).isTrue();
        }
    }

    @Property
    void aWildcardMatchesEveryOneLabelChildAndNothingElse(
            @ForAll("labels") String label, @ForAll("domains") String domain, @ForAll("labels") String extra) {
        MxPattern wildcard = new MxPattern(domain, true);

        assertThat(wildcard.matches(label + "." + domain)).isTrue();
        assertThat(wildcard.matches(label.toUpperCase() + "." + domain + ".")).isTrue();
        assertThat(wildcard.matches(domain)).isFalse();
        assertThat(wildcard.matches(extra + "." + label + "." + domain)).isFalse();
        assertThat(new MxPattern(domain, false).matches(label + "." + domain)).isFalse();
        assertThat(new MxPattern(domain, false).matches(domain.toUpperCase() + "."))
                .isTrue();
    }

    @Provide
    Arbitrary<StsMode> modes() {
        return Arbitraries.of(StsMode.class);
    }

    @Provide
    Arbitrary<String> labels() {
        return Arbitraries.strings()
                .withCharRange('a', 'z')
                .numeric()
                .ofMinLength(1)
                .ofMaxLength(10);
    }

    @Provide
    Arbitrary<String> domains() {
        return labels().list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
    }

    @Provide
    Arbitrary<List<MxPattern>> patternLists() {
        Arbitrary<MxPattern> pattern =
                Combinators.combine(domains(), Arbitraries.of(true, false)).as(MxPattern::new);
        return pattern.list().ofMinSize(1).ofMaxSize(5);
    }

    @Provide
    Arbitrary<String> soup() {
        Arbitrary<String> line = Arbitraries.oneOf(
                Arbitraries.of(
                        "version: STSv1",
                        "version: STSv2",
                        "mode: enforce",
                        "mode: testing",
                        "mode: none",
                        "mode: x",
                        "mx: *.example.com",
                        "mx: mail.example.com",
                        "mx: *.",
                        "max_age: 86400",
                        "max_age: 99999999999",
                        "",
                        ":",
                        "x: y",
                        " mode: enforce"),
                Arbitraries.strings().ofMaxLength(20));
        Arbitrary<String> eol = Arbitraries.of("\n", "\r\n", "\r");
        return Combinators.combine(line.list().ofMaxSize(8), eol).as((l, e) -> String.join(e, l));
    }

    private static StsPolicyParse parse(String text) {
        return StsPolicy.parse(text);
    }

    private static StsPolicy parsed(String text) {
        StsPolicyParse result = StsPolicy.parse(text);
        assertThat(result).as(text).isInstanceOf(StsPolicyParse.Parsed.class);
        return ((StsPolicyParse.Parsed) result).policy();
    }

    private static void assertInvalid(String text, String fragment) {
        assertThat(StsPolicy.parse(text))
                .as(text)
                .isInstanceOfSatisfying(
                        StsPolicyParse.Invalid.class,
                        i -> assertThat(i.reason()).contains(fragment));
    }
}
