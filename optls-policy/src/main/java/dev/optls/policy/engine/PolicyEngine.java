package dev.optls.policy.engine;

import dev.optls.policy.dane.DaneLookup;
import dev.optls.policy.dane.DaneOutcome;
import dev.optls.policy.dane.TlsaRecord;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.rpt.ReportPolicy;
import dev.optls.policy.sts.MtaStsResolver;
import dev.optls.policy.sts.MxPattern;
import dev.optls.policy.sts.StsDecision;
import dev.optls.policy.sts.StsMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outbound policy for a destination domain: for each MX host, what to require (reference §18). DANE ranks
 * above MTA-STS (RFC 8461 §2: "senders who implement MTA-STS and DANE ... DANE takes precedence" for the hosts it
 * covers), MTA-STS {@code enforce} above the local policy table, and without any of them TLS is opportunistic.
 *
 * <p>Thread-safe when its {@link DnsResolver} and {@link MtaStsResolver} (that is, its policy cache) are.
 */
public final class PolicyEngine {

    /** Default number of MX hosts considered per destination (Postfix's {@code smtp_mx_address_limit} is 5). */
    public static final int DEFAULT_MAX_HOSTS = 10;

    private final DnsResolver dns;
    private final DaneLookup dane;
    private final Optional<MtaStsResolver> sts;
    private final LocalPolicies local;
    private final int maxHosts;

    private PolicyEngine(Builder b) {
        this.dns = b.dns;
        this.dane = new DaneLookup(b.dns);
        this.sts = b.sts;
        this.local = b.local;
        this.maxHosts = b.maxHosts;
    }

    /** An engine looking up through {@code dns}; without MTA-STS or local rules until configured. */
    public static Builder builder(DnsResolver dns) {
        return new Builder(dns);
    }

    /**
     * The plan for mail to {@code destination} at {@code now}, its MX hosts on port 25.
     *
     * @throws IllegalArgumentException if {@code destination} is not a domain name (a caller bug)
     */
    public DeliveryPlan planFor(String destination, Instant now) {
        return planFor(destination, 25, now);
    }

    /**
     * The plan for mail to {@code destination} whose MX hosts are reached on {@code port} (Postfix's {@code
     * example.com:2525} next hop): DANE looks up TLSA records at {@code _port._tcp} of each host (RFC 6698 §3).
     *
     * @throws IllegalArgumentException if {@code destination} is not a domain name or {@code port} is not a TCP port
     */
    public DeliveryPlan planFor(String destination, int port, Instant now) {
        Objects.requireNonNull(now, "now");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("a TCP port is 1 to 65535, not " + port);
        }
        String domain = DnsNames.normalize(destination);
        if (domain.isEmpty()) {
            throw new IllegalArgumentException("the destination must be a domain name, not the root");
        }
        Optional<LocalPolicy> rule = local.forDomain(domain);
        DnsAnswer<MxRecord> mx = dns.mx(domain);
        if (mx instanceof DnsAnswer.Failed<MxRecord> failed) {
            // RFC 5321 §5.1 and RFC 7672 §2.2.1: a failed MX lookup (bogus included) is a temporary failure, never
            // a reason to fall back to the domain's address records.
            return new DeliveryPlan(
                    domain,
                    DeliveryPlan.Status.TEMPORARY_FAILURE,
                    PolicySource.NONE,
                    List.of(),
                    Optional.empty(),
                    rule,
                    "the MX lookup of " + domain + " failed (" + failed.failure() + ": " + failed.detail()
                            + "); try again later");
        }
        if (mx instanceof DnsAnswer.NxDomain<MxRecord>) {
            return new DeliveryPlan(
                    domain,
                    DeliveryPlan.Status.NO_SUCH_DOMAIN,
                    PolicySource.NONE,
                    List.of(),
                    Optional.empty(),
                    rule,
                    domain + " does not exist (NXDOMAIN)");
        }
        List<MxRecord> records;
        if (mx instanceof DnsAnswer.NoData<MxRecord>) {
            // RFC 5321 §5.1: without MX records the domain is its own mail host, with preference 0.
            records = List.of(new MxRecord(0, domain));
        } else {
            records = mx.records().stream()
                    .filter(r -> !r.isNullMx())
                    .sorted(Comparator.comparingInt(MxRecord::preference))
                    .toList();
            if (records.isEmpty()) {
                return new DeliveryPlan(
                        domain,
                        DeliveryPlan.Status.NULL_MX,
                        PolicySource.NONE,
                        List.of(),
                        Optional.empty(),
                        rule,
                        domain + " publishes a null MX: it accepts no mail (RFC 7505)");
            }
        }
        String truncated = "";
        if (records.size() > maxHosts) {
            truncated = " (only the first " + maxHosts + " of " + records.size() + " MX hosts considered)";
            records = records.subList(0, maxHosts);
        }
        List<DaneOutcome> outcomes = new ArrayList<>();
        for (MxRecord record : records) {
            outcomes.add(dane.forHost(domain, record.exchange(), mx.isSecure(), port));
        }
        boolean daneCoversAll = outcomes.stream().noneMatch(DaneOutcome.NotApplicable.class::isInstance);
        boolean daneCoversAny = !outcomes.stream().allMatch(DaneOutcome.NotApplicable.class::isInstance);
        // RFC 8461 §2: MTA-STS matters only for hosts DANE does not cover; when it covers all, no fetch is made.
        // A local dane-only rule leaves MTA-STS nothing to decide either.
        boolean daneOnly =
                rule.filter(r -> r.level() == LocalPolicy.Level.DANE_ONLY).isPresent();
        Optional<StsDecision> stsDecision =
                daneCoversAll || daneOnly ? Optional.empty() : sts.map(resolver -> resolver.policyFor(domain, now));
        Optional<StsDecision.Apply> apply =
                stsDecision.filter(StsDecision.Apply.class::isInstance).map(StsDecision.Apply.class::cast);

