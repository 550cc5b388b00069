package dev.optls.core.nntp;

import java.util.Optional;

/**
 * An NNTP response line (RFC 3977 §3.2): a three-digit status code, then optionally a space and text.
 *
 * @param code the status code, 100 to 599
 * @param text the rest of the line after the code, without the leading space
 */
public record NntpReply(int code, String text) {

    /**
     * Parses one response line (without its CRLF).
     *
     * @return the reply, or empty when the line does not start with a valid status code
     */
    public static Optional<NntpReply> parse(String line) {
        // RFC 3977 §3.2: "the first three characters of the response line are a status indicator";
        // the first digit is 1 to 5 (§3.2.1).
        if (line.length() < 3 || line.charAt(0) < '1' || line.charAt(0) > '5') {
            return Optional.empty();
        }
        for (int i = 1; i < 3; i++) {
            if (line.charAt(i) < '0' || line.charAt(i) > '9') {
                return Optional.empty();
            }
        }
        if (line.length() > 3 && line.charAt(3) != ' ') {
            return Optional.empty();
        }
        String text = line.length() > 4 ? line.substring(4) : "";
        return Optional.of(new NntpReply(Integer.parseInt(line.substring(0, 3)), text));
    }

    /** Whether the line is a syntactically valid NNTP response line. */
    public static boolean isReply(String line) {
        return parse(line).isPresent();
    }

    /** RFC 3977 §3.2.1: 4xx means the command was correct but could not be performed; retry may help. */
    public boolean temporary() {
        return code >= 400 && code < 500;
    }
}
