package dev.optls.core.ldap;

import static dev.optls.core.ldap.Pdus.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The BER subset: definite lengths in every form, bounds, and exact encodings. */
class BerTest {

    private static Ber.Bytes bytes(byte[] b) {
        return new Ber.Bytes() {
            @Override
            public int size() {
                return b.length;
            }

            @Override
            public byte get(int i) {
                return b[i];
            }
        };
    }

    @ParameterizedTest
    @CsvSource({
        "30 00, 2",
        "30 03 02 01 01, 5",
        "30 81 03 02 01 01, 6",
        "30 82 00 03 02 01 01, 7",
        "30 84 00 00 00 03 02 01 01, 9",
    })
    void readsShortAndLongFormLengths(String hex, int total) {
        assertThat(Ber.elementLength(bytes(hex(hex)), 1000)).isEqualTo(total);
    }

    @ParameterizedTest
    @CsvSource({"30", "30 81", "30 84 00 00", "30 03 02 01"})
    void waitsForIncompleteElements(String hex) {
        assertThat(Ber.elementLength(bytes(hex(hex)), 1000)).isEqualTo(-1);
    }

    @Test
    void rejectsIndefiniteLengthsTooManyLengthOctetsAndLongTags() {
        assertThatThrownBy(() -> Ber.elementLength(bytes(hex("30 80 00 00")), 1000))
                .hasMessageContaining("indefinite");
        assertThatThrownBy(() -> Ber.elementLength(bytes(hex("30 85 00 00 00 00 01 00")), 1000))
                .hasMessageContaining("5 length octets");
        assertThatThrownBy(() -> Ber.elementLength(bytes(hex("1f 81 00")), 1000))
                .hasMessageContaining("multi-octet tag");
    }

    @Test
    void refusesAnElementOverTheBoundFromItsHeaderAlone() {
        // 0xffffffff would overflow an int; the bound is checked in long arithmetic.
        Ber.BerException e = org.junit.jupiter.api.Assertions.assertThrows(
                Ber.BerException.class, () -> Ber.elementLength(bytes(hex("30 84 ff ff ff ff")), 65536));
        assertThat(e.overLimit()).isTrue();
    }

    @Test
    void limitsNestingDepth() {
        // Ten nested empty SEQUENCEs: descending into all of them passes MAX_DEPTH.
        byte[] nested = new byte[] {0x30, 0x00};
        for (int i = 0; i < 9; i++) {
            nested = Ber.Writer.element(Ber.SEQUENCE, nested);
        }
        Ber.Element e = new Ber.Reader(nested).next();
        for (int depth = 0; depth < Ber.MAX_DEPTH; depth++) {
            e = e.children().next();
        }
        Ber.Element deepest = e;
        assertThatThrownBy(deepest::children).hasMessageContaining("deeper than " + Ber.MAX_DEPTH);
    }

    @Test
    void elementsMayNotRunPastTheirContainer() {
        Ber.Reader r = new Ber.Reader(hex("30 03 02 05 01")).next().children();
        assertThatThrownBy(r::next).hasMessageContaining("past the end");
    }

    @ParameterizedTest
    @CsvSource({
        "0, 02 01 00",
        "127, 02 01 7f",
        "128, 02 02 00 80",
        "300, 02 02 01 2c",
        "65535, 02 03 00 ff ff",
        "2147483647, 02 04 7f ff ff ff",
    })
    void encodesIntegersMinimally(int value, String hex) {
        assertThat(Ber.Writer.integer(Ber.INTEGER, value)).isEqualTo(hex(hex));
    }

    @Test
    void decodesIntegersStrictly() {
        assertThat(new Ber.Reader(hex("02 05 00 7f ff ff ff")).next().nonNegativeInt())
                .isEqualTo(Integer.MAX_VALUE);
        assertThatThrownBy(
                        () -> new Ber.Reader(hex("02 05 00 80 00 00 00")).next().nonNegativeInt())
                .hasMessageContaining("larger than");
        assertThatThrownBy(() -> new Ber.Reader(hex("02 01 80")).next().nonNegativeInt())
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> new Ber.Reader(hex("02 00")).next().nonNegativeInt())
                .hasMessageContaining("no content");
    }

    @Test
    void writesLongFormLengthsWhenNeeded() {
        assertThat(Pdus.toHex(Ber.Writer.element(Ber.OCTET_STRING, new byte[0x80])))
                .startsWith("04 81 80");
        assertThat(Pdus.toHex(Ber.Writer.element(Ber.OCTET_STRING, new byte[0x100])))
                .startsWith("04 82 01 00");
    }

    @Test
    void theStartTlsRequestIsTheGoldenOne() {
        // protocols.md §9.1, byte for byte.
        assertThat(LdapMessage.startTlsRequest(1)).isEqualTo(Pdus.START_TLS_REQUEST);
        assertThat(LdapMessage.extendedResponse(1, 0, "", LdapMessage.START_TLS_OID))
                .isEqualTo(Pdus.NAMED_SUCCESS);
        assertThat(LdapMessage.extendedResponse(1, 0, "", null)).isEqualTo(Pdus.OPENLDAP_SUCCESS);
        assertThat(LdapMessage.extendedResponse(1, 2, "unsupported extended operation", null))
                .isEqualTo(Pdus.PROTOCOL_ERROR);
        assertThat(LdapMessage.unbindRequest(2)).isEqualTo(Pdus.UNBIND_2);
    }
}