        List<MxPlan> hosts = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            hosts.add(planHost(domain, records.get(i).preference(), outcomes.get(i), apply, rule));
        }
        PolicySource source = daneCoversAny
                ? PolicySource.DANE
                : apply.filter(a -> a.mode() == StsMode.ENFORCE).isPresent()
                        ? PolicySource.MTA_STS_ENFORCE
                        : rule.filter(r -> r.level() != LocalPolicy.Level.MAY).isPresent()
                                ? PolicySource.LOCAL
                                : apply.isPresent() ? PolicySource.MTA_STS_TESTING : PolicySource.NONE;
        long usable = hosts.stream().filter(MxPlan::usable).count();
        DeliveryPlan.Status status = usable == 0 ? DeliveryPlan.Status.NO_USABLE_HOST : DeliveryPlan.Status.DELIVER;
        String reason = switch (source) {
                    case DANE ->
                        "DANE applies to "
                                + outcomes.stream()
                                        .filter(o -> !(o instanceof DaneOutcome.NotApplicable))
                                        .count()
                                + " of " + hosts.size() + " MX host(s)";
                    case MTA_STS_ENFORCE ->
                        "MTA-STS policy in enforce mode (" + apply.orElseThrow().reason() + ")";
                    case LOCAL ->
                        "local policy "
                                + rule.orElseThrow()
                                        .level()
                                        .name()
                                        .toLowerCase(java.util.Locale.ROOT)
                                        .replace('_', '-');
                    case MTA_STS_TESTING -> "MTA-STS policy in testing mode: failures are reported, not enforced";
                    case NONE -> "no DANE, MTA-STS or local policy: opportunistic TLS";
                }
                + (status == DeliveryPlan.Status.NO_USABLE_HOST
                        ? "; no MX host may be used, delivery must be deferred"
                        : "; " + usable + " of " + hosts.size() + " MX host(s) usable")
                + truncated;
        return new DeliveryPlan(domain, status, source, hosts, stsDecision, rule, reason);
    }

    /**
     * The plan for a next hop that names its host, as Postfix's {@code [host]:port} (a relay host or a transport
     * next hop): no MX lookup, so no MTA-STS (RFC 8461 §4 applies to MX hosts of a recipient domain) and no local
     * rule for a domain; DANE with TLSA records at {@code _port._tcp.<host>} when the host's address records are
     * DNSSEC-secure (RFC 7672 §2.2.2), else the local rule for {@code [host]:port} ({@link LocalPolicies#forHost}).
     * The plan's domain is written {@code [host]:port}.
     *
     * @throws IllegalArgumentException if {@code host} is not a domain name or {@code port} is not a TCP port
     */
    public DeliveryPlan planForHost(String host, int port, Instant now) {
        Objects.requireNonNull(now, "now");
        String name = DnsNames.normalize(host);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("the next-hop host must be a domain name, not the root");
        }
        String nextHop = "[" + name + "]:" + port;
        Optional<LocalPolicy> rule = local.forHost(name, port);
        DaneOutcome outcome = dane.forHost(name, name, true, port);
        MxPlan plan = planHost(nextHop, 0, outcome, Optional.empty(), rule);
        boolean dane = !(outcome instanceof DaneOutcome.NotApplicable);
        PolicySource source = dane
                ? PolicySource.DANE
                : rule.filter(r -> r.level() != LocalPolicy.Level.MAY).isPresent()
                        ? PolicySource.LOCAL
                        : PolicySource.NONE;
        DeliveryPlan.Status status = plan.usable() ? DeliveryPlan.Status.DELIVER : DeliveryPlan.Status.NO_USABLE_HOST;
        String reason = !plan.usable()
                ? nextHop + " may not be used (" + plan.reason() + "); delivery must be deferred"
                : switch (source) {
                    case DANE -> "DANE applies to " + nextHop + " (" + outcome.reason() + ")";
                    case LOCAL -> "local policy for " + nextHop + ": " + plan.reason();
                    default ->
                        "no DANE or local policy for " + nextHop + ": opportunistic TLS (" + outcome.reason() + ")";
                };
        return new DeliveryPlan(nextHop, status, source, List.of(plan), Optional.empty(), rule, reason);
    }

    private static MxPlan planHost(
            String domain,
            int preference,
            DaneOutcome outcome,
            Optional<StsDecision.Apply> sts,
            Optional<LocalPolicy> rule) {
        String host = outcome.host();
        if (outcome instanceof DaneOutcome.Required required) {
            return new MxPlan(
                    host,
                    preference,
                    Requirement.DANE,
                    required.sni(),
                    required.referenceNames(),
                    required.usable(),
                    Optional.of(outcome),
                    tlsaPolicy(domain, required.records()),
                    required.reason());
        }
        if (outcome instanceof DaneOutcome.EncryptOnly encrypt) {
            return new MxPlan(
                    host,
                    preference,
                    Requirement.DANE_ENCRYPT,
                    encrypt.tlsaBaseDomain(),
                    List.of(),
                    List.of(),
                    Optional.of(outcome),
                    tlsaPolicy(domain, encrypt.records()),
                    encrypt.reason());
        }
        if (outcome instanceof DaneOutcome.HostUnusable unusable) {
            // RFC 7672 §2.1.2: the host is treated as unreachable.
            return skippedUnderTlsa(domain, preference, outcome, unusable.reason());
        }
        String notDane = outcome.reason();
        if (rule.filter(r -> r.level() == LocalPolicy.Level.DANE_ONLY).isPresent()) {
            // RFC 8460 §4.3.2.1: DANE required by local agreement, no DNSSEC-validated TLSA records: not used.
            return skippedUnderTlsa(
                    domain,
                    preference,
                    outcome,
                    "local policy dane-only and no usable DANE for " + host + ": not used (" + notDane + ")");
        }
        if (sts.isPresent()) {
            StsDecision.Apply policy = sts.get();
            ReportPolicy report = ReportPolicy.sts(
                    domain,
                    policy.policy().policy().lines(),
                    policy.policy().policy().mx().stream()
                            .map(MxPattern::toText)
                            .toList());
            boolean listed = policy.allows(host);
            if (policy.mode() == StsMode.ENFORCE) {
                // RFC 8461 §4.1: "senders MUST NOT deliver to MX hosts that do not match"; §4.2: the certificate
                // must be valid for the MX host name under the Web PKI.
                return listed
                        ? new MxPlan(
                                host,
                                preference,
                                Requirement.STS_ENFORCE,
                                host,
                                List.of(host),
                                List.of(),
                                Optional.of(outcome),
                                report,
                                "listed in the MTA-STS policy (enforce): TLS with a valid certificate for " + host
                                        + "; " + notDane)
                        : new MxPlan(
                                host,
                                preference,
                                Requirement.SKIP,
                                host,
                                List.of(),
                                List.of(),
                                Optional.of(outcome),
                                report,
                                host + " is not listed in the MTA-STS policy (enforce mode): not used (RFC 8461 §4.1)");
            }
            // RFC 8461 §5: testing mode checks as enforce would and reports, but delivers anyway.
            MxPlan base = localOrOpportunistic(host, preference, outcome, rule, report);
            return new MxPlan(
                    host,
                    preference,
                    base.requirement(),
                    host,
                    base.referenceNames().isEmpty() ? List.of(host) : base.referenceNames(),
                    List.of(),
                    Optional.of(outcome),
                    report,
                    base.reason() + "; MTA-STS testing: " + (listed ? "listed" : "not listed, reported")
                            + ", the certificate is checked for the report");
        }
        return localOrOpportunistic(host, preference, outcome, rule, ReportPolicy.noPolicyFound(domain));
    }

    /** A host that is not used, counted by TLS-RPT under a {@code tlsa} policy without records. */
    private static MxPlan skippedUnderTlsa(String domain, int preference, DaneOutcome outcome, String reason) {
        return new MxPlan(
                outcome.host(),
                preference,
                Requirement.SKIP,
                outcome.host(),
                List.of(),
                List.of(),
                Optional.of(outcome),
                tlsaPolicy(domain, List.of()),
                reason);
    }

    private static MxPlan localOrOpportunistic(
            String host, int preference, DaneOutcome outcome, Optional<LocalPolicy> rule, ReportPolicy report) {
        LocalPolicy.Level level = rule.map(LocalPolicy::level).orElse(LocalPolicy.Level.MAY);
        return switch (level) {
            case VERIFY ->
                new MxPlan(
                        host,
                        preference,
                        Requirement.LOCAL_VERIFY,
                        host,
                        rule.orElseThrow().matchNames().isEmpty()
                                ? List.of(host)
                                : rule.orElseThrow().matchNames(),
                        List.of(),
                        Optional.of(outcome),
                        report,
                        "local policy verify: TLS with a valid certificate; " + outcome.reason());
            case ENCRYPT ->
                new MxPlan(
                        host,
                        preference,
                        Requirement.LOCAL_ENCRYPT,
                        host,
                        List.of(),
                        List.of(),
                        Optional.of(outcome),
                        report,
                        "local policy encrypt: TLS required, certificate not checked; " + outcome.reason());
            case DANE_ONLY -> throw new IllegalStateException("dane-only hosts are planned before MTA-STS");
            case MAY ->
                new MxPlan(
                        host,
                        preference,
                        Requirement.OPPORTUNISTIC,
                        host,
                        List.of(),
                        List.of(),
                        Optional.of(outcome),
                        report,
                        "opportunistic TLS (RFC 7435); " + outcome.reason());
        };
    }

    private static ReportPolicy tlsaPolicy(String domain, List<TlsaRecord> records) {
        return ReportPolicy.tlsa(
                domain, records.stream().map(TlsaRecord::toText).toList());
    }

    /** Configures an engine. */
    public static final class Builder {
        private final DnsResolver dns;
        private Optional<MtaStsResolver> sts = Optional.empty();
        private LocalPolicies local = LocalPolicies.none();
        private int maxHosts = DEFAULT_MAX_HOSTS;

        private Builder(DnsResolver dns) {
            this.dns = Objects.requireNonNull(dns, "dns");
        }

        /** Applies MTA-STS through {@code resolver}. */
        public Builder mtaSts(MtaStsResolver resolver) {
            this.sts = Optional.of(resolver);
            return this;
        }

        /** Applies the local rules in {@code table}. */
        public Builder localPolicies(LocalPolicies table) {
            this.local = Objects.requireNonNull(table, "table");
            return this;
        }

        /** Considers at most {@code n} MX hosts per destination, lowest preference first. */
        public Builder maxHosts(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("at least one MX host must be considered, got " + n);
            }
            this.maxHosts = n;
            return this;
        }

        /** The engine. */
        public PolicyEngine build() {
            return new PolicyEngine(this);
        }
    }
}
