package dev.optls.policy.dns;

/**
 * The DNSSEC security status of an answer, as RFC 4035 §4.3 defines the four states.
 *
 * <p>Only {@link #SECURE} answers may carry DANE (RFC 7672 §2.1.1); {@link #BOGUS} and {@link #INDETERMINATE}
 * answers come with a {@link DnsAnswer.Failed} outcome and must not be used at all.
 */
public enum DnssecStatus {
    /** RFC 4035 §4.3: a chain of signed DNSKEY and DS records from a trust anchor validates the answer. */
    SECURE,
    /** RFC 4035 §4.3: signed proof that there is no chain of trust (an unsigned delegation). */
    INSECURE,
    /** RFC 4035 §4.3: a chain of trust should exist but validation failed (bad or expired signature, wrong key). */
    BOGUS,
    /** The status is unknown: the lookup failed before it could be decided (SERVFAIL, timeout). */
    INDETERMINATE;

    /** The weaker of two statuses, for answers assembled from several responses (a CNAME chain). */
    public DnssecStatus weakest(DnssecStatus other) {
        return this.ordinal() >= other.ordinal() ? this : other;
    }
}
