package dev.optls.core.sieve;

import dev.optls.core.FailureKind;

/** A ManageSieve line that does not parse ({@link FailureKind#MALFORMED}) or is over a limit. */
final class SieveSyntaxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final FailureKind kind;

    private SieveSyntaxException(FailureKind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    static SieveSyntaxException malformed(String message) {
        return new SieveSyntaxException(FailureKind.MALFORMED, message);
    }

    static SieveSyntaxException limit(String message) {
        return new SieveSyntaxException(FailureKind.LIMIT_EXCEEDED, message);
    }

    FailureKind kind() {
        return kind;
    }
}
