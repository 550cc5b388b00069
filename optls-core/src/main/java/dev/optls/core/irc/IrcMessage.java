package dev.optls.core.irc;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One IRC message (RFC 1459 §2.3.1, Modern IRC, IRCv3 message-tags): optional {@code @tags}, optional
 * {@code :prefix}, a command or three-digit numeric (upper-cased), and parameters, the last of which may
 * be a trailing parameter introduced by {@code :}.
 *
 * @param tags the raw tag section without the {@code @}, empty when absent
 * @param prefix the source without the {@code :}, empty when absent
 * @param command the command, upper-cased, or a numeric
 * @param params the parameters, the trailing one last and without its {@code :}
 */
record IrcMessage(String tags, String prefix, String command, List<String> params) {
    /** RFC 1459 §2.3: a message is at most 512 bytes including CR LF, tags excluded. */
    static final int MAX_MESSAGE = 512;

    /** IRCv3 message-tags: the tag section is at most 8191 bytes including {@code @} and the space. */
    static final int MAX_TAGS = 8191;

    /** The largest line an IRC peer may send: tags plus a message. */
    static final int MAX_LINE = MAX_TAGS + MAX_MESSAGE;

    IrcMessage {
        params = List.copyOf(params);
    }

    /** Whether the command is this three-digit numeric. */
    boolean isNumeric(String numeric) {
        return command.equals(numeric);
    }

    /** Whether the command is a three-digit numeric reply. */
    boolean isNumeric() {
        return command.length() == 3
                && Character.isDigit(command.charAt(0))
                && Character.isDigit(command.charAt(1))
                && Character.isDigit(command.charAt(2));
    }

    /** The parameter at {@code i}, or empty. */
    String param(int i) {
        return i < params.size() ? params.get(i) : "";
    }

    /** The last parameter, or empty. */
    String last() {
        return params.isEmpty() ? "" : params.get(params.size() - 1);
    }

    /** Why a line is not an acceptable IRC message. */
    enum Problem {
        TOO_LONG,
        MALFORMED
    }

    /** A parse outcome: a message or a problem. */
    record Parsed(IrcMessage message, Problem problem) {
        Optional<IrcMessage> ok() {
            return Optional.ofNullable(message);
        }
    }

    /**
     * Parses one line without its CR LF; {@code rawLength} is its length in bytes including the line end,
     * for the RFC 1459 512-byte rule. An empty line gives a null message and no problem (RFC 1459
     * §2.3.1: empty messages are silently ignored).
     */
    static Parsed parse(String line, int rawLength) {
        int pos = 0;
        String tags = "";
        int tagBytes = 0;
        if (line.startsWith("@")) {
            int sp = line.indexOf(' ');
            if (sp < 0) {
                return new Parsed(null, Problem.MALFORMED);
            }
            tags = line.substring(1, sp);
            tagBytes = tags.getBytes(StandardCharsets.UTF_8).length + 2;
            if (tagBytes > MAX_TAGS) {
                return new Parsed(null, Problem.TOO_LONG);
            }
            pos = skipSpaces(line, sp);
        }
        if (rawLength - tagBytes > MAX_MESSAGE) {
            return new Parsed(null, Problem.TOO_LONG);
        }
        if (pos >= line.length()) {
            return new Parsed(null, tags.isEmpty() ? null : Problem.MALFORMED);
        }
        String prefix = "";
        if (line.charAt(pos) == ':') {
            int sp = line.indexOf(' ', pos);
            if (sp < 0 || sp == pos + 1) {
                return new Parsed(null, Problem.MALFORMED);
            }
            prefix = line.substring(pos + 1, sp);
            pos = skipSpaces(line, sp);
        }
        int end = line.indexOf(' ', pos);
        String command = (end < 0 ? line.substring(pos) : line.substring(pos, end)).toUpperCase(Locale.ROOT);
        if (command.isEmpty() || !command.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'A' && c <= 'Z')) {
            return new Parsed(null, Problem.MALFORMED);
        }
        List<String> params = new ArrayList<>();
        pos = end < 0 ? line.length() : skipSpaces(line, end);
        while (pos < line.length()) {
            if (line.charAt(pos) == ':') {
                params.add(line.substring(pos + 1));
                break;
            }
            int sp = line.indexOf(' ', pos);
            if (sp < 0) {
                params.add(line.substring(pos));
                break;
            }
            params.add(line.substring(pos, sp));
            pos = skipSpaces(line, sp);
        }
        if (line.indexOf('\0') >= 0 || line.indexOf('\r') >= 0) {
            // RFC 1459 §2.3.1: NUL, CR and LF are not allowed inside a message.
            return new Parsed(null, Problem.MALFORMED);
        }
        return new Parsed(new IrcMessage(tags, prefix, command, params), null);
    }

    private static int skipSpaces(String line, int i) {
        while (i < line.length() && line.charAt(i) == ' ') {
            i++;
        }
        return i;
    }

    /** A printable, shortened rendering of a peer's line for failure messages. */
    static String abbreviate(String line) {
        String printable = line.codePoints()
                .map(c -> c < 0x20 || c == 0x7f ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return '"' + (printable.length() > 200 ? printable.substring(0, 200) + "..." : printable) + '"';
    }
}
