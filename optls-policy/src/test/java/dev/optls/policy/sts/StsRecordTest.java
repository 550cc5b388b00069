package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** The {@code _mta-sts} TXT record (RFC 8461 §3.1): selection among TXT records and the record syntax. */
class StsRecordTest {

    @Test
    void parsesTheRfcExample() {
        // RFC 8461 §3.1 example: _mta-sts.example.com.  IN TXT "v=STSv1; id=20160831085700Z;"
        assertThat(StsRecord.parse("v=STSv1; id=20160831085700Z;"))
                .isEqualTo(new StsRecordOutcome.Valid(new StsRecord("20160831085700Z", List.of())));
    }

    @Test
    void keepsExtensionsAndToleratesWhitespaceAroundDelimiters() {
        StsRecordOutcome outcome = StsRecord.parse("v=STSv1 ;\tid=abc123 ; ext_1.x=a:b/c ;");

        assertThat(outcome)
                .isEqualTo(new StsRecordOutcome.Valid(
                        new StsRecord("abc123", List.of(new StsRecord.Extension("ext_1.x", "a:b/c")))));
        assertThat(StsRecord.parse("v=STSv1; id=abc")).isInstanceOf(StsRecordOutcome.Valid.class);
        assertThat(StsRecord.parse("v=STSv1; id=abc  ")).isInstanceOf(StsRecordOutcome.Valid.class);
    }

    @Test
    void invalidRecordsSayWhy() {
        assertReason("v=STSv1;", "no field");
        assertReason("v=STSv1", "expected ';'");
        assertReason("v=STSv1; ext=1;", "no id");
        assertReason("v=STSv1; id=;", "1 to 32");
        assertReason("v=STSv1; id=" + "a".repeat(33) + ";", "1 to 32");
        assertReason("v=STSv1; id=abc-def;", "1 to 32");
        assertReason("v=stsv1; id=abc;", "begin with v=STSv1");
        assertReason(" v=STSv1; id=abc;", "begin with v=STSv1");
        assertReason("v=STSv1; id=abc;;", "must begin with a letter or digit");
        assertReason("v=STSv1; id=abc; x=a=b;", "value of field 'x'");
        assertReason("v=STSv1; id=abc; x=;", "value of field 'x'");
        assertReason("v=STSv1; id=abc x=y;", "expected ';'");
        assertReason("v=STSv1; id=abc; _x=1;", "must begin with a letter or digit");
        assertReason("v=STSv1; id=abc; " + "n".repeat(33) + "=1;", "longer than 32");
        assertReason("v=STSv1; id=abc; x=\u00e9;", "value of field 'x'");
        assertReason("v=STSv1; id=abc; x=" + "y".repeat(StsRecord.MAX_LENGTH) + ";", "longer than");
    }

    @Test
    void aRepeatedIdKeepsTheFirst() {
        // RFC 8461 §3.2: "If any non-repeated field ... is duplicated, all entries except for the first SHOULD be
        // ignored."
        assertThat(StsRecord.parse("v=STSv1; id=first; id=second;"))
                .isEqualTo(new StsRecordOutcome.Valid(new StsRecord("first", List.of())));
    }

    @Test
    void selectionDiscardsOtherRecordsAndRefusesMoreThanOne() {
        assertThat(StsRecord.select(List.of())).isInstanceOf(StsRecordOutcome.Absent.class);
        assertThat(StsRecord.select(List.of("v=spf1 -all", "v=STSv10; id=1;", "v=STSv1")))
                .isInstanceOfSatisfying(
                        StsRecordOutcome.Absent.class,
                        a -> assertThat(a.reason()).contains("3 TXT record(s)"));
        assertThat(StsRecord.select(List.of("v=spf1 -all", "v=STSv1; id=abc;")))
                .isEqualTo(new StsRecordOutcome.Valid(new StsRecord("abc", List.of())));
        // RFC 8461 §3.1: "If the number of resulting records is not one ..." — no policy available.
        assertThat(StsRecord.select(List.of("v=STSv1; id=a;", "v=STSv1; id=b;")))
                .isEqualTo(new StsRecordOutcome.Multiple(List.of("v=STSv1; id=a;", "v=STSv1; id=b;")));
        // One STSv1 record that is invalid: invalid, not absent.
        assertThat(StsRecord.select(List.of("v=STSv1; id=a-b;"))).isInstanceOf(StsRecordOutcome.Invalid.class);
    }

    @Property
    void validRecordsRoundTrip(@ForAll("ids") String id, @ForAll("extensions") List<StsRecord.Extension> ext) {
        StsRecord record = new StsRecord(id, ext);

        assertThat(StsRecord.parse(record.toText())).isEqualTo(new StsRecordOutcome.Valid(record));
        assertThat(StsRecord.select(List.of("v=spf1 -all", record.toText())))
                .isEqualTo(new StsRecordOutcome.Valid(record));
    }

    @Property
    void anyTextIsAValueNeverAnException(@ForAll @StringLength(max = 300) String text) {
        StsRecordOutcome outcome = StsRecord.parse(text);

        assertThat(outcome).isInstanceOfAny(StsRecordOutcome.Valid.class, StsRecordOutcome.Invalid.class);
        if (outcome instanceof StsRecordOutcome.Valid valid) {
            assertThat(text).startsWith("v=STSv1");
            assertThat(StsRecord.isValidId(valid.record().id())).isTrue();
        }
    }

    @Property
    void mutatedRecordsNeverThrowAndKeepValidIds(@ForAll("ids") String id, @ForAll("noise") String noise) {
        String text = "v=STSv1; id=" + id + ";" + noise;

        StsRecordOutcome outcome = StsRecord.parse(text);

        if (outcome instanceof StsRecordOutcome.Valid valid) {
            assertThat(valid.record().id()).isEqualTo(id);
        } else {
            assertThat(outcome).isInstanceOf(StsRecordOutcome.Invalid.class);
        }
    }

    @Provide
    Arbitrary<String> ids() {
        return Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(32);
    }

    @Provide
    Arbitrary<List<StsRecord.Extension>> extensions() {
        Arbitrary<String> names = Arbitraries.strings()
                .withCharRange('a', 'z')
                .withChars('_', '-', '.', '0')
                .ofMinLength(0)
                .ofMaxLength(31)
                .map(s -> "x" + s)
                .filter(s -> !s.equals("id"));
        Arbitrary<String> values = Arbitraries.strings()
                .withCharRange('!', '~')
                .ofMinLength(1)
                .ofMaxLength(20)
                .map(s -> s.replace('=', 'e').replace(';', 's'));
        Arbitrary<StsRecord.Extension> extension =
                Combinators.combine(names, values).as(StsRecord.Extension::new);
        return extension.list().ofMaxSize(4).uniqueElements(StsRecord.Extension::name);
    }

    @Provide
    Arbitrary<String> noise() {
        return Arbitraries.strings()
                .withChars(' ', '\t', ';', '=', 'a', '1', '-', '\u00e9', '\0')
                .ofMaxLength(12);
    }

    private static void assertReason(String text, String fragment) {
        assertThat(StsRecord.parse(text))
                .as(text)
                .isInstanceOfSatisfying(
                        StsRecordOutcome.Invalid.class,
                        i -> assertThat(i.reason()).contains(fragment));
    }
}
