package dev.optls.policy.sts;

/** Fetches the MTA-STS policy of a policy domain (RFC 8461 §3.3). Implementations must be safe for concurrent use. */
@FunctionalInterface
public interface PolicyFetcher {

    /**
     * Fetches and parses the policy of {@code policyDomain} (A-labels); every failure is a {@link StsFetch.Failed}.
     *
     * @throws IllegalArgumentException if {@code policyDomain} is not a DNS name (a caller bug)
     */
    StsFetch fetch(String policyDomain);
}
