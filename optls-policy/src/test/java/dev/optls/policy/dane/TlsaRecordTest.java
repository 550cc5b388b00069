package dev.optls.policy.dane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HexFormat;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** TLSA RDATA parsing (wire and presentation) and the SMTP usable-set rules, by example and by property. */
class TlsaRecordTest {

    private static final String SHA256_HEX = "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6";

    @Test
    void parsesPresentationFormat() {
        TlsaParse parsed = TlsaRecord.parse("3 1 1 " + SHA256_HEX);

        assertThat(parsed).isInstanceOfSatisfying(TlsaParse.Parsed.class, p -> {
            TlsaRecord r = p.record();
            assertThat(r.usage()).contains(TlsaUsage.DANE_EE);
            assertThat(r.selector()).contains(TlsaSelector.SPKI);
            assertThat(r.matchingType()).contains(TlsaMatchingType.SHA2_256);
            assertThat(r.data()).isEqualTo(HexFormat.of().parseHex(SHA256_HEX));
            assertThat(r.isUsable()).isTrue();
            assertThat(r.toText()).isEqualTo("3 1 1 " + SHA256_HEX);
        });
    }

    @Test
    void acceptsRfc7218MnemonicsAndWhitespaceInsideTheHex() {
        TlsaRecord numeric = record("2 0 1 " + SHA256_HEX);

        assertThat(record("DANE-TA Cert SHA2-256 " + SHA256_HEX)).isEqualTo(numeric);
        assertThat(record("  2\t0 1 " + SHA256_HEX.substring(0, 20) + " \n"
                        + SHA256_HEX.substring(20).toLowerCase()))
                .isEqualTo(numeric);
    }

    @Test
    void malformedTextIsAValueNotAnException() {
        assertThat(TlsaRecord.parse("3 1 1")).isInstanceOf(TlsaParse.Malformed.class);
        assertThat(TlsaRecord.parse("")).isInstanceOf(TlsaParse.Malformed.class);
        assertThat(TlsaRecord.parse("3 1 1 ABC")).isInstanceOf(TlsaParse.Malformed.class);
        assertThat(TlsaRecord.parse("3 1 1 XY")).isInstanceOf(TlsaParse.Malformed.class);
        assertThat(TlsaRecord.parse("256 1 1 00")).isInstanceOf(TlsaParse.Malformed.class);
        assertThat(TlsaRecord.parse("-1 1 1 00")).isInstanceOf(TlsaParse.Malformed.class);
        assertThat(TlsaRecord.parse("DANE-XX 1 1 00")).isInstanceOf(TlsaParse.Malformed.class);
        assertThat(TlsaRecord.parse("3 1 1 " + "00".repeat(TlsaRecord.MAX_TEXT_LENGTH)))
                .isInstanceOfSatisfying(
                        TlsaParse.Malformed.class, m -> assertThat(m.reason()).contains("longer than"));
    }

    @Test
    void wireFormatNeedsTheThreeFixedOctets() {
        assertThat(TlsaRecord.fromWire(new byte[] {3, 1})).isInstanceOf(TlsaParse.Malformed.class);
        assertThat(TlsaRecord.fromWire(new byte[] {3, 1, 1}))
                .isInstanceOfSatisfying(
                        TlsaParse.Parsed.class,
                        p -> assertThat(p.record().unusableReason())
                                .hasValueSatisfying(reason -> assertThat(reason).contains("32 bytes")));
    }

    @Test
    void pkixUsagesAreUnusableForSmtp() {
        // RFC 7672 §3.1.3.
        assertThat(record("0 0 1 " + SHA256_HEX).unusableReason())
                .hasValueSatisfying(r -> assertThat(r).contains("PKIX-TA(0)"));
        assertThat(record("1 1 1 " + SHA256_HEX).unusableReason())
                .hasValueSatisfying(r -> assertThat(r).contains("PKIX-EE(1)"));
    }

    @Test
    void unassignedValuesAndWrongDigestLengthsAreUnusable() {
        assertThat(record("4 1 1 " + SHA256_HEX).isUsable()).isFalse();
        assertThat(record("3 2 1 " + SHA256_HEX).isUsable()).isFalse();
        assertThat(record("3 1 3 " + SHA256_HEX).isUsable()).isFalse();
        assertThat(record("3 1 2 " + SHA256_HEX).isUsable()).isFalse(); // SHA2-512 needs 64 bytes
        assertThat(record("3 1 1 " + SHA256_HEX + "00").isUsable()).isFalse();
        assertThat(record("3 1 2 " + SHA256_HEX + SHA256_HEX).isUsable()).isTrue();
        assertThat(record("2 0 0 3082").isUsable()).isTrue();
    }

