package dev.optls.policy.dns;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of one lookup: records, NXDOMAIN, NODATA, or a failure, each with its DNSSEC status. The four are
 * distinct because DANE decides differently on each (RFC 7672 §2.1.1–2.1.2): a secure NXDOMAIN or NODATA means
 * "no TLSA records", a failure means "do not use this server".
 *
 * @param <T> the record type ({@link MxRecord}, {@link java.net.InetAddress}, {@link String} for TXT and CNAME,
 *     {@link RecordData} for TLSA)
 */
public sealed interface DnsAnswer<T> permits DnsAnswer.Records, DnsAnswer.NxDomain, DnsAnswer.NoData, DnsAnswer.Failed {

    /** The name that was asked for (normalised: lower case, no trailing dot). */
    String name();

    /** The record type asked for. */
    RecordType type();

    /**
     * The CNAME chain followed from {@link #name()}: empty without aliases, otherwise every target in order (the
     * last one is the canonical name the records belong to).
     */
    List<String> cnameChain();

    /** The DNSSEC status of the whole answer: the weakest status of every response it was assembled from. */
    DnssecStatus status();

    /** The name the answer is about: the last CNAME target, or {@link #name()} without aliases. */
    default String canonicalName() {
        List<String> chain = cnameChain();
        return chain.isEmpty() ? name() : chain.get(chain.size() - 1);
    }

    /** Whether the status is {@link DnssecStatus#SECURE}. */
    default boolean isSecure() {
        return status() == DnssecStatus.SECURE;
    }

    /** The records, if this answer has any; an empty list otherwise. */
    default List<T> records() {
        return List.of();
    }

    /** One or more records of the asked type at {@link #canonicalName()}. */
    record Records<T>(String name, RecordType type, List<String> cnameChain, DnssecStatus status, List<T> records)
            implements DnsAnswer<T> {
        /** Copies the lists; {@code records} must not be empty and the status must be secure or insecure. */
        public Records {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            cnameChain = List.copyOf(cnameChain);
            records = List.copyOf(records);
            requireDecided(status);
            if (records.isEmpty()) {
                throw new IllegalArgumentException("an answer with records needs at least one (use NoData)");
            }
        }
    }

    /** RCODE NXDOMAIN (RFC 1035 §4.1.1, RFC 8020): {@link #canonicalName()} does not exist. */
    record NxDomain<T>(String name, RecordType type, List<String> cnameChain, DnssecStatus status)
            implements DnsAnswer<T> {
        /** Copies the chain; the status must be secure or insecure. */
        public NxDomain {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            cnameChain = List.copyOf(cnameChain);
            requireDecided(status);
        }
    }

    /** RFC 2308 §2.2 NODATA: {@link #canonicalName()} exists but has no records of the asked type. */
    record NoData<T>(String name, RecordType type, List<String> cnameChain, DnssecStatus status)
            implements DnsAnswer<T> {
        /** Copies the chain; the status must be secure or insecure. */
        public NoData {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            cnameChain = List.copyOf(cnameChain);
            requireDecided(status);
        }
    }

    /**
     * No usable answer: SERVFAIL, timeout, a DNSSEC validation failure ({@link DnssecStatus#BOGUS}), a broken
     * response. The status is {@link DnssecStatus#BOGUS} or {@link DnssecStatus#INDETERMINATE}.
     */
    record Failed<T>(
            String name,
            RecordType type,
            List<String> cnameChain,
            DnssecStatus status,
            LookupFailure failure,
            String detail)
            implements DnsAnswer<T> {
        /** Copies the chain; the status must be bogus or indeterminate. */
        public Failed {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(failure, "failure");
            Objects.requireNonNull(detail, "detail");
            cnameChain = List.copyOf(cnameChain);
            if (status != DnssecStatus.BOGUS && status != DnssecStatus.INDETERMINATE) {
                throw new IllegalArgumentException("a failed lookup is bogus or indeterminate, not " + status);
            }
        }
    }

    private static void requireDecided(DnssecStatus status) {
        if (status != DnssecStatus.SECURE && status != DnssecStatus.INSECURE) {
            throw new IllegalArgumentException("only a failed lookup can be " + status + " (use Failed)");
        }
    }
}
