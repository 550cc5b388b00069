package dev.optls.core.pop3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class Pop3ReplyTest {

    @Test
    void parsesStatusAndText() {
        assertThat(Pop3Reply.parse("+OK")).contains(new Pop3Reply(true, "", ""));
        assertThat(Pop3Reply.parse("+OK Dovecot ready.")).contains(new Pop3Reply(true, "", "Dovecot ready."));
        assertThat(Pop3Reply.parse("-ERR")).contains(new Pop3Reply(false, "", ""));
        assertThat(Pop3Reply.parse("-ERR no such message")).contains(new Pop3Reply(false, "", "no such message"));
    }

    @Test
    void parsesRfc2449ResponseCodes() {
        assertThat(Pop3Reply.parse("-ERR [SYS/TEMP] try later")).hasValueSatisfying(r -> {
            assertThat(r.responseCode()).isEqualTo("SYS/TEMP");
            assertThat(r.text()).isEqualTo("try later");
            assertThat(r.temporary()).isTrue();
        });
        assertThat(Pop3Reply.parse("-ERR [AUTH] bad password")).hasValueSatisfying(r -> {
            assertThat(r.responseCode()).isEqualTo("AUTH");
            assertThat(r.temporary()).isFalse();
        });
        assertThat(Pop3Reply.parse("-ERR [IN-USE] locked"))
                .hasValueSatisfying(r -> assertThat(r.temporary()).isTrue());
        assertThat(Pop3Reply.parse("-ERR [SYS/PERM] gone"))
                .hasValueSatisfying(r -> assertThat(r.temporary()).isFalse());
    }

    @Test
    void bracketsThatAreNotAResponseCodeStayText() {
        assertThat(Pop3Reply.parse("-ERR [not a code] x")).contains(new Pop3Reply(false, "", "[not a code] x"));
        assertThat(Pop3Reply.parse("-ERR [] x")).contains(new Pop3Reply(false, "", "[] x"));
        assertThat(Pop3Reply.parse("-ERR [SYS//TEMP] x")).contains(new Pop3Reply(false, "", "[SYS//TEMP] x"));
        assertThat(Pop3Reply.parse("-ERR [unterminated")).contains(new Pop3Reply(false, "", "[unterminated"));
    }

    @Test
    void rejectsAnythingElse() {
        assertThat(Pop3Reply.parse("")).isEmpty();
        assertThat(Pop3Reply.parse("+ok")).isEmpty();
        assertThat(Pop3Reply.parse("+OKAY")).isEmpty();
        assertThat(Pop3Reply.parse("-ERROR")).isEmpty();
        assertThat(Pop3Reply.parse("220 ready")).isEmpty();
        assertThat(Pop3Reply.parse("+ ")).isEmpty();
    }

    @Test
    void dotStuffing() {
        assertThat(Pop3MultiLine.stuff(".x")).isEqualTo("..x");
        assertThat(Pop3MultiLine.stuff(".")).isEqualTo("..");
        assertThat(Pop3MultiLine.unstuff("..")).isEqualTo(".");
        assertThat(Pop3MultiLine.unstuff("x.")).isEqualTo("x.");
        assertThat(Pop3MultiLine.encode(List.of("A", ".B"))).isEqualTo("A\r\n..B\r\n.\r\n");
        assertThatThrownBy(() -> Pop3MultiLine.unstuff(".")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pop3MultiLine.stuff("a\r\nb")).isInstanceOf(IllegalArgumentException.class);
    }
}
