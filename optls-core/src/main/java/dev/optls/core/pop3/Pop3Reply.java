package dev.optls.core.pop3;

import java.util.Locale;
import java.util.Optional;

/**
 * A POP3 status line: {@code +OK} or {@code -ERR}, an optional RFC 2449 §8 response code in square
 * brackets, and free text.
 *
 * @param positive {@code true} for {@code +OK}, {@code false} for {@code -ERR}
 * @param responseCode the response code without brackets ({@code SYS/TEMP}, {@code AUTH}, {@code
 *     IN-USE}), or an empty string when there is none
 * @param text the rest of the line after the status indicator and response code, without leading space
 */
public record Pop3Reply(boolean positive, String responseCode, String text) {

    /**
     * Parses one status line (without its CRLF).
     *
     * @return the reply, or empty when the line is neither {@code +OK} nor {@code -ERR}
     */
    public static Optional<Pop3Reply> parse(String line) {
        // RFC 1939 §3: "+OK" or "-ERR" in upper case, then optionally a space and text.
        boolean positive;
        String rest;
        if (line.startsWith("+OK")) {
            positive = true;
            rest = line.substring(3);
        } else if (line.startsWith("-ERR")) {
            positive = false;
            rest = line.substring(4);
        } else {
            return Optional.empty();
        }
        if (!rest.isEmpty() && rest.charAt(0) != ' ') {
            return Optional.empty();
        }
        rest = rest.stripLeading();
        String code = "";
        // RFC 2449 §8: resp-code = "[" resp-level *("/" resp-level) "]", first item of the text.
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close > 1 && isResponseCode(rest.substring(1, close))) {
                code = rest.substring(1, close).toUpperCase(Locale.ROOT);
                rest = rest.substring(close + 1).stripLeading();
            }
        }
        return Optional.of(new Pop3Reply(positive, code, rest));
    }

    private static boolean isResponseCode(String code) {
        // RFC 2449 §9: resp-level = 1*rchar; rchar = %x21-2E / %x30-5C / %x5E-7F (no space, "/", "]").
        for (String level : code.split("/", -1)) {
            if (level.isEmpty()) {
                return false;
            }
            for (int i = 0; i < level.length(); i++) {
                char c = level.charAt(i);
                if (c < 0x21 || c > 0x7e || c == '/' || c == ']') {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Whether retrying later may help: {@code [SYS/TEMP]} (RFC 3206 §4), {@code [IN-USE]} and
     * {@code [LOGIN-DELAY]} (RFC 2449 §8.1.1/§8.1.2).
     */
    public boolean temporary() {
        return responseCode.equals("SYS/TEMP")
                || responseCode.startsWith("SYS/TEMP/")
                || responseCode.equals("IN-USE")
                || responseCode.equals("LOGIN-DELAY");
    }

    /** The line as it would be sent, without CRLF. */
    public String toLine() {
        StringBuilder b = new StringBuilder(positive ? "+OK" : "-ERR");
        if (!responseCode.isEmpty()) {
            b.append(" [").append(responseCode).append(']');
        }
        if (!text.isEmpty()) {
            b.append(' ').append(text);
        }
        return b.toString();
    }
}
