package dev.optls.policy.dns;

/** The resource record types optls looks up, with their IANA "Resource Record (RR) TYPEs" codes. */
public enum RecordType {
    /** RFC 1035: an IPv4 address. */
    A(1),
    /** RFC 1035: the canonical name of an alias. */
    CNAME(5),
    /** RFC 1035 / RFC 7505: a mail exchanger. */
    MX(15),
    /** RFC 1035: text strings (MTA-STS and TLS-RPT records). */
    TXT(16),
    /** RFC 3596: an IPv6 address. */
    AAAA(28),
    /** RFC 6698: a TLSA certificate association (DANE). */
    TLSA(52);

    private final int code;

    RecordType(int code) {
        this.code = code;
    }

    /** The IANA type code. */
    public int code() {
        return code;
    }
}
