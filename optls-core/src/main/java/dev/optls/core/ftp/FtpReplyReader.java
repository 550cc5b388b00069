package dev.optls.core.ftp;

import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import java.util.ArrayList;
import java.util.List;

/**
 * Assembles FTP replies from lines (RFC 959 §4.2). A single-line reply is {@code xyz SP text}; a
 * multi-line reply starts with {@code xyz-text} and ends with the first line that starts with the same
 * code followed by a space. Lines in between are free text: they may lack a code, or start with another
 * one ({@code "123-First line\r\nSecond line\r\n 234 A line beginning with numbers\r\n123 The last line"},
 * RFC 959 §4.2 example).
 */
public final class FtpReplyReader {
    private final Limits limits;
    private final List<String> lines = new ArrayList<>();
    private String code;

    /** A reader bounded by {@link Limits#maxReplyLines()}. */
    public FtpReplyReader(Limits limits) {
        this.limits = limits;
    }

    /**
     * Feeds one line (without CRLF).
     *
     * @return the complete reply when this line ends it, null when more lines are needed
     * @throws MalformedReplyException when a reply's first line is not a reply line, or the reply is too long
     */
    public FtpReply accept(String line) {
        if (code == null) {
            // RFC 959 §4.2: a reply begins with three digits (first digit 1-5), then SP or "-". A bare
            // "xyz" is accepted as a one-line reply with empty text, as most clients do.
            if (line.length() < 3
                    || !isDigit(line.charAt(0), '1', '5')
                    || !isDigit(line.charAt(1), '0', '9')
                    || !isDigit(line.charAt(2), '0', '9')
                    || (line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-')) {
                throw new MalformedReplyException(FailureKind.MALFORMED, "not an FTP reply line: " + printable(line));
            }
            String text = line.length() > 4 ? line.substring(4) : "";
            if (line.length() > 3 && line.charAt(3) == '-') {
                code = line.substring(0, 3);
                lines.add(text);
                return null;
            }
            return new FtpReply(Integer.parseInt(line.substring(0, 3)), List.of(text));
        }
        if (lines.size() >= limits.maxReplyLines()) {
            throw new MalformedReplyException(
                    FailureKind.LIMIT_EXCEEDED, "reply has more than " + limits.maxReplyLines() + " lines");
        }
        // RFC 959 §4.2: the last line begins with the same code followed immediately by Space.
        boolean last = line.startsWith(code) && (line.length() == 3 || line.charAt(3) == ' ');
        if (!last) {
            lines.add(line);
            return null;
        }
        lines.add(line.length() > 4 ? line.substring(4) : "");
        FtpReply reply = new FtpReply(Integer.parseInt(code), lines);
        lines.clear();
        code = null;
        return reply;
    }

    /** Whether a multi-line reply has been started but not finished. */
    public boolean inProgress() {
        return code != null;
    }

    private static boolean isDigit(char c, char lo, char hi) {
        return c >= lo && c <= hi;
    }

    /** A line shortened and stripped of control characters, safe to put into a message. */
    public static String printable(String line) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < line.length() && sb.length() < 80; i++) {
            char c = line.charAt(i);
            sb.append(c < ' ' || c == 127 ? '?' : c);
        }
        return line.length() > 80 ? sb + "..." : sb.toString();
    }

    /** A line that is not a valid reply line, or a reply over the limits. */
    public static final class MalformedReplyException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final FailureKind kind;

        MalformedReplyException(FailureKind kind, String message) {
            super(message, null, false, false);
            this.kind = kind;
        }

        /** The failure kind to report. */
        public FailureKind kind() {
            return kind;
        }
    }
}
