package dev.optls.core.pop3;

import java.util.List;

/**
 * RFC 1939 §3 multi-line bodies: lines after a {@code +OK} status line, ended by a line holding a
 * single dot; a line that begins with a dot is sent with one more dot in front ("dot-stuffing").
 */
public final class Pop3MultiLine {
    /** The line that ends a multi-line body. */
    public static final String TERMINATOR = ".";

    private Pop3MultiLine() {}

    /** Whether {@code line} (without CRLF) ends the body. */
    public static boolean isTerminator(String line) {
        return line.equals(TERMINATOR);
    }

    /**
     * Undoes dot-stuffing on one received body line (without CRLF).
     *
     * @throws IllegalArgumentException for the terminator line, which is not content
     */
    public static String unstuff(String line) {
        if (isTerminator(line)) {
            throw new IllegalArgumentException("the terminator line \".\" is not body content");
        }
        // RFC 1939 §3: "If so, the first octet [a dot] is stripped away."
        return line.startsWith(".") ? line.substring(1) : line;
    }

    /** Dot-stuffs one body line for sending (RFC 1939 §3). */
    public static String stuff(String line) {
        if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("a body line must not contain CR or LF: " + line);
        }
        return line.startsWith(".") ? "." + line : line;
    }

    /** The body as sent: each line dot-stuffed and CRLF-terminated, then {@code .CRLF}. */
    public static String encode(List<String> lines) {
        StringBuilder b = new StringBuilder();
        for (String line : lines) {
            b.append(stuff(line)).append("\r\n");
        }
        return b.append(TERMINATOR).append("\r\n").toString();
    }
}
