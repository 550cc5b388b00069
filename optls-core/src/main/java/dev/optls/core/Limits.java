package dev.optls.core;

/**
 * Bounds on everything a negotiation buffers. Hitting one is a {@link FailureKind#LIMIT_EXCEEDED}
 * failure, never an {@code OutOfMemoryError}.
 *
 * @param maxLineLength longest line accepted, CRLF included (RFC 5321 §4.5.3.1.5 says 512 for SMTP
 *     replies; real servers send longer, so the default is lenient)
 * @param maxReplyLines most lines in one multi-line reply or capability list
 * @param maxBufferedBytes most unconsumed input held at any time
 * @param maxLiteralBytes largest IMAP literal accepted during the negotiation
 * @param maxErrors most bad commands a server accepts before closing (Postfix {@code
 *     smtpd_hard_error_limit})
 */
public record Limits(int maxLineLength, int maxReplyLines, int maxBufferedBytes, int maxLiteralBytes, int maxErrors) {
    /** Defaults suited to real mail servers. */
    public static final Limits DEFAULT = new Limits(4096, 256, 64 * 1024, 16 * 1024, 20);

    public Limits {
        if (maxLineLength < 64
                || maxReplyLines < 1
                || maxBufferedBytes < maxLineLength
                || maxLiteralBytes < 0
                || maxErrors < 1) {
            throw new IllegalArgumentException("limits out of range: maxLineLength >= 64, maxReplyLines >= 1,"
                    + " maxBufferedBytes >= maxLineLength, maxLiteralBytes >= 0, maxErrors >= 1");
        }
    }
}
