package dev.optls.policy.postfix;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.dane.FakeDns;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.engine.PolicyEngine;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyServiceTest {

    private final FakeDns dns = new FakeDns();

    private PolicyService service() {
        return new PolicyService(
                PolicyEngine.builder(dns).build(),
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
