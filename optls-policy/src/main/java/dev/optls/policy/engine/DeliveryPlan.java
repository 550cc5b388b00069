package dev.optls.policy.engine;

import dev.optls.policy.sts.StsDecision;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a sending MTA must do for one destination domain: the MX hosts to try, in order, each with its requirement.
 *
 * @param domain the destination (next-hop) domain, lower case
 * @param status whether there are hosts to try, or why not
 * @param source the mechanism that decided (DANE over MTA-STS over local policy)
 * @param hosts every MX host considered, in preference order, including those to {@link Requirement#SKIP skip}
 * @param sts what MTA-STS said, when it was consulted (it is not when DANE covers every host)
 * @param local the local rule for the domain, if any
 * @param reason the verdict in a sentence
 */
public record DeliveryPlan(
        String domain,
        Status status,
        PolicySource source,
        List<MxPlan> hosts,
        Optional<StsDecision> sts,
        Optional<LocalPolicy> local,
        String reason) {

    /** Whether mail can go anywhere. */
    public enum Status {
        /** At least one host may be tried. */
        DELIVER,
        /** Hosts exist but none may be used under the policy: defer (a temporary failure). */
        NO_USABLE_HOST,
        /** The MX lookup failed (SERVFAIL, timeout, bogus): defer, RFC 7672 §2.2.1 / RFC 5321 §5.1. */
        TEMPORARY_FAILURE,
        /** The domain does not exist (NXDOMAIN): bounce. */
        NO_SUCH_DOMAIN,
        /** RFC 7505: the domain accepts no mail (a null MX): bounce. */
        NULL_MX
    }

    /** Copies the hosts. */
    public DeliveryPlan {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(source, "source");
        hosts = List.copyOf(hosts);
        Objects.requireNonNull(sts, "sts");
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(reason, "reason");
    }

    /** The hosts that may be tried, in order. */
    public List<MxPlan> usableHosts() {
        return hosts.stream().filter(MxPlan::usable).toList();
    }

    /** The MTA-STS policy that applies, if one does ({@code enforce} or {@code testing}). */
    public Optional<StsDecision.Apply> stsPolicy() {
        return sts.filter(StsDecision.Apply.class::isInstance).map(StsDecision.Apply.class::cast);
    }
}
