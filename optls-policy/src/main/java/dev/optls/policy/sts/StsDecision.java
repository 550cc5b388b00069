package dev.optls.policy.sts;

import java.util.Objects;
import java.util.Optional;

/**
 * What MTA-STS says about a policy domain at one moment (RFC 8461 §5): a policy to apply ({@code enforce} or
 * {@code testing}), or none. Either may carry the fetch failure that happened on the way, for TLS-RPT.
 */
public sealed interface StsDecision permits StsDecision.Apply, StsDecision.NoPolicy {

    /** For people and logs: why this decision. */
    String reason();

    /** The failed fetch behind this decision, if a fetch was tried and failed (report it with TLS-RPT). */
    Optional<StsFetch.Failed> fetchFailure();

    /** Where an applied policy came from. */
    enum Basis {
        /** Fetched just now (no cached policy, or the TXT id changed). */
        FETCHED,
        /** The cached policy, whose id the TXT record still announces. */
        CACHED_SAME_ID,
        /** RFC 8461 §3.3: the fetch failed, so the valid cached policy still applies. */
        CACHED_FETCH_FAILED,
        /** RFC 8461 §3.1, §3.3: no usable TXT record (absent, invalid, several, lookup failed); the cached policy applies. */
        CACHED_NO_RECORD
    }

    /**
     * Apply this policy: {@link StsMode#ENFORCE} refuses MX hosts that do not match or fail TLS validation, {@link
     * StsMode#TESTING} reports them (RFC 8461 §5).
     */
    record Apply(CachedPolicy policy, Basis basis, String reason, Optional<StsFetch.Failed> fetchFailure)
            implements StsDecision {
        /** Requires a policy in mode enforce or testing. */
        public Apply {
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(basis, "basis");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(fetchFailure, "fetchFailure");
            if (policy.policy().mode() == StsMode.NONE) {
                throw new IllegalArgumentException("a policy in mode none is not applied (use NoPolicy)");
            }
        }

        /** The mode of the policy: enforce or testing. */
        public StsMode mode() {
            return policy.policy().mode();
        }

        /** Whether the policy lets mail go to {@code mxHost} (RFC 8461 §4.1: it matches an {@code mx} pattern). */
        public boolean allows(String mxHost) {
            return policy.policy().matches(mxHost);
        }
    }

    /**
     * No MTA-STS policy applies: deliver "as though the domain has not implemented MTA-STS" (RFC 8461 §3.3), or the
     * policy is in mode {@code none}.
     */
    record NoPolicy(String reason, Optional<StsFetch.Failed> fetchFailure) implements StsDecision {
        /** Requires a reason. */
        public NoPolicy {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(fetchFailure, "fetchFailure");
        }
    }
}
