package dev.optls.core.imap;

import dev.optls.core.Limits;
import dev.optls.core.internal.InputBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Client side: reads server responses (RFC 9051 §7, formal syntax §9) from a bounded buffer. Literals
 * anywhere in a data response ({@code * 1 FETCH (BODY[] {28}\r\n...)}) are read byte-exactly and bounded
 * by {@link Limits#maxLiteralBytes()}; lines by {@link Limits#maxLineLength()}.
 */
public final class ImapResponseParser {
    private final Limits limits;
    private final ImapFramer framer;

    /** A parser bounded by {@code limits}. */
    public ImapResponseParser(Limits limits) {
        this.limits = limits;
        this.framer = new ImapFramer(limits, false);
    }

    /**
     * Removes and parses the next complete response from {@code in}, or returns null (consuming nothing)
     * when it is not complete yet. Call again with the same buffer once more bytes were appended.
     *
     * @throws ImapParseException when the response is malformed or goes over a limit; the response's
     *     bytes are consumed when it was complete
     */
    public ImapResponse next(InputBuffer in) {
        ImapFramer.Scan scan = framer.scan(in);
        if (!(scan instanceof ImapFramer.Complete complete)) {
            return null;
        }
        return parseFrame(in.take(complete.length()));
    }

    /**
     * Parses exactly one complete response, CRLF included.
     *
     * @throws ImapParseException when {@code bytes} is not exactly one valid response
     */
    public ImapResponse parse(byte[] bytes) {
        InputBuffer buffer = new InputBuffer(Math.max(bytes.length, 1));
        buffer.append(java.nio.ByteBuffer.wrap(bytes));
        ImapFramer once = new ImapFramer(limits, false);
        if (!(once.scan(buffer) instanceof ImapFramer.Complete complete)) {
            throw ImapParseException.malformed("incomplete response");
        }
        if (complete.length() != bytes.length) {
            throw ImapParseException.malformed("more than one response");
        }
        return parseFrame(bytes);
    }

    static ImapResponse parseFrame(byte[] frame) {
        ImapLexer lx = new ImapLexer(frame);
        if (lx.peek() == '+') {
            // RFC 9051 §7.6: continue-req = "+" SP (resp-text / base64); a bare "+" is accepted.
            lx.expect('+', "'+'");
            lx.skipSpaces();
            return new ImapResponse.Continuation(lx.textUntil(-1));
        }
        String tag = lx.peek() == '*' ? untaggedStar(lx) : lx.tag();
        if (lx.atEnd()) {
            throw ImapParseException.malformed("response without content after '" + tag + "'");
        }
        lx.expect(' ', "a space after the tag");
        if (tag.equals("*")) {
            return untagged(lx);
        }
        String word = lx.atom("a status (OK, NO or BAD) after the tag");
        Optional<ImapResponse.Status> status = ImapResponse.Status.of(word);
        // RFC 9051 §7.1: response-tagged = tag SP resp-cond-state; BYE and PREAUTH are untagged only.
        if (status.isEmpty() || status.get().compareTo(ImapResponse.Status.BAD) > 0) {
            throw ImapParseException.malformed("tagged response with status '" + word + "' (expected OK, NO or BAD)");
        }
        return respText(lx, (code, text) -> new ImapResponse.Tagged(tag, status.get(), code, text));
    }

    private static String untaggedStar(ImapLexer lx) {
        lx.expect('*', "'*'");
        return "*";
    }

    private static ImapResponse untagged(ImapLexer lx) {
        OptionalLong number = OptionalLong.empty();
        String word = lx.atom("a response name after '*'");
        if (word.chars().allMatch(Character::isDigit)) {
            // RFC 9051 §7.4: message-data = nz-number SP ("EXPUNGE" / "FETCH" ...); also EXISTS, RECENT.
            if (word.length() > 10) {
                throw ImapParseException.malformed("message number too large: " + word);
            }
            number = OptionalLong.of(Long.parseLong(word));
            lx.expect(' ', "a space after the message number");
            word = lx.atom("a response name after the message number");
        } else {
            Optional<ImapResponse.Status> status = ImapResponse.Status.of(word);
            if (status.isPresent()) {
                return respText(lx, (code, text) -> new ImapResponse.UntaggedStatus(status.get(), code, text));
            }
        }
        if (!lx.atEnd()) {
            lx.expect(' ', "a space after the response name");
        }
        List<ImapValue> values = lx.values();
        return new ImapResponse.UntaggedData(number, word, values);
    }

    private interface StatusFactory {
        ImapResponse make(Optional<ImapResponse.ResponseCode> code, String text);
    }

    // RFC 9051 §9: resp-text = ["[" resp-text-code "]" SP] [text]
    private static ImapResponse respText(ImapLexer lx, StatusFactory factory) {
        if (lx.atEnd()) {
            return factory.make(Optional.empty(), "");
        }
        lx.expect(' ', "a space after the status");
        Optional<ImapResponse.ResponseCode> code = Optional.empty();
        if (lx.peek() == '[') {
            lx.expect('[', "'['");
            String name = lx.atom("a response code name after '['");
            String args = "";
            if (lx.peek() == ' ') {
                lx.expect(' ', "a space");
                args = lx.textUntil(']');
            }
            lx.expect(']', "']' closing the response code");
            code = Optional.of(new ImapResponse.ResponseCode(name, args));
            if (!lx.atEnd()) {
                lx.expect(' ', "a space after the response code");
            }
        }
        return factory.make(code, lx.textUntil(-1));
    }
}
