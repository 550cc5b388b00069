package dev.optls.policy.postfix;

import dev.optls.policy.engine.DeliveryPlan;
import dev.optls.policy.engine.PolicyEngine;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The TLS policy service for Postfix's {@code smtp_tls_policy_maps}: a {@link SocketmapHandler} answering per
 * next-hop domain with {@link PostfixPolicy}'s translation of the {@link PolicyEngine}'s plan, through an {@link
 * AnswerCache}.
 *
 * <p>Keys: Postfix asks with the next-hop domain ({@code example.com}), and after a {@code NOTFOUND } also with its
 * parent domains ({@code .com}); with a transport next hop it may ask {@code example.com:2525}, {@code [host]} or
 * {@code [host]:port}. A domain with a port is looked up without the port; parent-domain keys, bracketed hosts (no MX
 * lookup happens for them, so there is no MX-based policy) and anything that is not a domain name get {@code
 * NOTFOUND } without a lookup. An unknown map name gets {@code PERM}: that is a mistake in main.cf, and Postfix
 * defers rather than sending without the policy.
 */
public final class PolicyService implements SocketmapHandler {

    /** The longest domain name (RFC 1035 §2.3.4, without the trailing dot). */
    public static final int MAX_DOMAIN = 253;

    private final PolicyEngine engine;
    private final Set<String> mapNames;
    private final PostfixPolicy.Options options;
    private final Clock clock;
    private final AnswerCache cache;

    /**
     * A service answering the maps {@code mapNames} from {@code engine}, keeping answers as {@code positiveTtl} /
     * {@code negativeTtl} say for at most {@code maxDomains} domains.
     */
    public PolicyService(
            PolicyEngine engine,
            Set<String> mapNames,
            PostfixPolicy.Options options,
            Duration positiveTtl,
            Duration negativeTtl,
            int maxDomains,
            Clock clock) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.mapNames = Set.copyOf(mapNames);
        if (this.mapNames.isEmpty()) {
            throw new IllegalArgumentException("the service must answer at least one map name");
        }
        this.options = Objects.requireNonNull(options, "options");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.cache = new AnswerCache(this::answerUncached, positiveTtl, negativeTtl, maxDomains, System::nanoTime);
    }

    @Override
    public SocketmapReply lookup(String mapName, String key) {
        if (!mapNames.contains(mapName)) {
            return SocketmapReply.perm("unknown map name '" + mapName + "': this service answers "
                    + String.join(", ", mapNames.stream().sorted().toList())
                    + "; check smtp_tls_policy_maps = socketmap:inet:HOST:PORT:NAME in main.cf");
        }
        Optional<String> domain = lookupDomain(key);
        return domain.isEmpty() ? SocketmapReply.notFound() : cache.get(domain.get());
    }

    @Override
    public Optional<SocketmapReply> immediate(String mapName, String key) {
        if (!mapNames.contains(mapName)) {
            return Optional.of(lookup(mapName, key));
        }
        Optional<String> domain = lookupDomain(key);
        return domain.isEmpty() ? Optional.of(SocketmapReply.notFound()) : cache.peek(domain.get());
    }

    /** The plan for {@code domain} now, without the answer cache (for {@code optls policy query}). */
    public DeliveryPlan plan(String domain) {
        return engine.planFor(domain, clock.instant());
    }

    /** The answer cache (for its counters). */
    public AnswerCache cache() {
        return cache;
    }

    /** The options answers are made with. */
    public PostfixPolicy.Options options() {
        return options;
    }

    private SocketmapReply answerUncached(String domain) {
        try {
            return PostfixPolicy.answer(engine.planFor(domain, clock.instant()), options);
        } catch (RuntimeException e) {
            // A policy store that cannot be reached (Redis down) or any other failure: defer, never weaken.
            return SocketmapReply.temp("policy lookup for " + domain + " failed: " + e.getMessage());
        }
    }

    /**
     * The domain to plan for {@code key}, or empty when the key gets {@code NOTFOUND } without a lookup: parent-domain
     * keys ({@code .example.com}), bracketed hosts, and what is not a domain name.
     */
    public static Optional<String> lookupDomain(String key) {
        String k = key.strip().toLowerCase(Locale.ROOT);
        if (k.isEmpty() || k.startsWith(".") || k.startsWith("[")) {
            return Optional.empty();
        }
        int colon = k.indexOf(':');
        if (colon >= 0) {
            // Postfix's "domain:port" next hop: the policy of the domain; the port does not change it.
            String port = k.substring(colon + 1);
            if (port.isEmpty() || !port.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'z')) {
                return Optional.empty();
            }
            k = k.substring(0, colon);
        }
        if (k.endsWith(".")) {
            k = k.substring(0, k.length() - 1);
        }
        return isDomainName(k) ? Optional.of(k) : Optional.empty();
    }

    private static boolean isDomainName(String name) {
        if (name.isEmpty() || name.length() > MAX_DOMAIN) {
            return false;
        }
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                    return false;
                }
            }
        }
        return true;
    }
}
