package dev.optls.core;

/**
 * How much TLS a connection demands, ordered as Postfix's {@code smtp_tls_security_level}.
 *
 * <p>{@link #MAY} is opportunistic TLS: it falls back to plaintext only when the server does not offer
 * the upgrade (or refuses it), never after a failed handshake on the same connection. Every level from
 * {@link #ENCRYPT} up fails closed.
 */
public enum SecurityLevel {
    /** Never start TLS. */
    NONE,
    /** Opportunistic: use TLS when offered, continue in plaintext otherwise (RFC 3207 §4). */
    MAY,
    /** TLS required; the certificate is not checked (Postfix {@code encrypt}). */
    ENCRYPT,
    /** TLS required; the chain must validate and the name must match (Postfix {@code verify}). */
    VERIFY;

    /** Whether this level refuses to continue without TLS. */
    public boolean requiresTls() {
        return compareTo(ENCRYPT) >= 0;
    }

    /** Whether this level checks the certificate chain and the reference identity. */
    public boolean verifiesCertificate() {
        return this == VERIFY;
    }
}
