package dev.optls.policy.sts;

import java.util.Objects;
import java.util.Optional;

/**
 * What a proactive refresh (RFC 8461 §5.1) did with one cached policy; see {@link MtaStsResolver#refreshDue}.
 *
 * @param policyDomain the policy domain
 * @param outcome what happened to its cache entry
 * @param entry the cache entry afterwards: the new one if refreshed, else the one kept
 * @param reason what happened, for the log (RFC 8461 §5.1: MTAs SHOULD alert administrators when a refresh fails,
 *     unless the cached policy's mode is {@code none})
 * @param fetchFailure the failed fetch, when the outcome is {@link Outcome#FETCH_FAILED}
 */
public record StsRefresh(
        String policyDomain,
        Outcome outcome,
        CachedPolicy entry,
        String reason,
        Optional<StsFetch.Failed> fetchFailure) {

    /** What happened to the cache entry. */
    public enum Outcome {
        /** The policy was fetched again and the entry replaced: a new fetch time and expiry, maybe a new id. */
        REFRESHED,
        /** The TXT record had an id, the fetch failed: the cached entry is kept until it expires. */
        FETCH_FAILED,
        /** No usable TXT record (absent, invalid, several, lookup failed): the cached entry is kept, RFC 8461 §3.1. */
        NO_RECORD
    }

    /** Checks the values. */
    public StsRefresh {
        Objects.requireNonNull(policyDomain, "policyDomain");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(entry, "entry");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(fetchFailure, "fetchFailure");
        if (fetchFailure.isPresent() != (outcome == Outcome.FETCH_FAILED)) {
            throw new IllegalArgumentException("a fetch failure goes with FETCH_FAILED only, not " + outcome);
        }
    }

    /**
     * Whether an administrator should hear of it: a refresh that did not happen for a policy whose mode is not
     * {@code none} (RFC 8461 §5.1).
     */
    public boolean shouldAlert() {
        return outcome != Outcome.REFRESHED && entry.policy().mode() != StsMode.NONE;
    }
}
