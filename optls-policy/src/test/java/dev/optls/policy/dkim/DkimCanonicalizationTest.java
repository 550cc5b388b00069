package dev.optls.policy.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** RFC 6376 §3.4.2 and §3.4.4, with the example of §3.4.5. */
class DkimCanonicalizationTest {

    /** RFC 6376 §3.4.5, written out octet by octet. */
    static final String RFC_EXAMPLE =
            "A: X\r\n" + "B : Y\t\r\n" + "\tZ  \r\n" + "\r\n" + " C \r\n" + "D \t E\r\n" + "\r\n" + "\r\n";

    @Test
    void rfc6376Example345RelaxedHeaders() {
        DkimCanonicalization.SplitMessage m = DkimCanonicalization.split(bytes(RFC_EXAMPLE));

        assertThat(m.headers()).hasSize(2);
        assertThat(m.headers().get(1).raw()).isEqualTo("B : Y\t\r\n\tZ  ");
        // RFC 6376 §3.4.5: "a:X <CRLF>" and "b:Y <SP> Z <CRLF>".
        assertThat(DkimCanonicalization.relaxedHeader(m.headers().get(0))).isEqualTo("a:X\r\n");
        assertThat(DkimCanonicalization.relaxedHeader(m.headers().get(1))).isEqualTo("b:Y Z\r\n");
    }

    @Test
    void rfc6376Example345RelaxedBody() {
        DkimCanonicalization.SplitMessage m = DkimCanonicalization.split(bytes(RFC_EXAMPLE));

        assertThat(new String(m.body(), StandardCharsets.US_ASCII)).isEqualTo(" C \r\nD \t E\r\n\r\n\r\n");
        // RFC 6376 §3.4.5: "<SP> C <CRLF>" and "D <SP> E <CRLF>"; the empty lines at the end are gone.
        assertThat(text(DkimCanonicalization.relaxedBody(m.body()))).isEqualTo(" C\r\nD E\r\n");
    }

    @Test
    void relaxedBodyEdgeCases() {
        // RFC 6376 §3.4.4: an empty body stays empty; a body of empty lines becomes empty; a missing CRLF is added.
        assertThat(DkimCanonicalization.relaxedBody(new byte[0])).isEmpty();
        assertThat(DkimCanonicalization.relaxedBody(bytes("\r\n\r\n\r\n"))).isEmpty();
        assertThat(text(DkimCanonicalization.relaxedBody(bytes("abc")))).isEqualTo("abc\r\n");
        assertThat(text(DkimCanonicalization.relaxedBody(bytes("a  \t b \t\r\n \r\nc\r\n"))))
                .isEqualTo("a b\r\n\r\nc\r\n");
    }

    @Test
    void relaxedHeaderLowerCasesUnfoldsAndTrims() {
        var f = new DkimCanonicalization.HeaderField("SUBJECT", "  Report \r\n Domain:\t x  ");
        assertThat(DkimCanonicalization.relaxedHeader(f)).isEqualTo("subject:Report Domain: x\r\n");
    }

    @Test
    void splitKeepsFoldedFieldsAndTheBody() {
        DkimCanonicalization.SplitMessage m =
                DkimCanonicalization.split(bytes("From: a@example.org\r\nSubject: one\r\n two\r\n\r\nbody\r\n"));
        assertThat(m.headers())
                .extracting(DkimCanonicalization.HeaderField::name)
                .containsExactly("From", "Subject");
        assertThat(m.headers().get(1).rawValue()).isEqualTo(" one\r\n two");
        assertThat(text(m.body())).isEqualTo("body\r\n");
        assertThat(DkimCanonicalization.split(bytes("From: a@example.org\r\n")).body())
                .isEmpty();
        assertThatThrownBy(() -> DkimCanonicalization.split(bytes(" folded first\r\n\r\n")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DkimCanonicalization.split(bytes("no colon here\r\n\r\n")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a header field");
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
