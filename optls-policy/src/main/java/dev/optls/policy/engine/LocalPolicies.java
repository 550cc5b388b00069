package dev.optls.policy.engine;

import dev.optls.policy.dns.DnsNames;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The local policy table: rules by exact destination domain ({@code example.com}) or for every subdomain
 * ({@code .example.com}, as in Postfix's {@code parent_domain_matches_subdomains}), the exact rule first, then the
 * closest parent; and rules for next hops that name their host ({@code [relay.example.com]:587}, a relay host or a
 * transport next hop), which match that host and port only, as Postfix matches such keys verbatim.
 */
public final class LocalPolicies {

    private final Map<String, LocalPolicy> exact;
    private final Map<String, LocalPolicy> subdomains;
    private final Map<Relay, LocalPolicy> relays;

    /**
     * A next hop that names its host, Postfix's {@code [host]:port}: a relay host or a transport next hop.
     *
     * @param host the host name (normalized: lower case, no trailing dot)
     * @param port its TCP port
     */
    public record Relay(String host, int port) {
        /** Normalizes the name; checks the port. */
        public Relay {
            host = normalize(host);
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("a TCP port is 1 to 65535, not " + port);
            }
        }

        @Override
        public String toString() {
            return "[" + host + "]:" + port;
        }
    }

    private LocalPolicies(
            Map<String, LocalPolicy> exact, Map<String, LocalPolicy> subdomains, Map<Relay, LocalPolicy> relays) {
        this.exact = Map.copyOf(exact);
        this.subdomains = Map.copyOf(subdomains);
        this.relays = Map.copyOf(relays);
    }

    /** An empty table. */
    public static LocalPolicies none() {
        return new LocalPolicies(Map.of(), Map.of(), Map.of());
    }

    /** A table from {@code rules}: keys are domains, or {@code .domain} for its subdomains. */
    public static LocalPolicies of(Map<String, LocalPolicy> rules) {
        return of(rules, Map.of());
    }

    /**
     * A table from domain rules ({@code rules}: keys are domains, or {@code .domain} for its subdomains) and rules
     * for relay hosts ({@code relayRules}), which match that host and port only.
     */
    public static LocalPolicies of(Map<String, LocalPolicy> rules, Map<Relay, LocalPolicy> relayRules) {
        Map<String, LocalPolicy> exact = new HashMap<>();
        Map<String, LocalPolicy> subdomains = new HashMap<>();
        rules.forEach((key, rule) -> {
            Objects.requireNonNull(rule, "rule");
            if (key.startsWith("[")) {
                throw new IllegalArgumentException(
                        "'" + key + "' names a host: give relay hosts as LocalPolicies.Relay in the second map");
            }
            if (key.startsWith(".")) {
                subdomains.put(normalize(key.substring(1)), rule);
            } else {
                exact.put(normalize(key), rule);
            }
        });
        relayRules.values().forEach(rule -> Objects.requireNonNull(rule, "rule"));
        return new LocalPolicies(exact, subdomains, relayRules);
    }

    /** The rule for the next hop {@code [host]:port}, if any: no parent domain or other port matches. */
    public Optional<LocalPolicy> forHost(String host, int port) {
        return Optional.ofNullable(relays.get(new Relay(host, port)));
    }

    /** The rule for {@code domain}, if any. */
    public Optional<LocalPolicy> forDomain(String domain) {
        String d = DnsNames.normalize(domain);
        LocalPolicy rule = exact.get(d);
        if (rule != null) {
            return Optional.of(rule);
        }
        for (int dot = d.indexOf('.'); dot >= 0; dot = d.indexOf('.', dot + 1)) {
            rule = subdomains.get(d.substring(dot + 1));
            if (rule != null) {
                return Optional.of(rule);
            }
        }
        return Optional.empty();
    }

    /** Whether the table has no rule. */
    public boolean isEmpty() {
        return exact.isEmpty() && subdomains.isEmpty() && relays.isEmpty();
    }

    private static String normalize(String domain) {
        String d = DnsNames.normalize(domain);
        if (d.isEmpty()) {
            throw new IllegalArgumentException("a local policy rule needs a domain, got '" + domain + "'");
        }
        return d;
    }
}
