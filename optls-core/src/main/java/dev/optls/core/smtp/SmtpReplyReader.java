package dev.optls.core.smtp;

import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import java.util.ArrayList;
import java.util.List;

/**
 * Assembles multi-line SMTP replies from lines. RFC 5321 §4.2: {@code Reply-code "-" text} continues a
 * reply, {@code Reply-code [SP text]} ends it, and every line carries the same code.
 */
public final class SmtpReplyReader {
    private final Limits limits;
    private final List<String> lines = new ArrayList<>();
    private int code = -1;

    public SmtpReplyReader(Limits limits) {
        this.limits = limits;
    }

    /**
     * Feeds one line (without CRLF).
     *
     * @return the complete reply when this line ends it, null when more lines are needed
     * @throws MalformedReplyException when the line is not a reply line
     */
    public SmtpReply accept(String line) {
        // RFC 5321 §4.2: three digits, then SP, "-", or the end of the line ("250" alone is legal).
        if (line.length() < 3
                || !isDigit(line.charAt(0), '2', '5')
                || !isDigit(line.charAt(1), '0', '9')
                || !isDigit(line.charAt(2), '0', '9')
                || (line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-')) {
            throw new MalformedReplyException(FailureKind.MALFORMED, "not an SMTP reply line: " + printable(line));
        }
        int lineCode = Integer.parseInt(line.substring(0, 3));
        if (code >= 0 && lineCode != code) {
            throw new MalformedReplyException(
                    FailureKind.MALFORMED,
                    "reply code changed from " + code + " to " + lineCode + " inside one multi-line reply");
        }
        code = lineCode;
        if (lines.size() >= limits.maxReplyLines()) {
            throw new MalformedReplyException(
                    FailureKind.LIMIT_EXCEEDED, "reply has more than " + limits.maxReplyLines() + " lines");
        }
        lines.add(line.length() > 4 ? line.substring(4) : "");
        boolean last = line.length() == 3 || line.charAt(3) == ' ';
        if (!last) {
            return null;
        }
        SmtpReply reply = new SmtpReply(code, lines);
        lines.clear();
        code = -1;
        return reply;
    }

    /** Whether a reply has been started but not finished. */
    public boolean inProgress() {
        return code >= 0;
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
        return line.length() > 80 ? sb + "…" : sb.toString();
    }

    /** A line that is not a valid reply line. */
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
