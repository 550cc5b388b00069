package dev.optls.core.internal;

import dev.optls.core.Failure;

/** Thrown inside a dialect to end the negotiation with a {@link Failure}; never escapes {@code poll()}. */
public final class NegotiationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Failure failure;

    public NegotiationException(Failure failure) {
        super(failure.detail(), null, false, false);
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }
}
