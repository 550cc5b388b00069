package dev.optls.policy.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.policy.dane.FakeDns;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.engine.DeliveryPlan;
import dev.optls.policy.engine.LocalPolicies;
import dev.optls.policy.engine.LocalPolicy;
import dev.optls.policy.engine.MxPlan;
import dev.optls.policy.engine.PolicyEngine;
import dev.optls.policy.engine.PolicySource;
import dev.optls.policy.engine.Requirement;
import dev.optls.policy.rpt.PolicyReport;
import dev.optls.policy.rpt.PolicyType;
import dev.optls.policy.rpt.ReportPolicy;
import dev.optls.policy.rpt.TlsRptCollector;
import dev.optls.policy.rpt.TlsRptResult;
import dev.optls.testkit.ClosedPort;
import dev.optls.tls.blocking.Timeouts;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PolicyClient} where no SMTP server is needed: plans that allow no delivery, hosts without addresses, the
 * loopback-only test port, a refused connection; sessions with real servers are in optls-interop's PolicyClientIT.
 */
class PolicyClientTest {

    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    private static final ReportPolicy STS = ReportPolicy.sts(
            "example.test",
            List.of("version: STSv1", "mode: enforce", "mx: mx1.example.test"),
            List.of("mx1.example.test"));

    private final TlsRptCollector collector = new TlsRptCollector();
    /** The port the client connects to on loopback: connections are refused. */
    private final ClosedPort closedPort = ClosedPort.open();

    @AfterEach
    void releasePort() {
        closedPort.close();
    }

    private PolicyClient client(FakeDns dns) {
        return PolicyClient.builder(dns, collector)
                .clock(() -> NOW)
                .timeouts(Timeouts.all(Duration.ofSeconds(2)))
                .testingPortOnLoopback(closedPort.port())
                .build();
    }

    private static MxPlan host(String name, Requirement requirement, ReportPolicy policy) {
        return new MxPlan(
                name,
                10,
                requirement,
                name,
                List.of(name),
                List.of(),
                Optional.empty(),
                policy,
                "test: " + requirement);
    }

    private static DeliveryPlan plan(DeliveryPlan.Status status, MxPlan... hosts) {
        return new DeliveryPlan(
                "example.test",
                status,
                PolicySource.MTA_STS_ENFORCE,
                List.of(hosts),
                Optional.empty(),
                Optional.empty(),
                "the plan's reason");
    }

    private Optional<List<PolicyReport>> recorded() {
        return collector.snapshot("example.test", LocalDate.ofInstant(NOW, ZoneOffset.UTC));
    }

    @Test
    void aPlanWithoutHostsIsDeferredWithItsReason() {
        DeliveryPlan plan = new DeliveryPlan(
                "example.test",
                DeliveryPlan.Status.TEMPORARY_FAILURE,
                PolicySource.NONE,
                List.of(),
                Optional.empty(),
                Optional.empty(),
                "the MX lookup of example.test failed (SERVFAIL)");
        DeliveryAttempt attempt = client(new FakeDns()).connect(plan);
        assertThat(attempt).isInstanceOfSatisfying(DeliveryAttempt.Deferred.class, d -> {
            assertThat(d.reason()).isEqualTo("the MX lookup of example.test failed (SERVFAIL)");
            assertThat(d.attempts()).isEmpty();
        });
        assertThat(recorded()).isEmpty();
    }

