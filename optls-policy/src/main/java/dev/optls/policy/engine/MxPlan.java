package dev.optls.policy.engine;

import dev.optls.policy.dane.DaneOutcome;
import dev.optls.policy.dane.TlsaRecord;
import dev.optls.policy.rpt.ReportPolicy;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What to do with one MX host of a destination.
 *
 * @param host the MX host name (lower case, no trailing dot)
 * @param preference the MX preference (0 for a domain that is its own host)
 * @param requirement what the host must offer; {@link Requirement#SKIP} means do not connect
 * @param serverName the SNI to send: the TLSA base domain under DANE (RFC 7672 §8.1), the host name otherwise
 * @param referenceNames the names the certificate may present: the DANE-TA names of RFC 7672 §3.2.2, the MX host
 *     for MTA-STS (RFC 8461 §4.2), the configured names for local {@code verify}; empty when not checked
 * @param tlsa the usable TLSA records to authenticate with under {@link Requirement#DANE}, empty otherwise
 * @param dane what the DANE lookup said about the host
 * @param reportPolicy the policy TLS-RPT sessions to this host are counted under (RFC 8460 §4.4)
 * @param reason why, in a sentence for people and logs
 */
public record MxPlan(
        String host,
        int preference,
        Requirement requirement,
        String serverName,
        List<String> referenceNames,
        List<TlsaRecord> tlsa,
        Optional<DaneOutcome> dane,
        ReportPolicy reportPolicy,
        String reason) {

    /** Copies the lists. */
    public MxPlan {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(requirement, "requirement");
        Objects.requireNonNull(serverName, "serverName");
        referenceNames = List.copyOf(referenceNames);
        tlsa = List.copyOf(tlsa);
        Objects.requireNonNull(dane, "dane");
        Objects.requireNonNull(reportPolicy, "reportPolicy");
        Objects.requireNonNull(reason, "reason");
        if (requirement == Requirement.DANE && tlsa.isEmpty()) {
            throw new IllegalArgumentException("DANE needs usable TLSA records");
        }
    }

    /** Whether mail may be sent to this host at all. */
    public boolean usable() {
        return requirement != Requirement.SKIP;
    }
}
