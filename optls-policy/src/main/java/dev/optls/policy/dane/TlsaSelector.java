package dev.optls.policy.dane;

import java.util.Optional;

/** TLSA selectors (RFC 6698 §2.1.2, mnemonics from RFC 7218 §2.2). */
public enum TlsaSelector {
    /** 0: the full DER certificate. */
    CERT(0),
    /** 1: the DER SubjectPublicKeyInfo. */
    SPKI(1);

    private final int code;

    TlsaSelector(int code) {
        this.code = code;
    }

    /** The registry value. */
    public int code() {
        return code;
    }

    /** The selector with this registry value, or empty for an unassigned value. */
    public static Optional<TlsaSelector> fromCode(int code) {
        for (TlsaSelector selector : values()) {
            if (selector.code == code) {
                return Optional.of(selector);
            }
        }
        return Optional.empty();
    }

    /** RFC 7218 mnemonic. */
    public String mnemonic() {
        return name();
    }
}
