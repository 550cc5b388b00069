package dev.optls.policy.dane;

import java.util.Optional;

/** TLSA matching types (RFC 6698 §2.1.3, mnemonics from RFC 7218 §2.3). */
public enum TlsaMatchingType {
    /** 0: the selected content itself, compared byte for byte. */
    FULL(0, -1, null),
    /** 1: SHA-256 of the selected content (32 bytes). */
    SHA2_256(1, 32, "SHA-256"),
    /** 2: SHA-512 of the selected content (64 bytes). */
    SHA2_512(2, 64, "SHA-512");

    private final int code;
    private final int digestLength;
    private final String algorithm;

    TlsaMatchingType(int code, int digestLength, String algorithm) {
        this.code = code;
        this.digestLength = digestLength;
        this.algorithm = algorithm;
    }

    /** The registry value. */
    public int code() {
        return code;
    }

    /** The digest length in bytes, or -1 for {@link #FULL}. */
    public int digestLength() {
        return digestLength;
    }

    /** The JCA digest algorithm, or empty for {@link #FULL}. */
    public Optional<String> algorithm() {
        return Optional.ofNullable(algorithm);
    }

    /** The matching type with this registry value, or empty for an unassigned value. */
    public static Optional<TlsaMatchingType> fromCode(int code) {
        for (TlsaMatchingType type : values()) {
            if (type.code == code) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }

    /** RFC 7218 mnemonic, e.g. {@code SHA2-256}. */
    public String mnemonic() {
        return name().replace('_', '-');
    }
}
