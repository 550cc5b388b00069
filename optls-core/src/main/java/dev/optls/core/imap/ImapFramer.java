package dev.optls.core.imap;

import dev.optls.core.Limits;
import dev.optls.core.internal.InputBuffer;
import java.util.Locale;
import java.util.Set;

/**
 * Finds where the next complete IMAP command or response ends in an {@link InputBuffer}, without
 * consuming it. A line that ends in a literal marker ({@code {n}}, {@code {n+}}, {@code ~{n}}) continues
 * after exactly n octets (RFC 9051 §4.3). Scanning resumes where it stopped, so input arriving a byte at
 * a time costs linear time.
 */
final class ImapFramer {
    /** The outcome of a scan. */
    sealed interface Scan {}

    /** No complete frame yet. */
    record Incomplete() implements Scan {}

    /** A complete frame of {@code length} bytes (its final CRLF included). */
    record Complete(int length) implements Scan {}

    /**
     * Server side: the first {@code length} bytes end in a synchronizing literal {@code {size}}. RFC 9051
     * §4.3: the client waits for a {@code +} continuation (or a tagged rejection) before sending it.
     */
    record AwaitingLiteral(int length, long size) implements Scan {}

    static final Incomplete INCOMPLETE = new Incomplete();

    // RFC 9051 §7.1: resp-text (status responses) and continue-req never contain literals.
    private static final Set<String> STATUS = Set.of("OK", "NO", "BAD", "BYE", "PREAUTH");

    private final Limits limits;
    private final boolean commands;
    private int segmentStart;
    private int scanFrom;
    private int literalEnd = -1;
    private int literals;

    /**
     * @param commands true to frame client commands (synchronizing literals pause the frame), false
     *     to frame server responses
     */
    ImapFramer(Limits limits, boolean commands) {
        this.limits = limits;
        this.commands = commands;
    }

    /** Forget a partial scan (after the buffer was consumed by someone else). */
    void reset() {
        segmentStart = 0;
        scanFrom = 0;
        literalEnd = -1;
        literals = 0;
    }

    Scan scan(InputBuffer in) {
        while (true) {
            if (literalEnd >= 0) {
                if (in.size() < literalEnd) {
                    return INCOMPLETE;
                }
                segmentStart = literalEnd;
                scanFrom = literalEnd;
                literalEnd = -1;
            }
            int lf = -1;
            for (int i = scanFrom; i < in.size(); i++) {
                if (in.get(i) == '\n') {
                    lf = i;
                    break;
                }
            }
            if (lf < 0) {
                scanFrom = in.size();
                if (in.size() - segmentStart >= limits.maxLineLength()) {
                    throw lineTooLong();
                }
                return INCOMPLETE;
            }
            if (lf + 1 - segmentStart > limits.maxLineLength()) {
                throw lineTooLong();
            }
            int end = lf > segmentStart && in.get(lf - 1) == '\r' ? lf - 1 : lf;
            long[] marker = segmentStart == 0 && !commands && singleLine(in, end) ? null : literalMarker(in, end);
            if (marker == null) {
                reset();
                return new Complete(lf + 1);
            }
            long size = marker[0];
            if (commands && marker[1] == 1) {
                // The octets are not sent before a "+": the negotiation never reads them, so no size limit
                // applies here; whoever sends the "+" (the application after handOver()) bounds them.
                reset();
                return new AwaitingLiteral(lf + 1, size);
            }
            if (size > limits.maxLiteralBytes()) {
                throw ImapParseException.limit("literal of " + size + " octets is larger than the limit of "
                        + limits.maxLiteralBytes() + " (Limits.maxLiteralBytes)");
            }
            if (++literals > limits.maxReplyLines()) {
                throw ImapParseException.limit("more than " + limits.maxReplyLines() + " literals in one "
                        + (commands ? "command" : "response") + " (Limits.maxReplyLines)");
            }
            literalEnd = lf + 1 + (int) size;
            scanFrom = literalEnd;
        }
    }

    private ImapParseException lineTooLong() {
        return ImapParseException.limit("line longer than " + limits.maxLineLength() + " bytes (Limits.maxLineLength)");
    }

    /** Whether the first line is a status response or a continuation, which never carries literals. */
    private static boolean singleLine(InputBuffer in, int end) {
        if (end > 0 && in.get(0) == '+') {
            return true;
        }
        int sp = -1;
        for (int i = 0; i < end; i++) {
            if (in.get(i) == ' ') {
                sp = i;
                break;
            }
        }
        if (sp < 0) {
            return true;
        }
        StringBuilder word = new StringBuilder();
        for (int i = sp + 1; i < end && i < sp + 9 && in.get(i) != ' '; i++) {
            word.append((char) (in.get(i) & 0xff));
        }
        return STATUS.contains(word.toString().toUpperCase(Locale.ROOT));
    }

    /**
     * The literal marker at the end of the line segment ending at {@code end}: {size, synchronizing ? 1 :
     * 0}, or null. The {@code {} must follow a space or {@code (} (optionally with {@code ~} between), as
     * a literal is a whole token.
     */
    private long[] literalMarker(InputBuffer in, int end) {
        int i = end - 1;
        if (i <= segmentStart || in.get(i) != '}') {
            return null;
        }
        i--;
        boolean synchronizing = true;
        if (i > segmentStart && in.get(i) == '+') {
            synchronizing = false;
            i--;
        }
        int digitsEnd = i + 1;
        while (i >= segmentStart && in.get(i) >= '0' && in.get(i) <= '9') {
            i--;
        }
        int digits = digitsEnd - (i + 1);
        if (digits == 0 || i < segmentStart || in.get(i) != '{') {
            return null;
        }
        i--;
        if (i >= segmentStart && in.get(i) == '~') {
            i--;
        }
        if (i < segmentStart || (in.get(i) != ' ' && in.get(i) != '(')) {
            return null;
        }
        if (digits > 10) {
            throw ImapParseException.limit("literal size with " + digits + " digits is larger than the limit of "
                    + limits.maxLiteralBytes() + " (Limits.maxLiteralBytes)");
        }
        long size = 0;
        for (int k = digitsEnd - digits; k < digitsEnd; k++) {
            size = size * 10 + (in.get(k) - '0');
        }
        return new long[] {size, synchronizing ? 1 : 0};
    }
}
