package dev.optls.policy.engine;

import dev.optls.policy.dns.DnsNames;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The local policy table: rules by exact destination domain ({@code example.com}) or for every subdomain
 * ({@code .example.com}, as in Postfix's {@code parent_domain_matches_subdomains}), the exact rule first, then the
 * closest parent.
 */
public final class LocalPolicies {

    private final Map<String, LocalPolicy> exact;
    private final Map<String, LocalPolicy> subdomains;

    private LocalPolicies(Map<String, LocalPolicy> exact, Map<String, LocalPolicy> subdomains) {
        this.exact = Map.copyOf(exact);
        this.subdomains = Map.copyOf(subdomains);
    }

    /** An empty table. */
    public static LocalPolicies none() {
        return new LocalPolicies(Map.of(), Map.of());
    }

    /** A table from {@code rules}: keys are domains, or {@code .domain} for its subdomains. */
    public static LocalPolicies of(Map<String, LocalPolicy> rules) {
        Map<String, LocalPolicy> exact = new HashMap<>();
        Map<String, LocalPolicy> subdomains = new HashMap<>();
        rules.forEach((key, rule) -> {
            Objects.requireNonNull(rule, "rule");
            if (key.startsWith(".")) {
                subdomains.put(normalize(key.substring(1)), rule);
            } else {
                exact.put(normalize(key), rule);
            }
        });
        return new LocalPolicies(exact, subdomains);
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
        return exact.isEmpty() && subdomains.isEmpty();
    }

    private static String normalize(String domain) {
        String d = DnsNames.normalize(domain);
        if (d.isEmpty()) {
            throw new IllegalArgumentException("a local policy rule needs a domain, got '" + domain + "'");
        }
        return d;
    }
}
