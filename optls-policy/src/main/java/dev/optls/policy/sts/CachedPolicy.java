package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsNames;
import java.time.Instant;
import java.util.Objects;

/**
 * One cache entry (RFC 8461 §5.1): the policy of a policy domain with the id of the TXT record it was fetched under,
 * when it was fetched and until when it may be applied ({@code fetchedAt + max_age}). Everything a persistent
 * store needs: the policy is kept as its {@link StsPolicy#text() text} and can be parsed again.
 *
 * @param policyDomain the cache key: the policy domain, lower case, no trailing dot
 * @param id the {@code id} of the {@code _mta-sts} TXT record the policy was fetched under
 * @param policy the policy
 * @param fetchedAt when it was fetched
 * @param expiresAt the first instant at which it no longer applies
 */
public record CachedPolicy(String policyDomain, String id, StsPolicy policy, Instant fetchedAt, Instant expiresAt) {

    /** Normalises the domain and checks the values. */
    public CachedPolicy {
        policyDomain = DnsNames.normalize(Objects.requireNonNull(policyDomain, "policyDomain"));
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(fetchedAt, "fetchedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (!StsRecord.isValidId(id)) {
            throw new IllegalArgumentException("not an MTA-STS id: '" + id + "'");
        }
        if (expiresAt.isBefore(fetchedAt)) {
            throw new IllegalArgumentException(
                    "a policy cannot expire (" + expiresAt + ") before it was fetched (" + fetchedAt + ")");
        }
    }

    /** An entry for a policy fetched at {@code fetchedAt}, expiring {@code max_age} seconds later (RFC 8461 §3.2). */
    public static CachedPolicy fetched(String policyDomain, String id, StsPolicy policy, Instant fetchedAt) {
        return new CachedPolicy(policyDomain, id, policy, fetchedAt, fetchedAt.plusSeconds(policy.maxAgeSeconds()));
    }

    /** Whether the policy still applies at {@code now} (RFC 8461 §3.3, §5.1: a valid, non-expired policy). */
    public boolean isValidAt(Instant now) {
        return now.isBefore(expiresAt);
    }
}
