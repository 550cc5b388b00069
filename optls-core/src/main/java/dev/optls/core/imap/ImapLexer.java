package dev.optls.core.imap;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Tokenizes one framed IMAP command or response (RFC 9051 §4, §9): the bytes of the frame without its
 * final line ending. Literals are read byte-exactly from the frame; the framer has checked their size.
 */
final class ImapLexer {
    // Nesting of parenthesized lists is bounded so that hostile input cannot exhaust the stack;
    // BODYSTRUCTURE of real messages stays far below this.
    static final int MAX_DEPTH = 64;

    private final byte[] b;
    private final int end;
    private int pos;

    ImapLexer(byte[] frame) {
        this(frame, frame.length);
    }

    /** Lex {@code frame[0, length)}; a final line ending inside that range is left out. */
    ImapLexer(byte[] frame, int length) {
        this.b = frame;
        int e = length;
        if (e > 0 && frame[e - 1] == '\n') {
            e--;
            if (e > 0 && frame[e - 1] == '\r') {
                e--;
            }
        }
        this.end = e;
    }

    boolean atEnd() {
        return pos >= end;
    }

    int peek() {
        return atEnd() ? -1 : b[pos] & 0xff;
    }

    int position() {
        return pos;
    }

    /** The frame text from {@code from} to the end, without the final line ending. */
    String textFrom(int from) {
        return new String(b, from, end - from, StandardCharsets.UTF_8);
    }

    void expect(char c, String what) {
        if (peek() != c) {
            throw ImapParseException.malformed("expected " + what + describeHere());
        }
        pos++;
    }

    /** Skip one or more spaces; true when at least one was there. */
    boolean skipSpaces() {
        int start = pos;
        while (peek() == ' ') {
            pos++;
        }
        return pos > start;
    }

    /**
     * RFC 9051 §9: tag = 1*&lt;any ASTRING-CHAR except "+"&gt;. Reads up to the next space (or the end).
     */
    String tag() {
        int start = pos;
        while (!atEnd() && peek() != ' ') {
            int c = peek();
            if (c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' || c == '"'
                    || c == '\\' || c == '+') {
                throw ImapParseException.malformed(
                        "invalid character 0x" + Integer.toHexString(c) + " in tag" + describeHere());
            }
            pos++;
        }
        if (pos == start) {
            throw ImapParseException.malformed("missing tag" + describeHere());
        }
        return new String(b, start, pos - start, StandardCharsets.US_ASCII);
    }

    /** RFC 9051 §9: atom = 1*ATOM-CHAR. */
    String atom(String what) {
        int start = pos;
        while (!atEnd() && isAtomChar(peek()) && peek() != ']' && peek() != '[') {
            pos++;
        }
        if (pos == start) {
            throw ImapParseException.malformed("expected " + what + describeHere());
        }
        return new String(b, start, pos - start, StandardCharsets.US_ASCII);
    }

    /** Text up to (not including) {@code stop} or the end; no CR, LF or NUL (RFC 9051 TEXT-CHAR). */
    String textUntil(int stop) {
        int start = pos;
        while (!atEnd() && peek() != stop) {
            int c = peek();
            if (c == '\r' || c == '\n' || c == 0) {
                throw ImapParseException.malformed("control character 0x" + Integer.toHexString(c) + " in text");
            }
            pos++;
        }
        return new String(b, start, pos - start, StandardCharsets.UTF_8);
    }

    /** Values separated by spaces up to the end of the frame. */
    List<ImapValue> values() {
        List<ImapValue> out = new ArrayList<>();
        skipSpaces();
        while (!atEnd()) {
            out.add(value(0));
            if (!atEnd() && !skipSpaces() && peek() != '(') {
                throw ImapParseException.malformed("expected a space between values" + describeHere());
            }
        }
        return out;
    }

    private ImapValue value(int depth) {
        int c = peek();
        if (c == '(') {
            if (depth >= MAX_DEPTH) {
                throw ImapParseException.limit("lists nested deeper than " + MAX_DEPTH);
            }
            pos++;
            List<ImapValue> items = new ArrayList<>();
            skipSpaces();
            while (peek() != ')') {
                if (atEnd()) {
                    throw ImapParseException.malformed("unbalanced '(': the list is not closed");
                }
                items.add(value(depth + 1));
                if (peek() != ')' && !skipSpaces() && peek() != '(') {
                    throw ImapParseException.malformed("expected a space or ')' in a list" + describeHere());
                }
            }
            pos++;
            return new ImapValue.Parenthesized(items);
        }
        if (c == '"') {
            return quoted();
        }
        if (c == '{' || (c == '~' && pos + 1 < end && b[pos + 1] == '{')) {
            return literal();
        }
        if (c == ')') {
            throw ImapParseException.malformed("unbalanced ')'" + describeHere());
        }
        return new ImapValue.Atom(looseAtom());
    }

