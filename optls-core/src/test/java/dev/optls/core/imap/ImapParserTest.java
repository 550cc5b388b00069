package dev.optls.core.imap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.internal.InputBuffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImapParserTest {
    private static final Limits LIMITS = new Limits(128, 8, 4096, 64, 5);
    private final ImapResponseParser responses = new ImapResponseParser(LIMITS);
    private final ImapCommandParser commands = new ImapCommandParser(LIMITS);

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void taggedStatusWithCode() {
        assertThat(responses.parse(b("a001 OK [CAPABILITY IMAP4rev2 STARTTLS] done\r\n")))
                .isEqualTo(new ImapResponse.Tagged(
                        "a001",
                        ImapResponse.Status.OK,
                        Optional.of(new ImapResponse.ResponseCode("CAPABILITY", "IMAP4rev2 STARTTLS")),
                        "done"));
        ImapResponse.Tagged t = (ImapResponse.Tagged) responses.parse(b("x.y NO [PRIVACYREQUIRED] no\r\n"));
        assertThat(t.code()).map(ImapResponse.ResponseCode::name).contains("PRIVACYREQUIRED");
        assertThat(t.capabilityCode()).isEmpty();
        assertThat(responses.parse(b("a bad\r\n")))
                .isEqualTo(new ImapResponse.Tagged("a", ImapResponse.Status.BAD, Optional.empty(), ""));
    }

    @Test
    void untaggedStatusAndAlert() {
        ImapResponse.UntaggedStatus s =
                (ImapResponse.UntaggedStatus) responses.parse(b("* OK [ALERT] System shutdown in 10 minutes\r\n"));
        assertThat(s.status()).isEqualTo(ImapResponse.Status.OK);
        assertThat(s.code()).contains(new ImapResponse.ResponseCode("alert", ""));
        assertThat(s.text()).isEqualTo("System shutdown in 10 minutes");
        assertThat(((ImapResponse.UntaggedStatus) responses.parse(b("* PREAUTH hi {5}\r\n"))).text())
                .as("resp-text never holds a literal")
                .isEqualTo("hi {5}");
        assertThat(((ImapResponse.UntaggedStatus) responses.parse(b("* BYE\r\n"))).status())
                .isEqualTo(ImapResponse.Status.BYE);
    }

    @Test
    void untaggedData() {
        ImapResponse.UntaggedData caps =
                (ImapResponse.UntaggedData) responses.parse(b("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"));
        assertThat(caps.capabilities().entries()).containsExactly("IMAP4rev1", "AUTH=PLAIN");
        assertThat(responses.parse(b("* 23 EXISTS\r\n")))
                .isEqualTo(new ImapResponse.UntaggedData(OptionalLong.of(23), "EXISTS", List.of()));
        ImapResponse.UntaggedData list =
                (ImapResponse.UntaggedData) responses.parse(b("* LIST (\\HasNoChildren) \"/\" \"a \\\"b\\\"\"\r\n"));
        assertThat(list.values())
                .containsExactly(
                        new ImapValue.Parenthesized(List.of(new ImapValue.Atom("\\HasNoChildren"))),
                        new ImapValue.Quoted("/"),
                        new ImapValue.Quoted("a \"b\""));
        assertThat(responses.parse(b("+ Ready\r\n"))).isEqualTo(new ImapResponse.Continuation("Ready"));
        assertThat(responses.parse(b("+\r\n"))).isEqualTo(new ImapResponse.Continuation(""));
    }

    @Test
    void literalsAnywhereAreReadByteExactly() {
        String fetch = "* 1 FETCH (BODY[HEADER.FIELDS (FROM)]<0> {28}\r\nFrom: Injected\r\n\r\nInjected\r\n"
                + " FLAGS (\\Seen) X ~{2}\r\n\u0000\r)\r\n";
        ImapResponse.UntaggedData d = (ImapResponse.UntaggedData) responses.parse(b(fetch));
        assertThat(d.number()).hasValue(1);
        assertThat(d.name()).isEqualTo("FETCH");
        List<ImapValue> items = ((ImapValue.Parenthesized) d.values().get(0)).items();
        assertThat(items.get(0)).isEqualTo(new ImapValue.Atom("BODY[HEADER.FIELDS (FROM)]<0>"));
        ImapValue.Literal body = (ImapValue.Literal) items.get(1);
        assertThat(body.size()).isEqualTo(28);
        assertThat(body.text()).isEqualTo("From: Injected\r\n\r\nInjected\r\n");
        assertThat(body.synchronizing()).isTrue();
        ImapValue.Literal binary = (ImapValue.Literal) items.get(5);
        assertThat(binary.binary()).isTrue();
        assertThat(binary.size()).isEqualTo(2);
        assertThat(binary.bytes().get(1)).isEqualTo((byte) '\r');
    }

    @Test
    void incrementalParsingWaitsForTheWholeLiteral() {
        InputBuffer in = new InputBuffer(4096);
        byte[] all = b("* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\na1 OK x\r\n");
        ImapResponse first = null;
        int i = 0;
        for (; i < all.length && first == null; i++) {
            in.append(ByteBuffer.wrap(all, i, 1));
            first = responses.next(in);
        }
        assertThat(i).isEqualTo("* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n".length());
        assertThat(((ImapValue.Parenthesized)
                                ((ImapResponse.UntaggedData) first).values().get(0))
                        .items())
                .element(1)
                .extracting(ImapValue::text)
                .isEqualTo("ab\r\nc");
        in.append(ByteBuffer.wrap(all, i, all.length - i));
        assertThat(responses.next(in)).isInstanceOf(ImapResponse.Tagged.class);
        assertThat(responses.next(in)).isNull();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "a001 PREAUTH hi\r\n", // tagged PREAUTH
                "a001 BYE hi\r\n",
                "a001 MAYBE\r\n",
                "a+ OK\r\n",
                "*\r\n",
                "* 1 FETCH (FLAGS (\\Seen)\r\n", // unbalanced
                "* LIST ) x\r\n",
                "* LIST \"open\r\n",
                "* OK [ALERT hi\r\n",
                "* OK hi\rthere\r\n",
                "* 12345678901 EXISTS\r\n"
            })
    void malformedResponses(String response) {
        assertThatThrownBy(() -> responses.parse(b(response)))
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.kind()).isEqualTo(FailureKind.MALFORMED));
    }

    @Test
    void limits() {
        assertThatThrownBy(() -> responses.parse(b("* 1 FETCH (BODY[] {65}\r\n" + "x".repeat(65) + ")\r\n")))
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
        assertThatThrownBy(() -> responses.parse(b("* OK " + "x".repeat(200) + "\r\n")))
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
        assertThatThrownBy(() -> responses.parse(b("* X {99999999999}\r\n")))
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
        String deep = "* X " + "(".repeat(ImapLexer.MAX_DEPTH + 1) + ")".repeat(ImapLexer.MAX_DEPTH + 1) + "\r\n";
        assertThatThrownBy(() -> new ImapResponseParser(new Limits(1024, 8, 4096, 64, 5)).parse(b(deep)))
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
        StringBuilder many = new StringBuilder("* X");
        for (int i = 0; i < 9; i++) {
            many.append(" {1}\r\nx");
        }
        assertThatThrownBy(() -> responses.parse(b(many + "\r\n")))
                .as("more literals than Limits.maxReplyLines")
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
    }

    @Test
    void commands() {
        ImapCommand c = commands.parse(b("A1 login \"us er\" {4+}\r\npass\r\n"));
        assertThat(c.tag()).isEqualTo("A1");
        assertThat(c.name()).isEqualTo("LOGIN");
        assertThat(c.arguments()).hasSize(2);
        assertThat(c.arguments().get(0)).isEqualTo(new ImapValue.Quoted("us er"));
        assertThat(c.arguments().get(1).text()).isEqualTo("pass");
        assertThat(((ImapValue.Literal) c.arguments().get(1)).synchronizing()).isFalse();
        assertThat(c.pendingLiteral()).isEmpty();
        assertThat(c.raw()).isEqualTo(ByteBuffer.wrap(b("A1 login \"us er\" {4+}\r\npass\r\n")));

        ImapCommand noop = commands.parse(b("a2 NOOP\r\n"));
        assertThat(noop.hasArguments()).isFalse();
        assertThat(noop.argumentText()).isEmpty();
        assertThat(noop.line()).isEqualTo("a2 NOOP");

        ImapCommand fetch = commands.parse(b("a3 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)])\r\n"));
        assertThat(fetch.name()).isEqualTo("UID");
        assertThat(fetch.arguments()).extracting(ImapValue::text).first().isEqualTo("FETCH");
        assertThat(fetch.argumentText()).isEqualTo("FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)])");
    }

    @Test
    void synchronizingLiteralStopsTheCommand() {
        InputBuffer in = new InputBuffer(4096);
        in.append(ByteBuffer.wrap(b("a1 APPEND INBOX {310}\r\nnext")));
        ImapCommand c = commands.next(in);
        assertThat(c.pendingLiteral()).hasValue(310);
        assertThat(c.arguments()).containsExactly(new ImapValue.Atom("INBOX"));
        assertThat(c.argumentText()).isEqualTo("INBOX {310}");
        assertThat(c.hasArguments()).isTrue();
        assertThat(in.size())
                .as("the octets after the literal's line are left alone")
                .isEqualTo(4);

        ImapCommand bare = commands.parse(b("a2 LOGIN ~{3}\r\n"));
        assertThat(bare.pendingLiteral()).hasValue(3);
        assertThat(bare.arguments()).isEmpty();
        assertThat(bare.argumentText()).isEqualTo("~{3}");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"\r\n", "a1\r\n", "a1 \r\n", "a1 NO$OP\r\n", "+ NOOP\r\n", "a1 LOGIN \"x\r\n", "a*1 NOOP\r\n"})
    void malformedCommands(String command) {
        assertThatThrownBy(() -> commands.parse(b(command)))
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.kind()).isEqualTo(FailureKind.MALFORMED));
    }

    @Test
    void malformedCommandKeepsItsTagForTheBadReply() {
        assertThatThrownBy(() -> commands.parse(b("t9 SELECT (\r\n")))
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.tag()).contains("t9"));
        assertThatThrownBy(() -> commands.parse(b("t{9 SELECT\r\n")))
                .isInstanceOfSatisfying(
                        ImapParseException.class, e -> assertThat(e.tag()).isEmpty());
    }
}
