package dev.optls.core.ftp;

import java.util.List;

/**
 * A complete FTP reply (RFC 959 §4.2): a three-digit code and its text lines. A multi-line reply keeps
 * every line's text; the middle lines of a multi-line reply are free text (they need not carry the code).
 *
 * @param code the reply code, 100 to 599
 * @param lines the text of each line: after {@code "xyz-"}/{@code "xyz "} on the first and last line, the
 *     whole line in between
 */
public record FtpReply(int code, List<String> lines) {
    public FtpReply {
        lines = List.copyOf(lines);
    }

    /** RFC 959 §4.2.1: 1yz positive preliminary (another reply follows). */
    public boolean preliminary() {
        return code < 200;
    }

    /** RFC 959 §4.2.1: 4yz transient negative completion: the same command may succeed later. */
    public boolean temporary() {
        return code >= 400 && code < 500;
    }

    /** The first line's text. */
    public String text() {
        return lines.isEmpty() ? "" : lines.get(0);
    }

    /** The reply as one line for messages: code and first line. */
    public String summary() {
        return code + " " + FtpReplyReader.printable(text());
    }
}
