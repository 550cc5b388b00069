package dev.optls.policy.engine;

import java.util.List;
import java.util.Objects;

/**
 * A locally configured requirement for a destination (Postfix's {@code smtp_tls_policy_maps} entries, Exim's
 * {@code hosts_require_tls}). It applies when neither DANE nor an MTA-STS policy in {@code enforce} mode does, except
 * {@link Level#DANE_ONLY}, which is a requirement on DANE itself.
 *
 * @param level what to require
 * @param matchNames for {@link Level#VERIFY}, the names the certificate may present (lower case); empty means the MX
 *     host name itself
 */
public record LocalPolicy(Level level, List<String> matchNames) {

    /** Local levels, named as Postfix names them. */
    public enum Level {
        /** Opportunistic TLS; the default without a rule. */
        MAY,
        /** TLS required, certificate not checked. */
        ENCRYPT,
        /** TLS required with a PKIX chain and a matching name. */
        VERIFY,
        /**
         * DANE required by local agreement (Postfix's {@code dane-only}; RFC 8460 §4.3.2.1 {@code dane-required}): an
         * MX host without DNSSEC-validated TLSA records is not used, whatever MTA-STS says.
         */
        DANE_ONLY
    }

    /** Copies the names. */
    public LocalPolicy {
        Objects.requireNonNull(level, "level");
        matchNames = List.copyOf(matchNames);
        if (level != Level.VERIFY && !matchNames.isEmpty()) {
            throw new IllegalArgumentException("names to match are only meaningful at level verify");
        }
    }

    /** A rule at {@code level} without names. */
    public static LocalPolicy of(Level level) {
        return new LocalPolicy(level, List.of());
    }
}
