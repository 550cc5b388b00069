package dev.optls.policy.sts;

import java.util.Optional;

/**
 * The MTA-STS policy cache (RFC 8461 §5.1), keyed by policy domain. Entries are replaced whole; expired entries may
 * be returned and are ignored by {@link MtaStsResolver} (a store may purge them whenever it likes). Implementations
 * must be safe for concurrent use: {@link InMemoryPolicyCache} now; persistent (SQLite) and shared (Redis) stores
 * implement the same three operations, storing {@link CachedPolicy#policy()} as its text.
 */
public interface PolicyCache {

    /** The entry of {@code policyDomain} (normalised: lower case, no trailing dot), if any. */
    Optional<CachedPolicy> get(String policyDomain);

    /** Stores {@code entry} under its policy domain, replacing any previous entry. */
    void put(CachedPolicy entry);

    /** Removes the entry of {@code policyDomain}, if any. */
    void remove(String policyDomain);
}
