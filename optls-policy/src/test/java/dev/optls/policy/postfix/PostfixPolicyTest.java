package dev.optls.policy.postfix;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.dane.FakeDns;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.engine.LocalPolicies;
import dev.optls.policy.engine.LocalPolicy;
import dev.optls.policy.engine.PolicyEngine;
import dev.optls.policy.sts.InMemoryPolicyCache;
import dev.optls.policy.sts.MtaStsResolver;
import dev.optls.policy.sts.StsFetch;
import dev.optls.policy.sts.StsPolicy;
import dev.optls.policy.sts.StsPolicyParse;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The DeliveryPlan → Postfix answer table, on plans made by the real engine over a fake DNS. */
class PostfixPolicyTest {

    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
    private static final String EE = "3 1 1 " + "ab".repeat(32);
    private static final String PKIX_EE = "1 1 1 " + "cd".repeat(32);
    private static final String ENFORCE =
            "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmx: *.backup.test\n" + "max_age: 86400\n";
    private static final String TESTING = "version: STSv1\nmode: testing\nmx: mx1.example.test\nmax_age: 86400\n";

    private final FakeDns dns = new FakeDns();
    private final PostfixPolicy.Options plain = PostfixPolicy.Options.defaults();

    private void mx(DnssecStatus status, String... hosts) {
        List<MxRecord> records = Arrays.stream(hosts)
                .map(h -> new MxRecord(Integer.parseInt(h.split(" ")[0]), h.split(" ")[1]))
                .toList();
        dns.mx("example.test", status, records.toArray(new MxRecord[0]));
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
                    domain -> new StsFetch.Fetched(((StsPolicyParse.Parsed) StsPolicy.parse(servedPolicy)).policy()),
                    new InMemoryPolicyCache()));
        }
        return b.build();
    }

    private String answer(PolicyEngine engine, PostfixPolicy.Options options) {
        return PostfixPolicy.answer(engine.planFor("example.test", NOW), options)
                .wire();
    }

    @Test
    void daneOnEveryUsableHostIsDaneOnlyEvenWithAnMtaStsPolicy() {
        mx(DnssecStatus.SECURE, "10 mx1.example.test", "20 mx2.example.test");
        dns.a("mx1.example.test", DnssecStatus.SECURE)
                .a("mx2.example.test", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx1.example.test", DnssecStatus.SECURE, EE)
                .tlsa("_25._tcp.mx2.example.test", DnssecStatus.SECURE, EE);

        // postfix-mta-sts-resolver answers "secure" here; RFC 8461 §2 says DANE wins.
        assertThat(answer(engine(ENFORCE, LocalPolicies.none()), plain.withTlsrptAttributes(true)))
                .isEqualTo("OK dane-only");
    }

    @Test
    void daneOnSomeHostsOrUnusableTlsaIsDane() {
        mx(DnssecStatus.SECURE, "10 mx1.example.test", "20 mx2.example.test");
        dns.a("mx1.example.test", DnssecStatus.SECURE)
                .a("mx2.example.test", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx1.example.test", DnssecStatus.SECURE, EE)
                .noData("_25._tcp.mx2.example.test", RecordType.TLSA);
        // mx2 without TLSA: Postfix's "dane" is opportunistic there.
        assertThat(answer(engine(null, LocalPolicies.none()), plain)).isEqualTo("OK dane");
        // The MTA-STS policy does not list mx2, so only the DANE host is usable: dane-only.
        assertThat(answer(engine(ENFORCE, LocalPolicies.none()), plain)).isEqualTo("OK dane-only");

        dns.tlsa("_25._tcp.mx2.example.test", DnssecStatus.SECURE, PKIX_EE);
        // Only unusable records on mx2: TLS mandatory, not authenticated; Postfix's "dane" does exactly that.
        assertThat(answer(engine(null, LocalPolicies.none()), plain)).isEqualTo("OK dane");
    }

    @Test
    void aFailedTlsaLookupOnTheOnlyHostDefers() {
        mx(DnssecStatus.SECURE, "10 mx1.example.test");
        dns.a("mx1.example.test", DnssecStatus.SECURE)
                .fail("_25._tcp.mx1.example.test", RecordType.TLSA, DnssecStatus.BOGUS, LookupFailure.DNSSEC_BOGUS);
        assertThat(answer(engine(ENFORCE, LocalPolicies.none()), plain))
                .startsWith("TEMP ")
                .contains("deferred");
    }

    @Test
    void mtaStsEnforceIsSecureWithTheMxPatterns() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test", "20 a.backup.test");
        assertThat(answer(engine(ENFORCE, LocalPolicies.none()), plain))
                .isEqualTo("OK secure match=mx1.example.test:.backup.test servername=hostname");
    }

    @Test
    void mtaStsEnforceWithTlsrptAttributesAsPostfix310ReadsThem() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test");
        assertThat(answer(engine(ENFORCE, LocalPolicies.none()), plain.withTlsrptAttributes(true)))
                .isEqualTo("OK secure match=mx1.example.test:.backup.test servername=hostname"
                        + " policy_type=sts policy_domain=example.test policy_ttl=60"
                        + " { policy_string = version: STSv1 } { policy_string = mode: enforce }"
                        + " { policy_string = mx: mx1.example.test } { policy_string = mx: *.backup.test }"
                        + " { policy_string = max_age: 86400 }"
                        + " mx_host_pattern=mx1.example.test mx_host_pattern=*.backup.test");
    }

    @Test
    void aPolicyLineWithBracesIsLeftOutOfTheAttributes() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test");
        String policy = ENFORCE + "ext: a}b\n";
        assertThat(answer(engine(policy, LocalPolicies.none()), plain.withTlsrptAttributes(true)))
                .doesNotContain("a}b")
                .contains("{ policy_string = max_age: 86400 }");
    }

    @Test
    void aPolicyTooLargeForPostfixLosesItsAttributesNotItsEnforcement() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test");
        StringBuilder policy = new StringBuilder(ENFORCE);
        for (int i = 0; i < 2500; i++) {
            policy.append("mx: m").append(i).append(".t\n");
        }
        assertThat(policy.length()).isLessThan(StsPolicy.MAX_SIZE);
        String answer = answer(engine(policy.toString(), LocalPolicies.none()), plain.withTlsrptAttributes(true));
        assertThat(answer)
                .startsWith("OK secure match=mx1.example.test:.backup.test:m0.t:m1.t:")
                .endsWith(":m2499.t servername=hostname")
                .doesNotContain("policy_type");
        assertThat(answer.length()).isLessThan(Netstrings.POSTFIX_MAX_REPLY);
    }

    @Test
    void mtaStsEnforceListingNoMxDefers() {
        mx(DnssecStatus.INSECURE, "10 elsewhere.test");
        assertThat(answer(engine(ENFORCE, LocalPolicies.none()), plain)).startsWith("TEMP ");
    }

    @Test
    void testingModeAndNoPolicyAreNotFoundOrTheConfiguredDefault() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test");
        assertThat(answer(engine(TESTING, LocalPolicies.none()), plain)).isEqualTo("NOTFOUND ");
        assertThat(answer(engine(null, LocalPolicies.none()), plain)).isEqualTo("NOTFOUND ");
        assertThat(answer(engine(null, LocalPolicies.none()), plain.withDefaultLevel("may")))
                .isEqualTo("OK may");
    }

    @Test
    void localRules() {
        mx(DnssecStatus.INSECURE, "10 mx1.example.test");
        assertThat(answer(
                        engine(
                                null,
                                LocalPolicies.of(Map.of("example.test", LocalPolicy.of(LocalPolicy.Level.ENCRYPT)))),
                        plain))
                .isEqualTo("OK encrypt");
        assertThat(answer(
                        engine(
                                null,
                                LocalPolicies.of(Map.of(
                                        ".test",
                                        new LocalPolicy(
                                                LocalPolicy.Level.VERIFY,
                                                List.of("mx1.example.test", ".example.test"))))),
                        plain))
                .isEqualTo("OK secure match=mx1.example.test:.example.test");
        assertThat(answer(
                        engine(null, LocalPolicies.of(Map.of(".test", LocalPolicy.of(LocalPolicy.Level.VERIFY)))),
                        plain))
                .isEqualTo("OK secure");
        // MTA-STS enforce ranks above the local rule.
        assertThat(answer(
                        engine(
                                ENFORCE,
                                LocalPolicies.of(Map.of("example.test", LocalPolicy.of(LocalPolicy.Level.ENCRYPT)))),
                        plain))
                .startsWith("OK secure match=");
    }

    @Test
    void dnsOutcomes() {
        PolicyEngine engine = engine(null, LocalPolicies.none());
        dns.fail("example.test", RecordType.MX, DnssecStatus.INDETERMINATE, LookupFailure.SERVFAIL);
        assertThat(answer(engine, plain)).startsWith("TEMP ").contains("SERVFAIL");
        dns.answer(
                "example.test",
                RecordType.MX,
                new DnsAnswer.Records<>(
                        "example.test", RecordType.MX, List.of(), DnssecStatus.SECURE, List.of(new MxRecord(0, ""))));
        assertThat(answer(engine, plain)).isEqualTo("NOTFOUND ");
        assertThat(PostfixPolicy.answer(engine.planFor("absent.test", NOW), plain.withDefaultLevel("dane"))
                        .wire())
                .isEqualTo("NOTFOUND ");
    }
}
