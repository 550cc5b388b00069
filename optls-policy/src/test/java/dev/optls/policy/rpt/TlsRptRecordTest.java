package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** The {@code _smtp._tls} TXT record (RFC 8460 §3): selection among TXT records and the record syntax. */
class TlsRptRecordTest {

    @Test
    void parsesTheRfcExamples() {
        // RFC 8460 §3.1 examples.
        assertThat(TlsRptRecord.parse("v=TLSRPTv1;rua=mailto:reports@example.com"))
                .isEqualTo(new TlsRptRecordOutcome.Valid(
                        new TlsRptRecord(List.of(URI.create("mailto:reports@example.com")), List.of())));
        assertThat(TlsRptRecord.parse("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"))
                .isEqualTo(new TlsRptRecordOutcome.Valid(
                        new TlsRptRecord(List.of(URI.create("https://reporting.example.com/v1/tlsrpt")), List.of())));
    }

    @Test
    void keepsEveryUriInOrderAndSplitsThemByKind() {
        TlsRptRecordOutcome outcome = TlsRptRecord.parse(
                "v=TLSRPTv1 ; rua=mailto:tlsrpt@example.com , https://tlsrpt.example.com/v1;rua=mailto:b@example.net;"
                        + " ext.1=x:y ;");

        assertThat(outcome).isInstanceOf(TlsRptRecordOutcome.Valid.class);
        TlsRptRecord record = ((TlsRptRecordOutcome.Valid) outcome).record();
        assertThat(record.rua())
                .containsExactly(
                        URI.create("mailto:tlsrpt@example.com"),
                        URI.create("https://tlsrpt.example.com/v1"),
                        URI.create("mailto:b@example.net"));
        assertThat(record.mailDestinations()).containsExactly("tlsrpt@example.com", "b@example.net");
        assertThat(record.httpsDestinations()).containsExactly(URI.create("https://tlsrpt.example.com/v1"));
        assertThat(record.extensions()).containsExactly(new TlsRptRecord.Extension("ext.1", "x:y"));
    }

    @Test
    void percentEncodedSeparatorsStayInsideTheUri() {
        TlsRptRecordOutcome outcome = TlsRptRecord.parse("v=TLSRPTv1; rua=https://r.example/a%2Cb%21c%3B");
        assertThat(outcome).isInstanceOf(TlsRptRecordOutcome.Valid.class);
        assertThat(((TlsRptRecordOutcome.Valid) outcome).record().rua())
                .containsExactly(URI.create("https://r.example/a%2Cb%21c%3B"));
    }

    @Test
    void otherSchemesAreSkippedButOneUsableUriIsNeeded() {
        TlsRptRecordOutcome outcome = TlsRptRecord.parse("v=TLSRPTv1; rua=http://r.example/,mailto:a@example.com");
        assertThat(((TlsRptRecordOutcome.Valid) outcome).record().rua())
                .containsExactly(URI.create("mailto:a@example.com"));
        assertReason("v=TLSRPTv1; rua=http://r.example/", "no mailto: or https: URI");
    }

    @Test
    void invalidRecordsSayWhy() {
        assertReason("v=TLSRPTv1;", "no field");
        assertReason("v=TLSRPTv1; ext=1;", "no rua");
        assertReason("v=TLSRPTv1; rua=;", "empty URI");
        assertReason("v=TLSRPTv1; rua=mailto:a@example.com,;", "empty URI");
        assertReason("v=TLSRPTv1; rua=mailto:nobody;", "one address");
        assertReason("v=TLSRPTv1; rua=https:/path-only;", "with a host");
        assertReason("v=TLSRPTv1; rua=mailto:a@example.com!10m;", "unexpected '!'");
        assertReason("v=TLSRPTv1; rua=https://a.example/ x;", "expected ';'");
        assertReason("v=TLSRPTv1; rua=https://a b.example/;", "expected ';'");
        assertReason("v=TLSRPTv1; x=a=b; rua=mailto:a@example.com", "value of field 'x'");
        assertReason("v=TLSRPTv1; _x=1; rua=mailto:a@example.com", "letter or digit");
        assertReason(
                "v=TLSRPTv1; rua=" + "mailto:a@example.com,".repeat(TlsRptRecord.MAX_URIS) + "mailto:z@example.com",
                "more than");
        assertReason("v=TLSRPTv1; rua=mailto:a@example.com; x=" + "y".repeat(TlsRptRecord.MAX_LENGTH), "longer than");
        assertReason("v=tlsrptv1; rua=mailto:a@example.com", "does not begin");
    }

    @Test
    void selectionDiscardsOtherRecordsAndRefusesSeveral() {
        String good = "v=TLSRPTv1; rua=mailto:a@example.com";
        assertThat(TlsRptRecord.select(List.of("v=spf1 -all", good))).isInstanceOf(TlsRptRecordOutcome.Valid.class);
        assertThat(TlsRptRecord.select(List.of())).isInstanceOf(TlsRptRecordOutcome.Absent.class);
        assertThat(TlsRptRecord.select(List.of("v=TLSRPTv10; rua=mailto:a@example.com")))
                .isInstanceOf(TlsRptRecordOutcome.Absent.class);
        // RFC 8460 §3: "If the number of resulting records is not one, senders MUST assume the recipient domain
        // does not implement TLSRPT."
        assertThat(TlsRptRecord.select(List.of(good, "v=TLSRPTv1; rua=mailto:b@example.com")))
                .isEqualTo(new TlsRptRecordOutcome.Multiple(List.of(good, "v=TLSRPTv1; rua=mailto:b@example.com")));
    }

    @Property(tries = 500)
    void anyTextGivesAValueNeverAnException(@ForAll @StringLength(max = 300) String tail) {
        assertThat(TlsRptRecord.parse("v=TLSRPTv1;" + tail)).isNotNull();
        assertThat(TlsRptRecord.parse(tail)).isNotNull();
        assertThat(TlsRptRecord.select(List.of(tail, "v=TLSRPTv1;" + tail))).isNotNull();
    }

    @Property(tries = 300)
    void aValidRecordParsesBackTheSame(@ForAll("records") TlsRptRecord record) {
        assertThat(TlsRptRecord.parse(record.toText())).isEqualTo(new TlsRptRecordOutcome.Valid(record));
    }

    @Provide
    Arbitrary<TlsRptRecord> records() {
        Arbitrary<String> label =
                Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(10);
        Arbitrary<URI> mailto =
                Combinators.combine(label, label).as((l, d) -> URI.create("mailto:" + l + "@" + d + ".example"));
        Arbitrary<URI> https =
                Combinators.combine(label, label).as((h, p) -> URI.create("https://" + h + ".example/" + p));
        Arbitrary<List<URI>> uris =
                Arbitraries.oneOf(mailto, https).list().ofMinSize(1).ofMaxSize(4);
        Arbitrary<TlsRptRecord.Extension> ext = Combinators.combine(
                        label.map(s -> "x" + s),
                        Arbitraries.strings()
                                .withChars("abc:/.-_09%")
                                .ofMinLength(1)
                                .ofMaxLength(8))
                .as(TlsRptRecord.Extension::new);
        return Combinators.combine(uris, ext.list().ofMaxSize(3)).as(TlsRptRecord::new);
    }

    private static void assertReason(String text, String expected) {
        TlsRptRecordOutcome outcome = TlsRptRecord.parse(text);
        assertThat(outcome).isInstanceOf(TlsRptRecordOutcome.Invalid.class);
        assertThat(((TlsRptRecordOutcome.Invalid) outcome).reason()).contains(expected);
    }
}
