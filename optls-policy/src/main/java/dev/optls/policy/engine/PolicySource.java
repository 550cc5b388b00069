package dev.optls.policy.engine;

/** Which mechanism decided a destination's policy; DANE ranks above MTA-STS, MTA-STS above local policy. */
public enum PolicySource {
    /** RFC 7672: at least one MX host has DNSSEC-secure TLSA records (or failed a DANE lookup). */
    DANE,
    /** RFC 8461: an MTA-STS policy in {@code enforce} mode. */
    MTA_STS_ENFORCE,
    /** RFC 8461: an MTA-STS policy in {@code testing} mode (report, do not block). */
    MTA_STS_TESTING,
    /** A rule in the local policy table. */
    LOCAL,
    /** No policy: opportunistic TLS. */
    NONE
}
