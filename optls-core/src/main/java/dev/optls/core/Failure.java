package dev.optls.core;

import java.util.Objects;

/**
 * A failure that ends (or downgrades) a negotiation: who is at fault, what went wrong, where, and a
 * message a person can act on.
 *
 * @param blame who is at fault
 * @param kind what went wrong
 * @param phase where in the connection it happened
 * @param detail what happened and, where useful, what to change
 * @param temporary whether retrying later may help (SMTP 4xx, {@code [SYS/TEMP]})
 */
public record Failure(Blame blame, FailureKind kind, Phase phase, String detail, boolean temporary) {
    public Failure {
        Objects.requireNonNull(blame, "blame");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(detail, "detail");
    }

    /** A permanent failure caused by the peer. */
    public static Failure peer(FailureKind kind, Phase phase, String detail) {
        return new Failure(Blame.PEER, kind, phase, detail, false);
    }

    /** A failure because local policy demands more than the peer gave. */
    public static Failure policy(FailureKind kind, Phase phase, String detail) {
        return new Failure(Blame.POLICY, kind, phase, detail, false);
    }

    /** The same failure, marked temporary or not. */
    public Failure withTemporary(boolean isTemporary) {
        return new Failure(blame, kind, phase, detail, isTemporary);
    }

    /** The same failure, blamed on local policy (used when a refusal is fatal only because TLS is required). */
    public Failure asPolicy() {
        return new Failure(Blame.POLICY, kind, phase, detail, temporary);
    }

    @Override
    public String toString() {
        return kind.wireName() + " (" + blame.name().toLowerCase(java.util.Locale.ROOT) + ", "
                + phase.name().toLowerCase(java.util.Locale.ROOT) + "): " + detail;
    }
}
