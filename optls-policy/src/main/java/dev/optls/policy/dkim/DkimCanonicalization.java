package dev.optls.policy.dkim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The "relaxed" canonicalization algorithms of RFC 6376 §3.4.2 (header fields) and §3.4.4 (body), and the split of a
 * message into its header fields and body. Text is handled as ISO-8859-1 so that every octet survives unchanged.
 */
public final class DkimCanonicalization {

    private DkimCanonicalization() {}

    /** One header field as it appears in the message: its name and everything after the colon, folding included. */
    public record HeaderField(String name, String rawValue) {
        /** The field as it appears in the message, without the final CRLF. */
        public String raw() {
            return name + ":" + rawValue;
        }
    }

    /** A message split at the first empty line (RFC 5322 §2.1). */
    public record SplitMessage(List<HeaderField> headers, byte[] body) {
        /** Copies the list. */
        public SplitMessage {
            headers = List.copyOf(headers);
        }
    }

    /**
     * Splits {@code message} (CRLF line ends) into header fields and body. A continuation line (starting with SP or
     * HTAB) belongs to the field above it.
     *
     * @throws IllegalArgumentException for a header line without a colon, or a continuation before any field
     */
    public static SplitMessage split(byte[] message) {
        String text = new String(message, StandardCharsets.ISO_8859_1);
        List<HeaderField> headers = new ArrayList<>();
        int pos = 0;
        StringBuilder current = null;
        while (true) {
            int eol = text.indexOf("\r\n", pos);
            String line = eol < 0 ? text.substring(pos) : text.substring(pos, eol);
            int next = eol < 0 ? text.length() : eol + 2;
            if (line.isEmpty()) {
                // RFC 5322 §2.1: an empty line separates the header from the body.
                add(headers, current);
                byte[] body = new byte[message.length - next];
                System.arraycopy(message, next, body, 0, body.length);
                return new SplitMessage(headers, body);
            }
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                if (current == null) {
                    throw new IllegalArgumentException("the message starts with a folded line, not a header field");
                }
                current.append("\r\n").append(line);
            } else {
                add(headers, current);
                if (line.indexOf(':') <= 0) {
                    throw new IllegalArgumentException("not a header field (no name and colon): "
                            + line.substring(0, Math.min(60, line.length())));
                }
                current = new StringBuilder(line);
            }
            if (eol < 0) {
                add(headers, current);
                return new SplitMessage(headers, new byte[0]);
            }
            pos = next;
        }
    }

    private static void add(List<HeaderField> headers, StringBuilder field) {
        if (field != null) {
            String f = field.toString();
            int colon = f.indexOf(':');
            headers.add(new HeaderField(f.substring(0, colon), f.substring(colon + 1)));
        }
    }

    /**
     * RFC 6376 §3.4.2: the name in lower case, the value unfolded, every run of WSP one SP, no WSP at the end of the
     * value nor around the colon; {@code name:value} followed by CRLF.
     */
    public static String relaxedHeader(HeaderField field) {
        return relaxedHeaderWithoutCrlf(field) + "\r\n";
    }

    /** {@link #relaxedHeader} without the CRLF, as the DKIM-Signature field itself enters the hash (§3.7). */
    public static String relaxedHeaderWithoutCrlf(HeaderField field) {
        String name = field.name().strip().toLowerCase(Locale.ROOT);
        // Unfold: remove every CRLF (only ever followed by WSP inside a field).
        String value = field.rawValue().replace("\r\n", "");
        return name + ":" + collapseWsp(value).strip();
    }

    /**
     * RFC 6376 §3.4.4: in every line, WSP at the end removed and other runs of WSP reduced to one SP; empty lines at
     * the end removed; a non-empty body ends with CRLF.
     */
    public static byte[] relaxedBody(byte[] body) {
        String text = new String(body, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r\n", -1);
        int last = lines.length;
        // A body ending with CRLF splits into a last empty element that is not a line.
        if (last > 0 && lines[last - 1].isEmpty()) {
            last--;
        }
        List<String> canonical = new ArrayList<>();
        for (int i = 0; i < last; i++) {
            String line = collapseWsp(lines[i]);
            if (line.endsWith(" ")) {
                line = line.substring(0, line.length() - 1);
            }
            canonical.add(line);
        }
        int end = canonical.size();
        while (end > 0 && canonical.get(end - 1).isEmpty()) {
            end--;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length);
        for (int i = 0; i < end; i++) {
            byte[] b = (canonical.get(i) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            out.write(b, 0, b.length);
        }
        return out.toByteArray();
    }

    private static String collapseWsp(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean inWsp = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t') {
                if (!inWsp) {
                    sb.append(' ');
                }
                inWsp = true;
            } else {
                sb.append(c);
                inWsp = false;
            }
        }
        return sb.toString();
    }
}
