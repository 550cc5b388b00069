package dev.optls.policy.dane;

import java.util.Optional;

/** TLSA certificate usages (RFC 6698 §2.1.1, mnemonics from RFC 7218 §2.1). */
public enum TlsaUsage {
    /** 0: a CA that must also be trusted by PKIX. Unusable for SMTP (RFC 7672 §3.1.3). */
    PKIX_TA(0),
    /** 1: the server certificate, which must also pass PKIX. Unusable for SMTP (RFC 7672 §3.1.3). */
    PKIX_EE(1),
    /** 2: a trust anchor for the server's chain, PKIX trust not needed (RFC 7672 §3.1.2). */
    DANE_TA(2),
    /** 3: the server certificate or key itself (RFC 7672 §3.1.1). */
    DANE_EE(3);

    private final int code;

    TlsaUsage(int code) {
        this.code = code;
    }

    /** The registry value. */
    public int code() {
        return code;
    }

    /** The usage with this registry value, or empty for an unassigned value. */
    public static Optional<TlsaUsage> fromCode(int code) {
        for (TlsaUsage usage : values()) {
            if (usage.code == code) {
                return Optional.of(usage);
            }
        }
        return Optional.empty();
    }

    /** RFC 7218 mnemonic, e.g. {@code DANE-EE}. */
    public String mnemonic() {
        return name().replace('_', '-');
    }
}
