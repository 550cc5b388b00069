package dev.optls.policy.postfix;

import dev.optls.policy.engine.DeliveryPlan;
import dev.optls.policy.engine.PolicyEngine;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The TLS policy service for Postfix's {@code smtp_tls_policy_maps}: a {@link SocketmapHandler} answering per
 * next-hop domain with {@link PostfixPolicy}'s translation of the {@link PolicyEngine}'s plan, through an {@link
 * AnswerCache}.
 *
 * <p>Keys ({@link NextHop}): Postfix asks with the next-hop domain ({@code example.com}), and after a {@code NOTFOUND }
 * also with its parent domains ({@code .com}); with a relay host or a transport next hop it asks {@code
 * example.com:2525}, {@code [host]} or {@code [host]:port}. A domain with a port is its MX hosts on that port (DANE:
 * TLSA records at {@code _port._tcp}, where Postfix looks too); a bracketed host gets DANE with TLSA records for its
 * own port when it has them, else its local rule ({@link PolicyEngine#planForHost}; no MX lookup, so no MTA-STS);
 * parent-domain keys, address literals and anything that is not a domain name get {@code NOTFOUND } without a
 * lookup. An unknown map name gets {@code PERM}: that is a mistake in main.cf, and Postfix
 * defers rather than sending without the policy.
 */
public final class PolicyService implements SocketmapHandler {

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
        Optional<NextHop> nextHop = NextHop.parse(key);
        return nextHop.isEmpty()
                ? SocketmapReply.notFound()
                : cache.get(nextHop.get().key());
    }

    @Override
    public Optional<SocketmapReply> immediate(String mapName, String key) {
        if (!mapNames.contains(mapName)) {
            return Optional.of(lookup(mapName, key));
        }
        Optional<NextHop> nextHop = NextHop.parse(key);
        return nextHop.isEmpty()
                ? Optional.of(SocketmapReply.notFound())
                : cache.peek(nextHop.get().key());
    }

    /** The plan for {@code nextHop} now, without the answer cache (for {@code optls policy query}). */
    public DeliveryPlan plan(NextHop nextHop) {
        return plan(engine, nextHop, clock.instant());
    }

    /** The plan for {@code nextHop}: its MX hosts' for a domain, the host's own for a bracketed next hop. */
    public static DeliveryPlan plan(PolicyEngine engine, NextHop nextHop, java.time.Instant now) {
        return nextHop.bracketed()
                ? engine.planForHost(nextHop.name(), nextHop.port(), now)
                : engine.planFor(nextHop.name(), nextHop.port(), now);
    }

    /** The answer cache (for its counters). */
    public AnswerCache cache() {
        return cache;
    }

    /** The options answers are made with. */
    public PostfixPolicy.Options options() {
        return options;
    }

    private SocketmapReply answerUncached(String key) {
        try {
            NextHop nextHop = NextHop.parse(key).orElseThrow(() -> new IllegalStateException("not a next hop: " + key));
            return PostfixPolicy.answer(plan(nextHop), options);
        } catch (RuntimeException e) {
            // A policy store that cannot be reached (Redis down) or any other failure: defer, never weaken.
            return SocketmapReply.temp("policy lookup for " + key + " failed: " + e.getMessage());
        }
    }

    /**
     * The domain to plan for {@code key}, or empty when the key is not a next-hop domain: parent-domain keys ({@code
     * .example.com}), bracketed hosts, and what is not a domain name (see {@link NextHop#parse}).
     */
    public static Optional<String> lookupDomain(String key) {
        return NextHop.parse(key).filter(n -> !n.bracketed()).map(NextHop::name);
    }
}
