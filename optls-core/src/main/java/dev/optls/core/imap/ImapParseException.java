package dev.optls.core.imap;

import dev.optls.core.FailureKind;
import java.util.Optional;

/**
 * The peer sent something that is not valid IMAP ({@link FailureKind#MALFORMED}) or goes over a limit
 * ({@link FailureKind#LIMIT_EXCEEDED}).
 */
public final class ImapParseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final FailureKind kind;
    private final String tag;

    ImapParseException(FailureKind kind, String detail) {
        this(kind, detail, null);
    }

    ImapParseException(FailureKind kind, String detail, String tag) {
        super(detail, null, false, false);
        this.kind = kind;
        this.tag = tag;
    }

    /** {@link FailureKind#MALFORMED} or {@link FailureKind#LIMIT_EXCEEDED}. */
    public FailureKind kind() {
        return kind;
    }

    /** The tag of the offending command when it could be read (server side), for a tagged {@code BAD}. */
    public Optional<String> tag() {
        return Optional.ofNullable(tag);
    }

    ImapParseException withTag(String commandTag) {
        return new ImapParseException(kind, getMessage(), commandTag);
    }

    static ImapParseException malformed(String detail) {
        return new ImapParseException(FailureKind.MALFORMED, detail);
    }

    static ImapParseException limit(String detail) {
        return new ImapParseException(FailureKind.LIMIT_EXCEEDED, detail);
    }
}
