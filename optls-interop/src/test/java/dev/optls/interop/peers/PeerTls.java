package dev.optls.interop.peers;

/** How a peer daemon offers TLS on its plaintext ports, and whether it has implicit-TLS ports at all. */
public enum PeerTls {
    /** No TLS at all: STARTTLS/STLS is not advertised and there are no implicit-TLS ports. */
    NONE,
    /** Opportunistic: STARTTLS offered but not required (Postfix {@code may}, Dovecot {@code ssl = yes}). */
    OPTIONAL,
    /** STARTTLS required before mail or login (Postfix {@code encrypt}, Dovecot {@code ssl = required}). */
    REQUIRED;

    /** Whether the peer speaks TLS at all in this mode. */
    public boolean enabled() {
        return this != NONE;
    }
}
