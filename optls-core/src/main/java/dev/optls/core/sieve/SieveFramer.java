package dev.optls.core.sieve;

import dev.optls.core.Limits;
import dev.optls.core.internal.InputBuffer;

/**
 * Finds where the next complete ManageSieve line ends in an {@link InputBuffer}, without consuming it. A
 * line that ends in a literal marker ({@code {n}} or {@code {n+}}) continues after exactly n octets
 * (RFC 5804 §4: literal-s2c and literal-c2s). ManageSieve has no continuation request for literals, so
 * both forms are read at once in either direction. Scanning resumes where it stopped, so input arriving a
 * byte at a time costs linear time.
 */
final class SieveFramer {
    static final int INCOMPLETE = -1;

    private final Limits limits;
    private int segmentStart;
    private int scanFrom;
    private int literalEnd = -1;
    private int literals;

    SieveFramer(Limits limits) {
        this.limits = limits;
    }

    /** Forget a partial scan (after the frame was consumed). */
    void reset() {
        segmentStart = 0;
        scanFrom = 0;
        literalEnd = -1;
        literals = 0;
    }

    /**
     * The length of the first complete frame in {@code in} (its final line end included), or {@link
     * #INCOMPLETE}.
     *
     * @throws SieveSyntaxException with LIMIT_EXCEEDED when a line or literal is over its limit
     */
    int scan(InputBuffer in) {
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
            long size = literalSize(in, end);
            if (size < 0) {
                int length = lf + 1;
                reset();
                return length;
            }
            if (size > limits.maxLiteralBytes()) {
                throw SieveSyntaxException.limit("literal of " + size + " octets is larger than the limit of "
                        + limits.maxLiteralBytes() + " (Limits.maxLiteralBytes)");
            }
            if (++literals > limits.maxReplyLines()) {
                throw SieveSyntaxException.limit(
                        "more than " + limits.maxReplyLines() + " literals in one line (Limits.maxReplyLines)");
            }
            literalEnd = lf + 1 + (int) size;
            scanFrom = literalEnd;
        }
    }

    private SieveSyntaxException lineTooLong() {
        return SieveSyntaxException.limit(
                "line longer than " + limits.maxLineLength() + " bytes (Limits.maxLineLength)");
    }

    /**
     * The size of the literal announced at the end of the segment ending at {@code end}, or -1. The
     * {@code {} must start a token: it follows a space, a {@code (}, or starts the line (a SASL response
     * or a GETSCRIPT reply is a bare literal).
     */
    private long literalSize(InputBuffer in, int end) {
        int i = end - 1;
        if (i <= segmentStart || in.get(i) != '}') {
            return -1;
        }
        i--;
        if (i > segmentStart && in.get(i) == '+') {
            i--;
        }
        int digitsEnd = i + 1;
        while (i >= segmentStart && in.get(i) >= '0' && in.get(i) <= '9') {
            i--;
        }
        int digits = digitsEnd - (i + 1);
        if (digits == 0 || i < segmentStart || in.get(i) != '{') {
            return -1;
        }
        if (i > segmentStart && in.get(i - 1) != ' ' && in.get(i - 1) != '(') {
            return -1;
        }
        if (digits > 10) {
            throw SieveSyntaxException.limit("literal size with " + digits + " digits is larger than the limit of "
                    + limits.maxLiteralBytes() + " (Limits.maxLiteralBytes)");
        }
        long size = 0;
        for (int k = digitsEnd - digits; k < digitsEnd; k++) {
            size = size * 10 + (in.get(k) - '0');
        }
        return size;
    }
}
