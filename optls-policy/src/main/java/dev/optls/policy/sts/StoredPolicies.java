package dev.optls.policy.sts;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Turning a stored row or hash back into a {@link CachedPolicy}, for the persistent stores. */
final class StoredPolicies {

    private StoredPolicies() {}

    /**
     * The entry stored as these texts; {@code where} names the store in the message if they do not make an entry.
     *
     * @throws PolicyCacheException if the stored values are not a cache entry
     */
    static CachedPolicy entry(
            String where, String domain, String id, String policyText, String fetchedAt, String expiresAt) {
        if (id == null || policyText == null || fetchedAt == null || expiresAt == null) {
            throw new PolicyCacheException(where + ": the entry of " + domain
                    + " lacks a field (id, policy, fetched_at, expires_at); remove it or clear the cache");
        }
        StsPolicyParse parse = StsPolicy.parse(policyText);
        if (parse instanceof StsPolicyParse.Invalid invalid) {
            throw new PolicyCacheException(where + ": the stored policy of " + domain + " does not parse ("
                    + invalid.reason() + "); remove the entry or clear the cache");
        }
        StsPolicy policy = ((StsPolicyParse.Parsed) parse).policy();
        try {
            return new CachedPolicy(domain, id, policy, Instant.parse(fetchedAt), Instant.parse(expiresAt));
        } catch (DateTimeParseException | IllegalArgumentException e) {
            throw new PolicyCacheException(
                    where + ": the entry of " + domain + " is not valid (" + e.getMessage()
                            + "); remove the entry or clear the cache",
                    e);
        }
    }
}
