package dev.optls.policy.dane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.Mutations;
import java.util.HexFormat;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing TLSA presentation parsing (issue 5, "Bad input"): near-valid mutations of good records and records at and
 * past the size limits. The outcome is a record or {@link TlsaParse.Malformed} with a short reason, never an
 * exception, and a record writes back (text and wire) to the same record.
 */
class TlsaFuzzTest {

    static final int MAX_REASON = 400;
    private static final String SHA256 = "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6";

    @Property(tries = 1000)
    void nearValidTextIsARecordOrMalformed(@ForAll("mutatedRecords") String text) {
        Statistics.label("outcome").collect(check(text));
    }

    @Test
    void theLargestRecordParsesAndOneByteMoreIsMalformed() {
        String largest = "3 0 0 " + "ab".repeat(TlsaRecord.MAX_DATA_LENGTH);
        long start = System.nanoTime();
        assertThat(check(largest)).isEqualTo("usable record");
        // Regression: the hex was not limited to MAX_DATA_LENGTH bytes, so a record parsed that no DNS message can
        // carry and whose wire form did not parse back.
        String tooLong = "3 0 0 " + "ab".repeat(TlsaRecord.MAX_DATA_LENGTH + 1);
        assertThat(tooLong.length()).isLessThanOrEqualTo(TlsaRecord.MAX_TEXT_LENGTH);
        assertThat(TlsaRecord.parse(tooLong))
                .isInstanceOfSatisfying(
                        TlsaParse.Malformed.class,
                        m -> assertThat(m.reason())
                                .startsWith(
                                        "TLSA data longer than " + TlsaRecord.MAX_DATA_LENGTH + " bytes: '3 0 0 abab"));
        assertThat(check("3 0 0 " + "a b ".repeat(40_000))).isEqualTo("malformed");
        assertThat(check("3 1 1 " + " ".repeat(TlsaRecord.MAX_TEXT_LENGTH))).isEqualTo("malformed");
        assertThat(check("x".repeat(TlsaRecord.MAX_TEXT_LENGTH + 1))).isEqualTo("malformed");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
    }

    /** Checks the outcome of parsing {@code text}; returns its kind, for the statistics. */
    static String check(String text) {
        TlsaParse parsed = TlsaRecord.parse(text);
        assertThat(parsed).isInstanceOfAny(TlsaParse.Parsed.class, TlsaParse.Malformed.class);
        if (parsed instanceof TlsaParse.Malformed m) {
            assertThat(m.reason()).isNotBlank().hasSizeLessThanOrEqualTo(MAX_REASON);
            return "malformed";
        }
        TlsaRecord r = ((TlsaParse.Parsed) parsed).record();
        assertThat(r.dataLength()).isBetween(0, TlsaRecord.MAX_DATA_LENGTH);
        assertThat(TlsaRecord.fromWire(r.toWire())).isEqualTo(parsed);
        if (r.dataLength() > 0) {
            assertThat(TlsaRecord.parse(r.toText())).isEqualTo(parsed);
        }
        assertThat(r.isUsable()).isEqualTo(r.unusableReason().isEmpty());
        return r.isUsable() ? "usable record" : "record";
    }

    @Provide
    Arbitrary<String> mutatedRecords() {
        return Arbitraries.oneOf(
                Mutations.of("3 1 1 " + SHA256, Mutations.syntaxCharacters()),
                Mutations.of(
                        "DANE-EE SPKI SHA2-256 " + SHA256.substring(0, 30) + " \t" + SHA256.substring(30),
                        Mutations.syntaxCharacters()),
                Mutations.of("2 0 2 " + "ab".repeat(64), Arbitraries.of('0', 'a', 'F', 'g', ' ', '\n', '2', '5')),
                Mutations.of(
                        "255 255 255 " + HexFormat.of().formatHex(new byte[] {1, 2, 3}), Mutations.syntaxCharacters()));
    }
}
