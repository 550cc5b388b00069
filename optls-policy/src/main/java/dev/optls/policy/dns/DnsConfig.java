package dev.optls.policy.dns;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where and how to ask: the recursive resolvers to query, a time limit for one whole lookup (every query of a
 * CNAME chain and of DNSSEC validation included), and size limits on what an answer may hold.
 *
 * @param servers recursive resolvers, tried in order; at least one
 * @param timeout the longest one lookup may take
 * @param maxRecords the most records of the asked type one answer may hold; more is {@link LookupFailure#TOO_LARGE}
 * @param maxCnameChain the most CNAMEs followed for one name; more is {@link LookupFailure#CNAME_CHAIN_TOO_LONG}
 */
public record DnsConfig(List<InetSocketAddress> servers, Duration timeout, int maxRecords, int maxCnameChain) {

    /** Default time limit for one lookup. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /** Default record limit: far above any real MX, TLSA or TXT RRset, far below what hurts. */
    public static final int DEFAULT_MAX_RECORDS = 64;

    /** Default CNAME limit (BIND and Unbound stop at about 8–16). */
    public static final int DEFAULT_MAX_CNAME_CHAIN = 8;

    /** Checks the limits and copies the server list. */
    public DnsConfig {
        servers = List.copyOf(servers);
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("at least one resolver address is needed");
        }
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new IllegalArgumentException("timeout must be positive and at most 5 minutes, got " + timeout);
        }
        if (maxRecords < 1 || maxRecords > 4096) {
            throw new IllegalArgumentException("maxRecords must be 1..4096, got " + maxRecords);
        }
        if (maxCnameChain < 0 || maxCnameChain > 32) {
            throw new IllegalArgumentException("maxCnameChain must be 0..32, got " + maxCnameChain);
        }
    }

    /** The given resolvers with the default limits. */
    public static DnsConfig of(InetSocketAddress... servers) {
        return new DnsConfig(List.of(servers), DEFAULT_TIMEOUT, DEFAULT_MAX_RECORDS, DEFAULT_MAX_CNAME_CHAIN);
    }

    /** This configuration with another time limit for one lookup. */
    public DnsConfig withTimeout(Duration newTimeout) {
        return new DnsConfig(servers, newTimeout, maxRecords, maxCnameChain);
    }

    /** This configuration with another record limit. */
    public DnsConfig withMaxRecords(int newMaxRecords) {
        return new DnsConfig(servers, timeout, newMaxRecords, maxCnameChain);
    }

    /** This configuration with another CNAME chain limit. */
    public DnsConfig withMaxCnameChain(int newMaxCnameChain) {
        return new DnsConfig(servers, timeout, maxRecords, newMaxCnameChain);
    }
}
