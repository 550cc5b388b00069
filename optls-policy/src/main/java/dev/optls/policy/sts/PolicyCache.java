package dev.optls.policy.sts;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The MTA-STS policy cache (RFC 8461 §5.1), keyed by policy domain. Entries are replaced whole; expired entries may
 * be returned and are ignored by {@link MtaStsResolver} (a store may purge them whenever it likes). Implementations
 * must be safe for concurrent use: {@link InMemoryPolicyCache}, persistent (SQLite
 * {@link SqlitePolicyCache}) and shared (Redis, {@link RedisPolicyCache}) stores implement the same operations,
 * storing {@link CachedPolicy#policy()} as its text. A store that cannot be used throws
 * {@link PolicyCacheException}.
 */
public interface PolicyCache {

    /** The entry of {@code policyDomain} (normalised: lower case, no trailing dot), if any. */
    Optional<CachedPolicy> get(String policyDomain);

    /** Stores {@code entry} under its policy domain, replacing any previous entry. */
    void put(CachedPolicy entry);

    /** Removes the entry of {@code policyDomain}, if any. */
    void remove(String policyDomain);

    /**
     * Every entry whose policy expires before {@code cutoff}, expired ones included (a store that drops expired
     * entries by itself, like Redis, returns fewer): the candidates for a proactive refresh (RFC 8461 §5.1).
     */
    List<CachedPolicy> expiringBefore(Instant cutoff);
}
