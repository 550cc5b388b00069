package dev.optls.core.sieve;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits one complete ManageSieve line (as framed by {@link SieveFramer}, literals included) into
 * {@link SieveValue}s: atoms, quoted strings, literals and parenthesized lists (RFC 5804 §4).
 */
final class SieveParser {
    /** Deepest nesting of parentheses accepted (response codes nest one or two levels at most). */
    static final int MAX_DEPTH = 8;

    private final byte[] frame;
    private final int end;
    private int pos;

    private SieveParser(byte[] frame) {
        this.frame = frame;
        int n = frame.length;
        if (n == 0 || frame[n - 1] != '\n') {
            throw SieveSyntaxException.malformed("line without a line end");
        }
        n--;
        if (n > 0 && frame[n - 1] == '\r') {
            n--;
        }
        this.end = n;
    }

    /** The values of {@code frame}, which ends with its CRLF (or a bare LF, accepted leniently). */
    static List<SieveValue> parse(byte[] frame) {
        SieveParser p = new SieveParser(frame);
        List<SieveValue> values = p.sequence(0);
        if (p.pos != p.end) {
            throw SieveSyntaxException.malformed("unexpected ')'");
        }
        return values;
    }

    private List<SieveValue> sequence(int depth) {
        List<SieveValue> values = new ArrayList<>();
        while (true) {
            while (pos < end && frame[pos] == ' ') {
                pos++;
            }
            if (pos >= end || frame[pos] == ')') {
                return values;
            }
            values.add(value(depth));
            if (pos < end && frame[pos] != ' ' && frame[pos] != ')') {
                throw SieveSyntaxException.malformed("no space between two values");
            }
        }
    }

    private SieveValue value(int depth) {
        byte b = frame[pos];
        if (b == '"') {
            return quoted();
        }
        if (b == '{') {
            return literal();
        }
        if (b == '(') {
            if (depth + 1 > MAX_DEPTH) {
                throw SieveSyntaxException.malformed("parentheses nested deeper than " + MAX_DEPTH);
            }
            pos++;
            List<SieveValue> items = sequence(depth + 1);
            if (pos >= end || frame[pos] != ')') {
                throw SieveSyntaxException.malformed("'(' without ')'");
            }
            pos++;
            return new SieveValue.Group(items);
        }
        int start = pos;
        while (pos < end && isAtomChar(frame[pos])) {
            pos++;
        }
        if (pos == start) {
            throw SieveSyntaxException.malformed("unexpected character 0x" + Integer.toHexString(b & 0xff));
        }
        return new SieveValue.Atom(new String(frame, start, pos - start, StandardCharsets.UTF_8));
    }

    private static boolean isAtomChar(byte b) {
        // RFC 5804 §4: atoms exclude SP, parentheses, quotes, '{' and control characters.
        return b != ' ' && b != '(' && b != ')' && b != '"' && b != '{' && (b & 0xff) >= 0x20 && b != 0x7f;
    }

    private SieveValue quoted() {
        pos++;
        byte[] text = new byte[end - pos];
        int n = 0;
        while (pos < end) {
            byte b = frame[pos++];
            if (b == '"') {
                return new SieveValue.Str(new String(text, 0, n, StandardCharsets.UTF_8), false);
            }
            if (b == '\\') {
                // RFC 5804 §4: QUOTED-SPECIALS are '"' and '\'; anything else after '\' is taken as is.
                if (pos >= end) {
                    break;
                }
                b = frame[pos++];
            } else if (b == '\r' || b == '\n' || b == 0) {
                // Only possible when a literal's octets contain them: a quoted string never does.
                throw SieveSyntaxException.malformed("CR, LF or NUL in a quoted string");
            }
            text[n++] = b;
        }
        throw SieveSyntaxException.malformed("quoted string without its closing '\"'");
    }

    private SieveValue literal() {
        pos++;
        long size = 0;
        int digits = 0;
        while (pos < end && frame[pos] >= '0' && frame[pos] <= '9' && digits <= 10) {
            size = size * 10 + (frame[pos++] - '0');
            digits++;
        }
        if (pos < end && frame[pos] == '+') {
            pos++;
        }
        if (digits == 0 || digits > 10 || pos >= end || frame[pos] != '}') {
            throw SieveSyntaxException.malformed("bad literal marker");
        }
        pos++;
        // The marker ends its line: CRLF (or LF), then exactly size octets (RFC 5804 §4).
        int lineEnd = pos;
        if (lineEnd < frame.length && frame[lineEnd] == '\r') {
            lineEnd++;
        }
        if (lineEnd >= frame.length || frame[lineEnd] != '\n') {
            throw SieveSyntaxException.malformed("a literal marker must end its line");
        }
        int start = lineEnd + 1;
        if (size > end - start) {
            throw SieveSyntaxException.malformed("literal longer than the line");
        }
        pos = start + (int) size;
        return new SieveValue.Str(new String(frame, start, (int) size, StandardCharsets.UTF_8), true);
    }

    /**
     * A string as it goes on the wire: quoted when it can be (RFC 5804 §4 quoted, with {@code "} and
     * {@code \} escaped), otherwise a literal {@code {n}} (server to client) or {@code {n+}} (client to
     * server) with its CRLF and octets.
     */
    static String encode(String text, boolean fromClient) {
        boolean quotable = text.length() <= 1024;
        for (int i = 0; i < text.length() && quotable; i++) {
            char c = text.charAt(i);
            quotable = c != '\r' && c != '\n' && c != 0;
        }
        if (!quotable) {
            int size = text.getBytes(StandardCharsets.UTF_8).length;
            return "{" + size + (fromClient ? "+" : "") + "}\r\n" + text;
        }
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.append('"').toString();
    }
}