    @Test
    void aHostNotListedInAnEnforcedPolicyIsSkippedAndReported() {
        DeliveryAttempt attempt = client(new FakeDns())
                .connect(plan(DeliveryPlan.Status.NO_USABLE_HOST, host("mx2.example.test", Requirement.SKIP, STS)));
        assertThat(attempt).isInstanceOf(DeliveryAttempt.Deferred.class);
        assertThat(attempt.attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(HostAttempt.Outcome.SKIPPED);
            assertThat(a.address()).isEmpty();
            assertThat(a.reported()).contains(TlsRptResult.VALIDATION_FAILURE);
        });
        assertThat(recorded())
                .get()
                .satisfies(reports -> assertThat(reports).singleElement().satisfies(r -> {
                    assertThat(r.failedSessions()).isEqualTo(1);
                    assertThat(r.failureDetails().get(0).failure().failureReasonCode())
                            .isEqualTo("mx-not-in-sts-policy");
                    assertThat(r.failureDetails().get(0).failure().receivingMxHostname())
                            .isEqualTo("mx2.example.test");
                }));
    }

    @Test
    void aLocalDaneOnlyRuleSkipsHostsWithoutTlsaAndReportsDaneRequired() {
        FakeDns dns = new FakeDns();
        dns.mx("example.test", DnssecStatus.SECURE, new MxRecord(10, "mx1.example.test"))
                .a("mx1.example.test", DnssecStatus.SECURE);
        // Securely no TLSA records at _25._tcp.mx1.example.test (FakeDns answers NXDOMAIN, signed).
        DeliveryPlan plan = PolicyEngine.builder(dns)
                .localPolicies(LocalPolicies.of(Map.of("example.test", LocalPolicy.of(LocalPolicy.Level.DANE_ONLY))))
                .build()
                .planFor("example.test", NOW);
        assertThat(plan.status()).isEqualTo(DeliveryPlan.Status.NO_USABLE_HOST);
        assertThat(plan.hosts())
                .singleElement()
                .satisfies(h -> assertThat(h.reason()).contains("local policy dane-only"));

        DeliveryAttempt attempt = client(dns).connect(plan);

        assertThat(attempt).isInstanceOf(DeliveryAttempt.Deferred.class);
        assertThat(attempt.attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(HostAttempt.Outcome.SKIPPED);
            assertThat(a.reported()).contains(TlsRptResult.DANE_REQUIRED);
        });
        assertThat(recorded())
                .get()
                .satisfies(reports -> assertThat(reports).singleElement().satisfies(r -> {
                    assertThat(r.policy().type()).isEqualTo(PolicyType.TLSA);
                    assertThat(r.failedSessions()).isEqualTo(1);
                    assertThat(r.failureDetails().get(0).failure().resultType()).isEqualTo(TlsRptResult.DANE_REQUIRED);
                }));
    }

    @Test
    void aHostWithoutAddressesIsAFailedAttemptButNotATlsFailure() {
        DeliveryAttempt attempt = client(new FakeDns())
                .connect(plan(DeliveryPlan.Status.DELIVER, host("mx1.example.test", Requirement.STS_ENFORCE, STS)));
        assertThat(attempt).isInstanceOfSatisfying(DeliveryAttempt.Deferred.class, d -> {
            assertThat(d.reason()).contains("no MX host of example.test met its requirement");
            assertThat(d.describe()).contains("mx1.example.test: failed: no address for mx1.example.test");
        });
        assertThat(attempt.attempts().get(0).reason()).contains("NXDOMAIN");
        assertThat(recorded()).isEmpty();
    }

    @Test
    void theTestPortConnectsToLoopbackOnly() {
        FakeDns dns = new FakeDns().a("mx1.example.test", DnssecStatus.SECURE); // 192.0.2.1
        dns.noData("mx1.example.test", RecordType.AAAA);
        DeliveryAttempt attempt = client(dns)
                .connect(plan(DeliveryPlan.Status.DELIVER, host("mx1.example.test", Requirement.STS_ENFORCE, STS)));
        assertThat(attempt.attempts()).singleElement().satisfies(a -> {
            assertThat(a.address()).contains("192.0.2.1");
            assertThat(a.outcome()).isEqualTo(HostAttempt.Outcome.FAILED);
            assertThat(a.reason()).contains("only connects to loopback");
        });
        assertThat(recorded()).isEmpty();
    }

    @Test
    void aRefusedConnectionIsTriedOnEveryAddressAndNotReported() throws Exception {
        FakeDns dns = new FakeDns();
        dns.answer(
                "mx1.example.test",
                RecordType.A,
                new DnsAnswer.Records<>(
                        "mx1.example.test",
                        RecordType.A,
                        List.of(),
                        DnssecStatus.SECURE,
                        List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("127.0.0.2"))));
        dns.answer(
                "mx1.example.test",
                RecordType.AAAA,
                new DnsAnswer.Records<>(
                        "mx1.example.test",
                        RecordType.AAAA,
                        List.of(),
                        DnssecStatus.SECURE,
                        List.of(InetAddress.getByName("::1"))));
        PolicyClient client = PolicyClient.builder(dns, collector)
                .clock(() -> NOW)
                .maxAddressesPerHost(2)
                .timeouts(Timeouts.all(Duration.ofSeconds(2)))
                .testingPortOnLoopback(closedPort.port())
                .build();
        DeliveryAttempt attempt = client.connect(
                plan(DeliveryPlan.Status.DELIVER, host("mx1.example.test", Requirement.STS_ENFORCE, STS)));
        assertThat(attempt).isInstanceOf(DeliveryAttempt.Deferred.class);
        // A first, then AAAA, at most two: ::1 is not tried.
        assertThat(attempt.attempts())
                .extracting(a -> a.address().orElseThrow())
                .containsExactly("127.0.0.1", "127.0.0.2");
        assertThat(attempt.attempts()).allSatisfy(a -> {
            assertThat(a.reason()).contains("cannot connect");
            assertThat(a.reported()).isEmpty();
        });
        assertThat(recorded()).isEmpty();
    }

    @Test
    void theBuilderRefusesNonsense() {
        PolicyClient.Builder builder = PolicyClient.builder(new FakeDns(), collector);
        assertThatThrownBy(() -> builder.testingPortOnLoopback(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder.maxAddressesPerHost(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder.helloName("two words")).isInstanceOf(IllegalArgumentException.class);
    }
}
