package dev.optls.policy.rpt;

/** The {@code policy-type} of a TLS-RPT report entry (RFC 8460 §4.4). */
public enum PolicyType {
    /** A DANE TLSA policy (RFC 7672). */
    TLSA("tlsa"),
    /** An MTA-STS policy (RFC 8461). */
    STS("sts"),
    /** Neither applied: the sessions were opportunistic. */
    NO_POLICY_FOUND("no-policy-found");

    private final String wireName;

    PolicyType(String wireName) {
        this.wireName = wireName;
    }

    /** The name in the report, e.g. {@code no-policy-found}. */
    public String wireName() {
        return wireName;
    }

    /** The type with this wire name, or {@code null} when there is none. */
    public static PolicyType fromWireName(String name) {
        for (PolicyType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        return null;
    }
}
