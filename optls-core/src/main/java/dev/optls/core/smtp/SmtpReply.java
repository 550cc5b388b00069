package dev.optls.core.smtp;

import java.util.List;

/**
 * One complete SMTP/LMTP reply (RFC 5321 §4.2): a three-digit code and the text of each line.
 *
 * @param code the reply code, 200..599
 * @param lines the text after the code and separator of each line, in order (at least one)
 */
public record SmtpReply(int code, List<String> lines) {
    public SmtpReply {
        if (code < 200 || code > 599) {
            throw new IllegalArgumentException("reply code out of range: " + code);
        }
        lines = List.copyOf(lines);
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("a reply has at least one line");
        }
    }

    /** RFC 5321 §4.2.1: 2yz is a positive completion reply. */
    public boolean isPositive() {
        return code / 100 == 2;
    }

    /** RFC 5321 §4.2.1: 4yz is a transient negative reply. */
    public boolean isTransient() {
        return code / 100 == 4;
    }

    /** All lines joined with a space, for messages. */
    public String text() {
        return String.join(" ", lines).strip();
    }

    /** The reply as one printable line: {@code 454 TLS not available}. */
    @Override
    public String toString() {
        return code + " " + text();
    }
}
