package dev.optls.policy.engine;

/**
 * What a sending MTA must require of one MX host (reference §18, the outbound delivery decision table), strongest
 * first.
 */
public enum Requirement {
    /**
     * Do not connect to this host: a DANE lookup failed for it (RFC 7672 §2.1.2), or an MTA-STS policy in
     * {@code enforce} mode does not list it (RFC 8461 §4.1).
     */
    SKIP(true, true),
    /** RFC 7672 §2.2: STARTTLS, and the certificate must match a usable TLSA record. */
    DANE(true, true),
    /** RFC 7672 §2.2: secure TLSA records, all unusable: STARTTLS is mandatory, the certificate is not checked. */
    DANE_ENCRYPT(true, false),
    /** RFC 8461 §4.2 ({@code enforce}): STARTTLS, a PKIX chain to a trusted root and the MX host name. */
    STS_ENFORCE(true, true),
    /** Local policy {@code verify}: STARTTLS, a PKIX chain and one of the configured names. */
    LOCAL_VERIFY(true, true),
    /** Local policy {@code encrypt}: STARTTLS, the certificate is not checked. */
    LOCAL_ENCRYPT(true, false),
    /**
     * Opportunistic TLS (RFC 7435): STARTTLS when offered, plaintext otherwise. Under an MTA-STS policy in
     * {@code testing} mode the certificate is checked as for {@code enforce}, and failures are only reported (RFC
     * 8461 §5).
     */
    OPPORTUNISTIC(false, false);

    private final boolean tlsRequired;
    private final boolean authenticated;

    Requirement(boolean tlsRequired, boolean authenticated) {
        this.tlsRequired = tlsRequired;
        this.authenticated = authenticated;
    }

    /** Whether delivery to the host must not happen without TLS. */
    public boolean tlsRequired() {
        return tlsRequired;
    }

    /** Whether a certificate that does not check out must stop delivery to the host. */
    public boolean authenticated() {
        return authenticated;
    }
}
