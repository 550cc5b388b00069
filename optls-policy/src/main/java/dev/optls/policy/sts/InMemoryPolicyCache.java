package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsNames;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** A {@link PolicyCache} in a concurrent map: lost on restart, not shared between processes. */
public final class InMemoryPolicyCache implements PolicyCache {

    private final ConcurrentMap<String, CachedPolicy> entries = new ConcurrentHashMap<>();

    @Override
    public Optional<CachedPolicy> get(String policyDomain) {
        return Optional.ofNullable(entries.get(DnsNames.normalize(policyDomain)));
    }

    @Override
    public void put(CachedPolicy entry) {
        entries.put(entry.policyDomain(), entry);
    }

    @Override
    public void remove(String policyDomain) {
        entries.remove(DnsNames.normalize(policyDomain));
    }

    @Override
    public List<CachedPolicy> expiringBefore(Instant cutoff) {
        return entries.values().stream()
                .filter(e -> e.expiresAt().isBefore(cutoff))
                .toList();
    }

    /** Removes every entry that no longer applies at {@code now}; returns how many were removed. */
    public int purgeExpired(Instant now) {
        int before = entries.size();
        entries.values().removeIf(e -> !e.isValidAt(now));
        return Math.max(0, before - entries.size());
    }

    /** The number of entries, expired ones included. */
    public int size() {
        return entries.size();
    }
}