    /**
     * An atom as found in data: ATOM-CHARs plus {@code ]}, {@code %}, {@code *} and {@code \} (flags,
     * sequence sets, list wildcards), and a bracketed section that may hold spaces and parentheses
     * ({@code BODY[HEADER.FIELDS (FROM)]}). UTF-8 is accepted (RFC 9051 §6.3.1 UTF-8 mailbox names).
     */
    private String looseAtom() {
        int start = pos;
        while (!atEnd()) {
            int c = peek();
            if (c == '[') {
                int close = -1;
                for (int i = pos + 1; i < end && b[i] != '\r' && b[i] != '\n'; i++) {
                    if (b[i] == ']') {
                        close = i;
                        break;
                    }
                }
                pos = close < 0 ? pos + 1 : close + 1;
                continue;
            }
            if (c == ' ' || c == '(' || c == ')' || c == '{' || c == '"' || c < ' ' || c == 0x7f) {
                break;
            }
            pos++;
        }
        if (pos == start) {
            throw ImapParseException.malformed(
                    "unexpected character 0x" + Integer.toHexString(peek()) + describeHere());
        }
        return new String(b, start, pos - start, StandardCharsets.UTF_8);
    }

    // RFC 9051 §4.3: quoted = DQUOTE *QUOTED-CHAR DQUOTE; only " and \ are escaped.
    private ImapValue quoted() {
        pos++;
        // Unescaped bytes are never more than the quoted string's own bytes: size by what remains.
        byte[] text = new byte[b.length - pos];
        int length = 0;
        while (true) {
            if (atEnd()) {
                throw ImapParseException.malformed("unterminated quoted string");
            }
            int c = b[pos++] & 0xff;
            if (c == '"') {
                return new ImapValue.Quoted(new String(text, 0, length, StandardCharsets.UTF_8));
            }
            if (c == '\r' || c == '\n' || c == 0) {
                throw ImapParseException.malformed(
                        "control character 0x" + Integer.toHexString(c) + " in a quoted string");
            }
            if (c == '\\') {
                if (atEnd() || (b[pos] != '"' && b[pos] != '\\')) {
                    throw ImapParseException.malformed("only \\\" and \\\\ may be escaped in a quoted string");
                }
                c = b[pos++];
            }
            text[length++] = (byte) c;
        }
    }

    // RFC 9051 §4.3 literal = "{" number64 ["+"] "}" CRLF *CHAR8; RFC 3516 literal8 = "~{" number "}".
    private ImapValue literal() {
        boolean binary = b[pos] == '~';
        pos += binary ? 2 : 1;
        long size = 0;
        int digits = 0;
        while (peek() >= '0' && peek() <= '9') {
            size = size * 10 + (b[pos++] - '0');
            if (++digits > 10) {
                throw ImapParseException.limit("literal size too large");
            }
        }
        if (digits == 0) {
            throw ImapParseException.malformed("literal without a size" + describeHere());
        }
        boolean synchronizing = true;
        if (peek() == '+') {
            synchronizing = false;
            pos++;
        }
        expect('}', "'}' closing the literal size");
        if (pos < end && b[pos] == '\r') {
            pos++;
        }
        if (pos >= b.length || b[pos] != '\n') {
            throw ImapParseException.malformed("a literal size must end the line" + describeHere());
        }
        pos++;
        if (size > end - pos) {
            throw ImapParseException.malformed("literal of " + size + " octets runs past the end of the frame");
        }
        ByteBuffer bytes = ByteBuffer.wrap(java.util.Arrays.copyOfRange(b, pos, pos + (int) size));
        pos += (int) size;
        return new ImapValue.Literal(bytes, binary, synchronizing);
    }

    private static boolean isAtomChar(int c) {
        // RFC 9051 §9: ATOM-CHAR = any CHAR except atom-specials ( ) { SP CTL % * " \ ]
        return c > ' ' && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '%' && c != '*' && c != '"' && c != '\\'
                && c != ']';
    }

    private String describeHere() {
        return atEnd() ? " (at the end of the line)" : " (near offset " + pos + ")";
    }
}