    @Test
    void fieldsOutsideAnOctetAreCallerBugs() {
        assertThatThrownBy(() -> TlsaRecord.of(256, 1, 1, new byte[32]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("usage");
    }

    @Property
    void anyWireBytesParseOrAreMalformedAndRoundTrip(@ForAll @Size(max = 300) byte[] rdata) {
        TlsaParse parsed = TlsaRecord.fromWire(rdata);

        if (rdata.length < 3) {
            assertThat(parsed).isInstanceOf(TlsaParse.Malformed.class);
        } else {
            TlsaRecord r = ((TlsaParse.Parsed) parsed).record();
            assertThat(r.toWire()).isEqualTo(rdata);
            assertThat(r.usageCode()).isEqualTo(rdata[0] & 0xFF);
            assertThat(r.dataLength()).isEqualTo(rdata.length - 3);
        }
    }

    @Property
    void presentationFormatRoundTrips(
            @ForAll @IntRange(max = 255) int usage,
            @ForAll @IntRange(max = 255) int selector,
            @ForAll @IntRange(max = 255) int type,
            @ForAll @Size(min = 1, max = 200) byte[] data) {
        TlsaRecord r = TlsaRecord.of(usage, selector, type, data);

        assertThat(TlsaRecord.parse(r.toText())).isEqualTo(new TlsaParse.Parsed(r));
        assertThat(TlsaRecord.fromWire(r.toWire())).isEqualTo(new TlsaParse.Parsed(r));
    }

    @Property
    void arbitraryTextNeverThrows(@ForAll("tlsaLikeText") String text) {
        TlsaParse parsed = TlsaRecord.parse(text);

        assertThat(parsed).isNotNull();
        if (parsed instanceof TlsaParse.Parsed p) {
            // Whatever parsed must print back to something that parses to the same record.
            assertThat(TlsaRecord.parse(p.record().toText())).isEqualTo(parsed);
        }
    }

    @Property
    void usableExactlyWhenRfc7672AndRfc6698SaySo(
            @ForAll @IntRange(max = 5) int usage,
            @ForAll @IntRange(max = 3) int selector,
            @ForAll @IntRange(max = 4) int type,
            @ForAll("dataLengths") int length) {
        TlsaRecord r = TlsaRecord.of(usage, selector, type, new byte[length]);

        boolean lengthOk = (type == 0 && length > 0) || (type == 1 && length == 32) || (type == 2 && length == 64);
        boolean expected = (usage == 2 || usage == 3) && (selector == 0 || selector == 1) && lengthOk;
        assertThat(r.isUsable()).isEqualTo(expected);
        assertThat(r.unusableReason().isPresent()).isEqualTo(!expected);
    }

    @Provide
    Arbitrary<Integer> dataLengths() {
        return Arbitraries.of(0, 1, 31, 32, 33, 63, 64, 65, 300);
    }

    @Provide
    Arbitrary<String> tlsaLikeText() {
        Arbitrary<String> token = Arbitraries.oneOf(
                Arbitraries.integers().between(-5, 300).map(String::valueOf),
                Arbitraries.of("DANE-EE", "DANE-TA", "PKIX-EE", "SPKI", "CERT", "SHA2-256", "SHA2-512", "FULL", ""),
                Arbitraries.strings()
                        .withChars("0123456789abcdefABCDEFxyz \t\n")
                        .ofMaxLength(80),
                Arbitraries.strings().ofMaxLength(20));
        return token.list().ofMaxSize(6).map(parts -> String.join(" ", parts));
    }

    private static TlsaRecord record(String text) {
        TlsaParse parsed = TlsaRecord.parse(text);
        assertThat(parsed).as(text).isInstanceOf(TlsaParse.Parsed.class);
        return ((TlsaParse.Parsed) parsed).record();
    }

    @Test
    void equalityIsByValue() {
        byte[] data = new byte[32];
        TlsaRecord a = TlsaRecord.of(TlsaUsage.DANE_EE, TlsaSelector.SPKI, TlsaMatchingType.SHA2_256, data);
        data[0] = 1;
        TlsaRecord b = TlsaRecord.of(3, 1, 1, new byte[32]);

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(Arrays.equals(a.data(), new byte[32])).isTrue();
    }
}
