package dev.optls.tls;

import java.util.Objects;

/**
 * The outcome of checking a server certificate: does the chain lead to a trust anchor, and does the leaf
 * present the reference identity. Computed at every security level; enforced only at
 * {@link dev.optls.core.SecurityLevel#VERIFY}.
 *
 * @param chainValid the chain validates (PKIX, RFC 5280) against the configured trust anchors
 * @param nameMatches the leaf presents the reference identity (RFC 9525 / RFC 7817)
 * @param reason what a person can act on, e.g. {@code certificate expired on 2026-01-01} or
 *     {@code name mx.example does not match the certificate's DNS names [a.example]}
 */
public record Verification(boolean chainValid, boolean nameMatches, String reason) {
    public Verification {
        Objects.requireNonNull(reason, "reason");
    }

    /** Chain and name both verified. */
    public boolean valid() {
        return chainValid && nameMatches;
    }
}
