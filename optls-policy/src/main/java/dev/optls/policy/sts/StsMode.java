package dev.optls.policy.sts;

import java.util.Optional;

/** The {@code mode} of an MTA-STS policy (RFC 8461 §3.2, §5). */
public enum StsMode {
    /** RFC 8461 §5: do not deliver to an MX that does not match the policy or fails TLS validation. */
    ENFORCE("enforce"),
    /** RFC 8461 §5: deliver anyway, but report failures with TLS-RPT (RFC 8460). */
    TESTING("testing"),
    /** RFC 8461 §5: treat the domain as having no active policy. */
    NONE("none");

    private final String wireName;

    StsMode(String wireName) {
        this.wireName = wireName;
    }

    /** The value in the policy file ({@code enforce}, {@code testing}, {@code none}). */
    public String wireName() {
        return wireName;
    }

    /** The mode spelled exactly {@code value} (case-sensitive, RFC 8461 §3.2 ABNF {@code %s}). */
    public static Optional<StsMode> fromWireName(String value) {
        for (StsMode mode : values()) {
            if (mode.wireName.equals(value)) {
                return Optional.of(mode);
            }
        }
        return Optional.empty();
    }
}
