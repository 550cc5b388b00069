package dev.optls.policy.dns;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The addresses of a host to connect to: its A, then its AAAA records (CNAMEs followed), at most a given number; or,
 * when there are none, why.
 *
 * @param addresses the addresses, A records first
 * @param problem why there are none (a failed lookup, NXDOMAIN, no records); empty when there are addresses
 */
public record HostAddresses(List<InetAddress> addresses, Optional<String> problem) {

    /** Copies the list. */
    public HostAddresses {
        addresses = List.copyOf(addresses);
        Objects.requireNonNull(problem, "problem");
    }

    /** Looks up the A, then the AAAA records of {@code host} through {@code dns}, keeping at most {@code max}. */
    public static HostAddresses lookup(DnsResolver dns, String host, int max) {
        List<InetAddress> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (RecordType type : List.of(RecordType.A, RecordType.AAAA)) {
            DnsAnswer<InetAddress> answer = dns.addresses(host, type);
            for (InetAddress address : answer.records()) {
                if (out.size() < max) {
                    out.add(address);
                }
            }
            if (answer instanceof DnsAnswer.Failed<InetAddress> f) {
                problems.add(type + " lookup failed (" + f.failure() + ": " + f.detail() + ")");
            } else if (answer instanceof DnsAnswer.NxDomain<InetAddress>) {
                problems.add(host + " does not exist (NXDOMAIN)");
                break;
            }
        }
        return new HostAddresses(
                out,
                out.isEmpty()
                        ? Optional.of(problems.isEmpty() ? "no A or AAAA records" : String.join("; ", problems))
                        : Optional.empty());
    }
}
