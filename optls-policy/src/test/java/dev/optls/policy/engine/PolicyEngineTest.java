package dev.optls.policy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.policy.dane.FakeDns;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.rpt.PolicyType;
import dev.optls.policy.sts.InMemoryPolicyCache;
import dev.optls.policy.sts.MtaStsResolver;
import dev.optls.policy.sts.StsFetch;
import dev.optls.policy.sts.StsPolicy;
import dev.optls.policy.sts.StsPolicyParse;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PolicyEngineTest {

    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
    private static final String EE = "3 1 1 " + "ab".repeat(32);
    private static final String ENFORCE =
            "version: STSv1\nmode: enforce\nmx: mx2.example.test\nmx: *.backup.test\n" + "max_age: 86400\n";
    private static final String TESTING = "version: STSv1\nmode: testing\nmx: mx1.example.test\nmax_age: 86400\n";

    private final FakeDns dns = new FakeDns();
    private final AtomicInteger fetches = new AtomicInteger();

    private FakeDns mx(DnssecStatus status, String... hosts) {
        List<MxRecord> records = Arrays.stream(hosts)
                .map(h -> new MxRecord(Integer.parseInt(h.split(" ")[0]), h.split(" ")[1]))
                .toList();
        return dns.mx("example.test", status, records.toArray(new MxRecord[0]));
    }

    private PolicyEngine engine(String servedPolicy, LocalPolicies local) {
        PolicyEngine.Builder b = PolicyEngine.builder(dns).localPolicies(local);
        if (servedPolicy != null) {
            dns.answer(
                    "_mta-sts.example.test",
                    RecordType.TXT,
                    new DnsAnswer.Records<>(
                            "_mta-sts.example.test",
                            RecordType.TXT,
                            List.of(),
                            DnssecStatus.INSECURE,
                            List.of("v=STSv1; id=20261130;")));
            b.mtaSts(new MtaStsResolver(
                    dns,
                    domain -> {
                        fetches.incrementAndGet();
                        return new StsFetch.Fetched(((StsPolicyParse.Parsed) StsPolicy.parse(servedPolicy)).policy());
                    },
                    new InMemoryPolicyCache()));
        }
        return b.build();
    }

    @Test
    void daneOnEveryHostWinsAndMtaStsIsNotFetched() {
        mx(DnssecStatus.SECURE, "10 mx1.example.test", "20 mx2.example.test")
                .a("mx1.example.test", DnssecStatus.SECURE)
                .a("mx2.example.test", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx1.example.test", DnssecStatus.SECURE, EE)
                .tlsa("_25._tcp.mx2.example.test", DnssecStatus.SECURE, "0 0 1 " + "cd".repeat(32));

        DeliveryPlan plan = engine(ENFORCE, LocalPolicies.none()).planFor("Example.Test.", NOW);

        assertThat(plan.domain()).isEqualTo("example.test");
        assertThat(plan.status()).isEqualTo(DeliveryPlan.Status.DELIVER);
        assertThat(plan.source()).isEqualTo(PolicySource.DANE);
        assertThat(plan.sts()).isEmpty();
        assertThat(fetches).hasValue(0);
        assertThat(dns.asked).noneMatch(q -> q.contains("_mta-sts"));
        MxPlan first = plan.hosts().get(0);
        assertThat(first.requirement()).isEqualTo(Requirement.DANE);
        assertThat(first.serverName()).isEqualTo("mx1.example.test");
        assertThat(first.tlsa()).hasSize(1);
        assertThat(first.reportPolicy().type()).isEqualTo(PolicyType.TLSA);
        assertThat(first.reportPolicy().policyStrings()).containsExactly(EE.toUpperCase(java.util.Locale.ROOT));
        // PKIX-EE only: TLS still mandatory, nothing to authenticate with (RFC 7672 §2.2).
        assertThat(plan.hosts().get(1).requirement()).isEqualTo(Requirement.DANE_ENCRYPT);
    }

    @Test
    void daneHostsKeepDaneAndTheOthersFollowMtaStsEnforce() {
        mx(DnssecStatus.SECURE, "10 mx1.example.test", "20 mx2.example.test", "30 mx3.example.test")
                .a("mx1.example.test", DnssecStatus.SECURE)
                .a("mx2.example.test", DnssecStatus.SECURE)
                .a("mx3.example.test", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx1.example.test", DnssecStatus.SECURE, EE)
                .noData("_25._tcp.mx2.example.test", RecordType.TLSA)
                .noData("_25._tcp.mx3.example.test", RecordType.TLSA);

        DeliveryPlan plan = engine(ENFORCE, LocalPolicies.none()).planFor("example.test", NOW);

        assertThat(plan.source()).isEqualTo(PolicySource.DANE);
        assertThat(plan.hosts())
                .extracting(MxPlan::requirement)
                .containsExactly(Requirement.DANE, Requirement.STS_ENFORCE, Requirement.SKIP);
        assertThat(plan.hosts().get(1).referenceNames()).containsExactly("mx2.example.test");
        assertThat(plan.hosts().get(1).reportPolicy().type()).isEqualTo(PolicyType.STS);
        assertThat(plan.hosts().get(1).reportPolicy().mxHosts()).containsExactly("mx2.example.test", "*.backup.test");
        assertThat(plan.hosts().get(2).reason()).contains("not listed in the MTA-STS policy");
        assertThat(plan.usableHosts()).extracting(MxPlan::host).containsExactly("mx1.example.test", "mx2.example.test");
    }

    @Test
    void insecureMxUnderMtaStsEnforceUsesOnlyListedHosts() {
        mx(DnssecStatus.INSECURE, "20 mx2.example.test", "5 mx9.example.test", "30 a.backup.test");

        DeliveryPlan plan = engine(ENFORCE, LocalPolicies.none()).planFor("example.test", NOW);

        assertThat(plan.source()).isEqualTo(PolicySource.MTA_STS_ENFORCE);
        assertThat(plan.hosts())
                .extracting(MxPlan::host)
                .containsExactly("mx9.example.test", "mx2.example.test", "a.backup.test");
        assertThat(plan.hosts())
                .extracting(MxPlan::requirement)
                .containsExactly(Requirement.SKIP, Requirement.STS_ENFORCE, Requirement.STS_ENFORCE);
        assertThat(plan.stsPolicy()).isPresent();
        assertThat(fetches).hasValue(1);
        // DANE was not even tried past the insecure MX RRset.
        assertThat(dns.asked).noneMatch(q -> q.startsWith("TLSA"));
    }

    @Test
    void enforceListingNoHostLeavesNothingUsable() {
        mx(DnssecStatus.INSECURE, "10 mx9.example.test");

        DeliveryPlan plan = engine(ENFORCE, LocalPolicies.none()).planFor("example.test", NOW);

        assertThat(plan.status()).isEqualTo(DeliveryPlan.Status.NO_USABLE_HOST);
        assertThat(plan.reason()).contains("deferred");
    }

    @Test
    void testingModeReportsButTheLocalRuleDecides() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test", "20 other.test");
        LocalPolicies local = LocalPolicies.of(Map.of(".test", LocalPolicy.of(LocalPolicy.Level.ENCRYPT)));

        DeliveryPlan plan = engine(TESTING, local).planFor("example.test", NOW);

        assertThat(plan.source()).isEqualTo(PolicySource.LOCAL);
        assertThat(plan.hosts()).allSatisfy(h -> {
            assertThat(h.requirement()).isEqualTo(Requirement.LOCAL_ENCRYPT);
            assertThat(h.reportPolicy().type()).isEqualTo(PolicyType.STS);
            assertThat(h.referenceNames()).containsExactly(h.host());
        });
        assertThat(plan.hosts().get(1).reason()).contains("not listed, reported");
    }

    @Test
    void testingModeAloneIsOpportunistic() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test");

        DeliveryPlan plan = engine(TESTING, LocalPolicies.none()).planFor("example.test", NOW);

        assertThat(plan.source()).isEqualTo(PolicySource.MTA_STS_TESTING);
        assertThat(plan.hosts().get(0).requirement()).isEqualTo(Requirement.OPPORTUNISTIC);
        assertThat(plan.hosts().get(0).requirement().tlsRequired()).isFalse();
    }

    @Test
    void withoutAnyPolicyTlsIsOpportunisticAndReportedAsNoPolicyFound() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test");

        DeliveryPlan plan = engine(null, LocalPolicies.none()).planFor("example.test", NOW);

        assertThat(plan.source()).isEqualTo(PolicySource.NONE);
        assertThat(plan.hosts().get(0).requirement()).isEqualTo(Requirement.OPPORTUNISTIC);
        assertThat(plan.hosts().get(0).reportPolicy().type()).isEqualTo(PolicyType.NO_POLICY_FOUND);
    }

    @Test
    void localVerifyUsesTheConfiguredNamesAndTheExactRuleBeatsTheParent() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test");
        LocalPolicies local = LocalPolicies.of(Map.of(
                ".test",
                LocalPolicy.of(LocalPolicy.Level.ENCRYPT),
                "example.test",
                new LocalPolicy(LocalPolicy.Level.VERIFY, List.of("mail.example.test"))));

        DeliveryPlan plan = engine(null, local).planFor("example.test", NOW);

        assertThat(plan.source()).isEqualTo(PolicySource.LOCAL);
        assertThat(plan.hosts().get(0).requirement()).isEqualTo(Requirement.LOCAL_VERIFY);
        assertThat(plan.hosts().get(0).referenceNames()).containsExactly("mail.example.test");
        assertThat(local.forDomain("deep.sub.example2.test")).hasValue(LocalPolicy.of(LocalPolicy.Level.ENCRYPT));
        assertThat(local.forDomain("test")).isEmpty();
    }

    @Test
    void aLocalDaneOnlyRuleUsesOnlyTheDaneHostsAndFetchesNoMtaStsPolicy() {
        mx(DnssecStatus.SECURE, "10 mx1.example.test", "20 mx2.example.test")
                .a("mx1.example.test", DnssecStatus.SECURE)
                .a("mx2.example.test", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx1.example.test", DnssecStatus.SECURE, EE);

        DeliveryPlan plan = engine(
                        ENFORCE, LocalPolicies.of(Map.of("example.test", LocalPolicy.of(LocalPolicy.Level.DANE_ONLY))))
                .planFor("example.test", NOW);

        assertThat(plan.source()).isEqualTo(PolicySource.DANE);
        assertThat(plan.status()).isEqualTo(DeliveryPlan.Status.DELIVER);
        assertThat(plan.hosts().get(0).requirement()).isEqualTo(Requirement.DANE);
        // mx2 is listed in the MTA-STS policy, but the local rule requires DANE.
        assertThat(plan.hosts().get(1).requirement()).isEqualTo(Requirement.SKIP);
        assertThat(plan.hosts().get(1).reportPolicy().type()).isEqualTo(PolicyType.TLSA);
        assertThat(fetches).hasValue(0);

        dns.noData("_25._tcp.mx1.example.test", RecordType.TLSA);
        DeliveryPlan none = engine(
                        null, LocalPolicies.of(Map.of("example.test", LocalPolicy.of(LocalPolicy.Level.DANE_ONLY))))
                .planFor("example.test", NOW);
        assertThat(none.status()).isEqualTo(DeliveryPlan.Status.NO_USABLE_HOST);
        assertThat(none.source()).isEqualTo(PolicySource.LOCAL);
        assertThat(none.reason()).contains("local policy dane-only");
    }

    @Test
    void aBracketedNextHopGetsDaneFromTheTlsaRecordsOfItsOwnPort() {
        dns.a("relay.example.test", DnssecStatus.SECURE)
                .tlsa("_587._tcp.relay.example.test", DnssecStatus.SECURE, EE)
                .tlsa("_25._tcp.relay.example.test", DnssecStatus.SECURE, "0 0 1 " + "cd".repeat(32));

        DeliveryPlan plan = engine(
                        ENFORCE,
                        LocalPolicies.of(Map.of("relay.example.test", LocalPolicy.of(LocalPolicy.Level.ENCRYPT))))
                .planForHost("Relay.Example.Test.", 587, NOW);

        assertThat(plan.domain()).isEqualTo("[relay.example.test]:587");
        assertThat(plan.status()).isEqualTo(DeliveryPlan.Status.DELIVER);
        assertThat(plan.source()).isEqualTo(PolicySource.DANE);
        assertThat(plan.hosts()).singleElement().satisfies(h -> {
            assertThat(h.requirement()).isEqualTo(Requirement.DANE);
            assertThat(h.serverName()).isEqualTo("relay.example.test");
            assertThat(h.tlsa()).hasSize(1);
        });
        assertThat(plan.reason()).contains("_587._tcp.relay.example.test");
        // No MX lookup, no MTA-STS (it is for the MX hosts of a recipient domain), no local domain rule.
        assertThat(dns.asked).noneMatch(q -> q.startsWith("MX ") || q.contains("_mta-sts") || q.contains("_25._tcp"));
        assertThat(plan.local()).isEmpty();
    }

    @Test
    void aBracketedNextHopWithoutDaneGetsTheLocalRuleForThatHostAndPort() {
        dns.a("relay.example.test", DnssecStatus.INSECURE)
                .a("dane.example.test", DnssecStatus.SECURE)
                .tlsa("_587._tcp.dane.example.test", DnssecStatus.SECURE, EE);
        PolicyEngine engine = engine(
                null,
                LocalPolicies.of(
                        Map.of(),
                        Map.of(
                                new LocalPolicies.Relay("Relay.Example.Test.", 587),
                                new LocalPolicy(LocalPolicy.Level.VERIFY, List.of("relay.example.test")),
                                new LocalPolicies.Relay("relay.example.test", 465),
                                LocalPolicy.of(LocalPolicy.Level.DANE_ONLY),
                                new LocalPolicies.Relay("dane.example.test", 587),
                                LocalPolicy.of(LocalPolicy.Level.ENCRYPT))));

        DeliveryPlan verify = engine.planForHost("relay.example.test", 587, NOW);
        assertThat(verify.source()).isEqualTo(PolicySource.LOCAL);
        assertThat(verify.status()).isEqualTo(DeliveryPlan.Status.DELIVER);
        assertThat(verify.local()).hasValue(new LocalPolicy(LocalPolicy.Level.VERIFY, List.of("relay.example.test")));
        assertThat(verify.hosts()).singleElement().satisfies(h -> {
            assertThat(h.requirement()).isEqualTo(Requirement.LOCAL_VERIFY);
            assertThat(h.referenceNames()).containsExactly("relay.example.test");
        });
        assertThat(verify.reason()).startsWith("local policy for [relay.example.test]:587: local policy verify");

        // dane-only without DANE: the relay is not used, the mail waits.
        DeliveryPlan daneOnly = engine.planForHost("relay.example.test", 465, NOW);
        assertThat(daneOnly.source()).isEqualTo(PolicySource.LOCAL);
        assertThat(daneOnly.status()).isEqualTo(DeliveryPlan.Status.NO_USABLE_HOST);
        assertThat(daneOnly.reason()).contains("local policy dane-only");

        // No rule for port 25 of the same host; DANE ranks above a local rule.
        assertThat(engine.planForHost("relay.example.test", 25, NOW).source()).isEqualTo(PolicySource.NONE);
        DeliveryPlan dane = engine.planForHost("dane.example.test", 587, NOW);
        assertThat(dane.source()).isEqualTo(PolicySource.DANE);
        assertThat(dane.hosts().get(0).requirement()).isEqualTo(Requirement.DANE);

        assertThatThrownBy(() ->
                        LocalPolicies.of(Map.of("[relay.example.test]:587", LocalPolicy.of(LocalPolicy.Level.MAY))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("give relay hosts as LocalPolicies.Relay");
        assertThatThrownBy(() -> new LocalPolicies.Relay("relay.example.test", 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aBracketedNextHopWithoutSecureTlsaIsOpportunisticAndABogusOneIsDeferred() {
        dns.a("relay.example.test", DnssecStatus.SECURE)
                .tlsa("_25._tcp.relay.example.test", DnssecStatus.SECURE, EE)
                .a("insecure.example.test", DnssecStatus.INSECURE)
                .a("bogus.example.test", DnssecStatus.SECURE)
                .fail("_465._tcp.bogus.example.test", RecordType.TLSA, DnssecStatus.BOGUS, LookupFailure.DNSSEC_BOGUS);
        PolicyEngine engine = engine(null, LocalPolicies.none());

        DeliveryPlan otherPort = engine.planForHost("relay.example.test", 587, NOW);
        assertThat(otherPort.source()).isEqualTo(PolicySource.NONE);
        assertThat(otherPort.hosts().get(0).requirement()).isEqualTo(Requirement.OPPORTUNISTIC);
        assertThat(otherPort.reason()).contains("securely no TLSA records at _587._tcp.relay.example.test");

        DeliveryPlan insecure = engine.planForHost("insecure.example.test", 25, NOW);
        assertThat(insecure.source()).isEqualTo(PolicySource.NONE);
        assertThat(insecure.reason()).contains("not DNSSEC-secure");

        // RFC 7672 §2.1.2: a failed TLSA lookup means the host is not used; the mail waits.
        DeliveryPlan bogus = engine.planForHost("bogus.example.test", 465, NOW);
        assertThat(bogus.source()).isEqualTo(PolicySource.DANE);
        assertThat(bogus.status()).isEqualTo(DeliveryPlan.Status.NO_USABLE_HOST);
        assertThat(bogus.hosts().get(0).requirement()).isEqualTo(Requirement.SKIP);

        assertThatThrownBy(() -> engine.planForHost("relay.example.test", 0, NOW))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFailedTlsaLookupMakesTheHostUnusableEvenUnderMtaSts() {
        mx(DnssecStatus.SECURE, "10 mx2.example.test")
                .a("mx2.example.test", DnssecStatus.SECURE)
                .fail("_25._tcp.mx2.example.test", RecordType.TLSA, DnssecStatus.BOGUS, LookupFailure.DNSSEC_BOGUS);

        DeliveryPlan plan = engine(ENFORCE, LocalPolicies.none()).planFor("example.test", NOW);

        assertThat(plan.source()).isEqualTo(PolicySource.DANE);
        assertThat(plan.status()).isEqualTo(DeliveryPlan.Status.NO_USABLE_HOST);
        assertThat(plan.hosts().get(0).requirement()).isEqualTo(Requirement.SKIP);
        assertThat(fetches).hasValue(0);
    }

    @Test
    void mxLookupOutcomes() {
        PolicyEngine engine = engine(null, LocalPolicies.none());
        dns.fail("failing.test", RecordType.MX, DnssecStatus.INDETERMINATE, LookupFailure.SERVFAIL);
        dns.answer(
                "nullmx.test",
                RecordType.MX,
                new DnsAnswer.Records<>(
                        "nullmx.test", RecordType.MX, List.of(), DnssecStatus.SECURE, List.of(new MxRecord(0, ""))));
        dns.noData("self.test", RecordType.MX).a("self.test", DnssecStatus.INSECURE);

        assertThat(engine.planFor("failing.test", NOW).status()).isEqualTo(DeliveryPlan.Status.TEMPORARY_FAILURE);
        assertThat(engine.planFor("failing.test", NOW).reason()).contains("SERVFAIL");
        assertThat(engine.planFor("absent.test", NOW).status()).isEqualTo(DeliveryPlan.Status.NO_SUCH_DOMAIN);
        assertThat(engine.planFor("nullmx.test", NOW).status()).isEqualTo(DeliveryPlan.Status.NULL_MX);
        DeliveryPlan self = engine.planFor("self.test", NOW);
        assertThat(self.hosts()).extracting(MxPlan::host).containsExactly("self.test");
        assertThat(self.hosts().get(0).preference()).isZero();
    }

    @Test
    void onlyTheConfiguredNumberOfHostsIsConsidered() {
        mx(DnssecStatus.INSECURE, "30 c.test", "10 a.test", "20 b.test");

        DeliveryPlan plan = PolicyEngine.builder(dns).maxHosts(2).build().planFor("example.test", NOW);

        assertThat(plan.hosts()).extracting(MxPlan::host).containsExactly("a.test", "b.test");
        assertThat(plan.reason()).contains("only the first 2 of 3");
    }
}
