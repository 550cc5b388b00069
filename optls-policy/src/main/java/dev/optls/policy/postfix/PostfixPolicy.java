package dev.optls.policy.postfix;

import dev.optls.policy.engine.DeliveryPlan;
import dev.optls.policy.engine.LocalPolicy;
import dev.optls.policy.engine.MxPlan;
import dev.optls.policy.engine.PolicySource;
import dev.optls.policy.engine.Requirement;
import dev.optls.policy.sts.CachedPolicy;
import dev.optls.policy.sts.MxPattern;
import dev.optls.policy.sts.StsDecision;
import dev.optls.policy.sts.StsMode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Translates a {@link DeliveryPlan} into an answer for Postfix's {@code smtp_tls_policy_maps} (postconf(5), TLS_README
 * "TLS policy table"):
 *
 * <ul>
 *   <li>DANE decided ({@link PolicySource#DANE}): {@code dane-only} when every usable MX host has usable TLSA records,
 *       {@code dane} otherwise. Postfix then does DANE per MX host itself (it needs {@code smtp_dns_support_level =
 *       dnssec}); with {@code dane} it still requires TLS of hosts whose TLSA records are all unusable, and is
 *       opportunistic for hosts without TLSA records. DANE ranks above MTA-STS (RFC 8461 §2), so a domain with both
 *       gets {@code dane}, never {@code secure}.
 *   <li>MTA-STS {@code enforce}: {@code secure match=<patterns joined by ':'> servername=hostname}; a {@code
 *       *.example.com} pattern becomes Postfix's {@code .example.com}. Postfix matches the patterns against the
 *       certificate's names (not the MX host names) and its {@code .example.com} accepts subdomains at any depth,
 *       where RFC 8461 §4.1's wildcard stands for exactly one label: slightly more permissive, as every MTA-STS
 *       plugin for Postfix is.
 *   <li>Local {@code dane-only}: {@code dane-only}. Local {@code encrypt}: {@code encrypt}. Local {@code verify}: {@code secure} with {@code match=} the
 *       configured names, or Postfix's default ({@code nexthop:dot-nexthop}) without names: {@code secure} rather than
 *       {@code verify}, because {@code verify} would accept a certificate for whatever MX host an insecure DNS
 *       answer names.
 *   <li>MTA-STS {@code testing} and no policy: {@code NOTFOUND } (Postfix falls back to its next table or its
 *       {@code smtp_tls_security_level}), or the configured default level.
 *   <li>{@link DeliveryPlan.Status#TEMPORARY_FAILURE} and {@link DeliveryPlan.Status#NO_USABLE_HOST}: {@code TEMP
 *       <reason>}: Postfix defers the mail (fail closed). {@link DeliveryPlan.Status#NO_SUCH_DOMAIN} and {@link
 *       DeliveryPlan.Status#NULL_MX}: {@code NOTFOUND } (Postfix finds out itself and bounces).
 * </ul>
 *
 * <p>With {@link Options#tlsrptAttributes()}, an MTA-STS answer carries the attributes Postfix 3.10's TLSRPT support
 * reads (TLSRPT_README, "MTA-STS Support via smtp_tls_policy_maps"): {@code policy_type=sts policy_domain=…
 * policy_ttl=… { policy_string = … } … mx_host_pattern=…}. Postfix before 3.10 refuses these attributes, and Postfix
 * says they are an error on a non-STS answer, so DANE and local answers never carry them (for DANE, Postfix reports
 * the TLSA policy itself).
 */
public final class PostfixPolicy {

    private PostfixPolicy() {}

    /**
     * How answers are made.
     *
     * @param tlsrptAttributes whether MTA-STS answers carry Postfix 3.10's TLSRPT attributes
     * @param policyTtlSeconds the {@code policy_ttl} attribute: how long a Postfix smtp process may keep the answer
     * @param defaultLevel the answer when no policy applies (for example {@code may} or {@code dane}); empty means
     *     {@code NOTFOUND }
     */
    public record Options(boolean tlsrptAttributes, long policyTtlSeconds, Optional<String> defaultLevel) {

        /** The Postfix levels a default may name. */
        public static final Set<String> DEFAULT_LEVELS = Set.of("none", "may", "encrypt", "dane", "dane-only");

        /** Checks the values. */
        public Options {
            Objects.requireNonNull(defaultLevel, "defaultLevel");
            if (policyTtlSeconds < 1) {
                throw new IllegalArgumentException("policy_ttl must be at least 1 second, not " + policyTtlSeconds);
            }
            defaultLevel = defaultLevel.map(level -> level.toLowerCase(Locale.ROOT));
            if (defaultLevel.isPresent() && !DEFAULT_LEVELS.contains(defaultLevel.get())) {
                throw new IllegalArgumentException(
                        "the default level must be one of " + DEFAULT_LEVELS + ", not '" + defaultLevel.get() + "'");
            }
        }

        /** No TLSRPT attributes, {@code policy_ttl} 60 s, {@code NOTFOUND } without a policy. */
        public static Options defaults() {
            return new Options(false, 60, Optional.empty());
        }

        /** These options with the TLSRPT attributes on or off. */
        public Options withTlsrptAttributes(boolean on) {
            return new Options(on, policyTtlSeconds, defaultLevel);
        }

        /** These options with {@code level} as the answer without a policy. */
        public Options withDefaultLevel(String level) {
            return new Options(tlsrptAttributes, policyTtlSeconds, Optional.of(level));
        }
    }

    /** The answer for {@code plan}. */
    public static SocketmapReply answer(DeliveryPlan plan, Options options) {
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(options, "options");
        switch (plan.status()) {
            case TEMPORARY_FAILURE, NO_USABLE_HOST -> {
                // Fail closed: Postfix defers the mail and retries later.
                return SocketmapReply.temp(plan.reason());
            }
            case NO_SUCH_DOMAIN, NULL_MX -> {
                // Postfix looks up the MX itself and bounces; no policy is needed for that.
                return SocketmapReply.notFound();
            }
            case DELIVER -> {
                // Below.
            }
        }
        List<MxPlan> usable = plan.usableHosts();
        if (plan.source() == PolicySource.DANE) {
            boolean allDane = usable.stream().allMatch(h -> h.requirement() == Requirement.DANE);
            return SocketmapReply.ok(allDane ? "dane-only" : "dane");
        }
        if (plan.source() == PolicySource.MTA_STS_ENFORCE) {
            StsDecision.Apply sts = plan.stsPolicy()
                    .filter(a -> a.mode() == StsMode.ENFORCE)
                    .orElseThrow(() -> new IllegalArgumentException("an MTA-STS enforce plan without its policy"));
            return SocketmapReply.ok(stsAnswer(plan.domain(), sts.policy(), options));
        }
        if (plan.source() == PolicySource.LOCAL) {
            LocalPolicy rule = plan.local().orElseThrow();
            return switch (rule.level()) {
                case ENCRYPT -> SocketmapReply.ok("encrypt");
                case VERIFY ->
                    SocketmapReply.ok(
                            rule.matchNames().isEmpty()
                                    ? "secure"
                                    : "secure match=" + String.join(":", rule.matchNames()));
                // Postfix's own level. (A dane-only plan with a usable host is DANE's, one without is TEMP above.)
                case DANE_ONLY -> SocketmapReply.ok("dane-only");
                case MAY -> noPolicy(options);
            };
        }
        return noPolicy(options);
    }

    /** {@code secure match=… servername=hostname}, with the TLSRPT attributes if asked for. */
    static String stsAnswer(String domain, CachedPolicy cached, Options options) {
        Set<String> patterns = new LinkedHashSet<>();
        for (MxPattern p : cached.policy().mx()) {
            // RFC 8461 §4.1 "*.example.com" is Postfix's ".example.com" (any depth, see the class comment).
            patterns.add(p.wildcard() ? "." + p.domain() : p.domain());
        }
        StringBuilder answer = new StringBuilder("secure match=")
                .append(String.join(":", patterns))
                .append(" servername=hostname");
        if (options.tlsrptAttributes()) {
            String attributes = String.join(" ", tlsrptAttributes(domain, cached, options.policyTtlSeconds()));
            // Postfix refuses a reply over socketmap_max_reply_size (100000 bytes): a huge policy loses its TLSRPT
            // attributes, never its enforcement.
            if (answer.length() + 1 + attributes.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                    <= Netstrings.POSTFIX_MAX_REPLY - 16) {
                answer.append(' ').append(attributes);
            }
        }
        return answer.toString();
    }

    /**
     * The TLSRPT attributes of an MTA-STS answer (Postfix 3.10 TLSRPT_README): {@code policy_type=sts},
     * {@code policy_domain}, {@code policy_ttl}, one {@code { policy_string = line }} per policy line and one {@code
     * mx_host_pattern} per {@code mx} pattern. A policy line with a brace or a control character (possible only in an
     * extension value) is left out: it cannot be written inside {@code { … }}.
     */
    static List<String> tlsrptAttributes(String domain, CachedPolicy cached, long ttlSeconds) {
        List<String> attributes = new ArrayList<>();
        attributes.add("policy_type=sts");
        attributes.add("policy_domain=" + domain);
        attributes.add("policy_ttl=" + ttlSeconds);
        for (String line : cached.policy().lines()) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.chars().anyMatch(c -> c == '{' || c == '}' || c < 0x20 || c == 0x7f)) {
                continue;
            }
            attributes.add("{ policy_string = " + trimmed + " }");
        }
        for (MxPattern p : cached.policy().mx()) {
            attributes.add("mx_host_pattern=" + p.toText());
        }
        return attributes;
    }

    private static SocketmapReply noPolicy(Options options) {
        return options.defaultLevel().map(SocketmapReply::ok).orElseGet(SocketmapReply::notFound);
    }
}
