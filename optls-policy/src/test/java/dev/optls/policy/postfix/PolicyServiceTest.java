package dev.optls.policy.postfix;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.dane.FakeDns;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.engine.LocalPolicies;
import dev.optls.policy.engine.PolicyEngine;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyServiceTest {

    private final FakeDns dns = new FakeDns();

    private PolicyService service() {
        return service(LocalPolicies.none());
    }

    private PolicyService service(LocalPolicies local) {
        return new PolicyService(
                PolicyEngine.builder(dns).localPolicies(local).build(),
                Set.of("postfix", "tls"),
                PostfixPolicy.Options.defaults(),
                Duration.ofSeconds(60),
                Duration.ofSeconds(10),
                100,
                Clock.systemUTC());
    }

    @Test
    void keysPostfixSendsAreReducedToTheDomainOrNotLookedUp() {
        assertThat(PolicyService.lookupDomain("Example.COM.")).hasValue("example.com");
        assertThat(PolicyService.lookupDomain("example.com:2525")).hasValue("example.com");
        assertThat(PolicyService.lookupDomain("example.com:smtp")).hasValue("example.com");
        assertThat(PolicyService.lookupDomain("_dmarc.example.com")).hasValue("_dmarc.example.com");
        assertThat(PolicyService.lookupDomain(".example.com")).isEmpty();
        assertThat(PolicyService.lookupDomain("[mx.example.com]:25")).isEmpty();
        assertThat(PolicyService.lookupDomain("[192.0.2.1]")).isEmpty();
        assertThat(PolicyService.lookupDomain("example.com:")).isEmpty();
        assertThat(PolicyService.lookupDomain("exa mple.com")).isEmpty();
        assertThat(PolicyService.lookupDomain("a..b")).isEmpty();
        assertThat(PolicyService.lookupDomain("-a.b")).isEmpty();
        assertThat(PolicyService.lookupDomain("é.example")).isEmpty();
        assertThat(PolicyService.lookupDomain("a".repeat(64) + ".test")).isEmpty();
        assertThat(PolicyService.lookupDomain(("a".repeat(60) + ".").repeat(5) + "test"))
                .isEmpty();
        assertThat(PolicyService.lookupDomain("")).isEmpty();
    }

    @Test
    void bracketedNextHopsNameTheHostAndItsPort() {
        assertThat(NextHop.parse("[Relay.Example.COM.]")).hasValue(new NextHop("relay.example.com", 25, true));
        assertThat(NextHop.parse("[relay.example.com]:587")).hasValue(new NextHop("relay.example.com", 587, true));
        assertThat(NextHop.parse("[relay.example.com]:submission"))
                .hasValue(new NextHop("relay.example.com", 587, true));
        assertThat(NextHop.parse("[relay.example.com]:smtps")).hasValue(new NextHop("relay.example.com", 465, true));
        assertThat(NextHop.parse("[relay.example.com]:587").orElseThrow().key()).isEqualTo("[relay.example.com]:587");
        assertThat(NextHop.parse("example.com:2525")).hasValue(new NextHop("example.com", 2525, false));
        assertThat(NextHop.parse("example.com:2525").orElseThrow().key()).isEqualTo("example.com:2525");
        assertThat(NextHop.parse("Example.com:smtp").orElseThrow().key()).isEqualTo("example.com");
        for (String bad : List.of(
                "[192.0.2.1]",
                "[192.0.2.1]:25",
                "[ipv6:2001:db8::1]",
                "[relay.example.com",
                "[relay.example.com]587",
                "[relay.example.com]:",
                "[relay.example.com]:0",
                "[relay.example.com]:65536",
                "[relay.example.com]:pop3",
                "[]:25",
                "[a..b]",
                "example.com:pop3",
                "example.com:99999")) {
            assertThat(NextHop.parse(bad)).as(bad).isEmpty();
        }
    }

    @Test
    void aBracketedNextHopIsAnsweredFromTheTlsaRecordsOfItsPort() {
        dns.a("relay.example.test", DnssecStatus.SECURE)
                .tlsa("_587._tcp.relay.example.test", DnssecStatus.SECURE, "3 1 1 " + "ab".repeat(32))
                .a("plain.example.test", DnssecStatus.SECURE);
        PolicyService service = service();

        assertThat(service.lookup("postfix", "[relay.example.test]:587").wire()).isEqualTo("OK dane-only");
        assertThat(service.lookup("postfix", "[plain.example.test]:587").wire()).isEqualTo("NOTFOUND ");
        // Cached under its own key: the same next hop again asks nothing, the domain of the same name is its own.
        int asked = dns.asked.size();
        assertThat(service.lookup("postfix", "[RELAY.example.test]:submission").wire())
                .isEqualTo("OK dane-only");
        assertThat(dns.asked).hasSize(asked);
        assertThat(service.lookup("postfix", "relay.example.test").wire()).isNotEqualTo("OK dane-only");
    }

    /** A relay host without DANE gets its local rule, keyed as Postfix asks: {@code [host]} or {@code [host]:port}. */
    @Test
    void aBracketedNextHopWithoutDaneGetsItsLocalRule() {
        dns.a("relay.example.test", DnssecStatus.INSECURE).a("smart.example.test", DnssecStatus.INSECURE);
        PolicyService service = service(LocalPolicyFile.parse("""
                [relay.example.test]:587  verify match=relay.example.test:.example.test
                [smart.example.test]      encrypt
                relay.example.test        may
                """, "tls-policy"));

        assertThat(service.lookup("postfix", "[relay.example.test]:587").wire())
                .isEqualTo("OK secure match=relay.example.test:.example.test");
        assertThat(service.lookup("postfix", "[smart.example.test]").wire()).isEqualTo("OK encrypt");
        assertThat(service.lookup("postfix", "[smart.example.test]:25").wire()).isEqualTo("OK encrypt");
        // Another port of the same host is another next hop; the domain rule of the same name is not for it.
        assertThat(service.lookup("postfix", "[relay.example.test]:465").wire()).isEqualTo("NOTFOUND ");
        assertThat(service.lookup("postfix", "[smart.example.test]:587").wire()).isEqualTo("NOTFOUND ");
    }

    @Test
    void aDomainWithAPortGetsDaneFromTheTlsaRecordsOfItsMxHostsOnThatPort() {
        dns.mx("example.test", DnssecStatus.SECURE, new MxRecord(10, "mx.example.test"))
                .a("mx.example.test", DnssecStatus.SECURE)
                .tlsa("_2525._tcp.mx.example.test", DnssecStatus.SECURE, "3 1 1 " + "ab".repeat(32));
        PolicyService service = service();

        // Postfix connects to the MX hosts on 2525 and looks for TLSA records there, so the answer must come from them.
        assertThat(service.lookup("postfix", "example.test:2525").wire()).isEqualTo("OK dane-only");
        assertThat(service.lookup("postfix", "example.test").wire()).isEqualTo("NOTFOUND ");
        assertThat(dns.asked).contains("TLSA _2525._tcp.mx.example.test", "TLSA _25._tcp.mx.example.test");
    }

    @Test
    void parentKeysAndForeignKeysAreNotFoundWithoutADnsLookup() {
        PolicyService service = service();
        assertThat(service.lookup("postfix", ".test").wire()).isEqualTo("NOTFOUND ");
        assertThat(service.lookup("postfix", "[10.0.0.1]:25").wire()).isEqualTo("NOTFOUND ");
        assertThat(dns.asked).isEmpty();
    }

    @Test
    void anUnknownMapNameIsPermAndSaysWhatToFix() {
        assertThat(service().lookup("other", "example.test").wire())
                .startsWith("PERM unknown map name 'other'")
                .contains("postfix, tls")
                .contains("smtp_tls_policy_maps");
    }

    @Test
    void answersAreCachedPerDomainAcrossMapNames() {
        PolicyService service = service();
        dns.noData("self.test", RecordType.MX).a("self.test", DnssecStatus.INSECURE);
        dns.fail("down.test", RecordType.MX, DnssecStatus.INDETERMINATE, LookupFailure.TIMEOUT);

        assertThat(service.lookup("postfix", "self.test").wire()).isEqualTo("NOTFOUND ");
        int asked = dns.asked.size();
        assertThat(service.lookup("tls", "SELF.test:25").wire()).isEqualTo("NOTFOUND ");
        assertThat(dns.asked).hasSize(asked);
        assertThat(service.lookup("postfix", "down.test").wire())
                .startsWith("TEMP ")
                .contains("TIMEOUT");
        assertThat(service.cache().hits()).isEqualTo(1);
        assertThat(service.cache().lookups()).isEqualTo(2);
    }
}
