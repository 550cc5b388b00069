package dev.optls.policy.dns;

/** Why a lookup gave no usable answer (RFC 7672 §2.1.2: such an answer must not be treated as "no records"). */
public enum LookupFailure {
    /** The resolver answered SERVFAIL without saying it was a DNSSEC failure. */
    SERVFAIL,
    /** DNSSEC validation failed: the answer is {@link DnssecStatus#BOGUS}. */
    DNSSEC_BOGUS,
    /** No answer within the configured timeout. */
    TIMEOUT,
    /** The resolver refused the query (RCODE REFUSED): it does not serve us. */
    REFUSED,
    /** The resolver could not be reached or the exchange broke (I/O error). */
    NETWORK,
    /** The response could not be used: another RCODE, or records that do not parse. */
    MALFORMED,
    /** The answer has more records than the configured limit. */
    TOO_LARGE,
    /** A CNAME chain loops back on itself. */
    CNAME_LOOP,
    /** A CNAME chain is longer than the configured limit. */
    CNAME_CHAIN_TOO_LONG
}
