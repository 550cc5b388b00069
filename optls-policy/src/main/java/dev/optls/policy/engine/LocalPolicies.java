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
    /** Keyed {@code [host]:port}. */
    private final Map<String, LocalPolicy> hosts;

    private LocalPolicies(
            Map<String, LocalPolicy> exact, Map<String, LocalPolicy> subdomains, Map<String, LocalPolicy> hosts) {
        this.exact = Map.copyOf(exact);
        this.subdomains = Map.copyOf(subdomains);
        this.hosts = Map.copyOf(hosts);
    }

    /** An empty table. */
    public static LocalPolicies none() {
        return new LocalPolicies(Map.of(), Map.of(), Map.of());
    }

    /**
     * A table from {@code rules}: keys are domains, {@code .domain} for its subdomains, or {@code [host]:port} for a
     * next hop that names its host (the port as a number).
     */
    public static LocalPolicies of(Map<String, LocalPolicy> rules) {
        Map<String, LocalPolicy> exact = new HashMap<>();
        Map<String, LocalPolicy> subdomains = new HashMap<>();
        Map<String, LocalPolicy> hosts = new HashMap<>();
        rules.forEach((key, rule) -> {
            Objects.requireNonNull(rule, "rule");
            if (key.startsWith("[")) {
                hosts.put(hostKey(key), rule);
            } else if (key.startsWith(".")) {
                subdomains.put(normalize(key.substring(1)), rule);
            } else {
                exact.put(normalize(key), rule);
            }
        });
        return new LocalPolicies(exact, subdomains, hosts);
    }

    /** The rule for the next hop {@code [host]:port}, if any: no parent domain or other port matches. */
    public Optional<LocalPolicy> forHost(String host, int port) {
        return Optional.ofNullable(hosts.get("[" + DnsNames.normalize(host) + "]:" + port));
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
        return exact.isEmpty() && subdomains.isEmpty() && hosts.isEmpty();
    }

    /** {@code [host]:port} with the host normalized. */
    private static String hostKey(String key) {
        int close = key.lastIndexOf("]:");
        int port = -1;
        if (close > 0) {
            try {
                port = Integer.parseInt(key.substring(close + 2));
            } catch (NumberFormatException e) {
                port = -1;
            }
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(
                    "a local policy rule for a next hop is keyed [host]:port, e.g. [relay.example.com]:587; got '" + key
                            + "'");
        }
        return "[" + normalize(key.substring(1, close)) + "]:" + port;
    }

    private static String normalize(String domain) {
        String d = DnsNames.normalize(domain);
        if (d.isEmpty()) {
            throw new IllegalArgumentException("a local policy rule needs a domain, got '" + domain + "'");
        }
        return d;
    }
}
