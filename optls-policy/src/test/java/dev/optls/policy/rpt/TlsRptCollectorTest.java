package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Aggregation of sessions per policy domain, UTC day and policy (RFC 8460 §4.4). */
class TlsRptCollectorTest {

    private static final ReportPolicy STS = ReportPolicy.sts(
            "example.com",
            List.of("version: STSv1", "mode: enforce", "mx: mx.example.com", "max_age: 86400"),
            List.of("mx.example.com"));
    private static final ReportPolicy NONE = ReportPolicy.noPolicyFound("example.org");
    private static final Instant DAY1_NOON = Instant.parse("2026-11-29T12:00:00Z");
    private static final Instant DAY1_LAST = Instant.parse("2026-11-29T23:59:59.999Z");
    private static final Instant DAY2_FIRST = Instant.parse("2026-11-30T00:00:00Z");

    @Test
    void countsSuccessesAndFailuresPerPolicyAndUtcDay() {
        TlsRptCollector c = new TlsRptCollector();
        SessionFailure expired = SessionFailure.of(TlsRptResult.CERTIFICATE_EXPIRED, "mx.example.com");
        c.recordSuccess(STS, DAY1_NOON);
        c.recordSuccess(STS, DAY1_LAST);
        c.recordFailure(STS, expired, DAY1_NOON);
        c.recordFailure(STS, expired, DAY1_LAST);
        c.recordFailure(STS, SessionFailure.of(TlsRptResult.STARTTLS_NOT_SUPPORTED, "mx.example.com"), DAY1_NOON);
        c.recordSuccess(STS, DAY2_FIRST);
        c.recordSuccess(NONE, DAY1_NOON);

        assertThat(c.snapshot("EXAMPLE.com.", LocalDate.of(2026, 11, 29)))
                .contains(List.of(new PolicyReport(
                        STS,
                        2,
                        3,
                        List.of(
                                new FailureDetail(expired, 2),
                                new FailureDetail(
                                        SessionFailure.of(TlsRptResult.STARTTLS_NOT_SUPPORTED, "mx.example.com"),
                                        1)))));
        assertThat(c.snapshot("example.com", LocalDate.of(2026, 11, 30)))
                .contains(List.of(new PolicyReport(STS, 1, 0, List.of())));
        assertThat(c.snapshot("example.net", LocalDate.of(2026, 11, 29))).isEmpty();
    }

    @Test
    void aChangedPolicyIsASeparateEntry() {
        TlsRptCollector c = new TlsRptCollector();
        ReportPolicy tlsa = ReportPolicy.tlsa("example.com", List.of("3 1 1 AABB"));
        c.recordSuccess(STS, DAY1_NOON);
        c.recordSuccess(tlsa, DAY1_NOON);
        c.recordSuccess(tlsa, DAY1_NOON);
        assertThat(c.snapshot("example.com", LocalDate.of(2026, 11, 29)).orElseThrow())
                .extracting(PolicyReport::policy, PolicyReport::successfulSessions)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(STS, 1L), org.assertj.core.groups.Tuple.tuple(tlsa, 2L));
    }

    @Test
    void drainReturnsOnlyFinishedDaysAndForgetsThem() {
        TlsRptCollector c = new TlsRptCollector();
        c.recordSuccess(STS, DAY1_NOON);
        c.recordSuccess(NONE, DAY1_NOON);
        c.recordSuccess(STS, DAY2_FIRST);

        Map<LocalDate, Map<String, List<PolicyReport>>> drained = c.drainBefore(LocalDate.of(2026, 11, 30));
        assertThat(drained).containsOnlyKeys(LocalDate.of(2026, 11, 29));
        assertThat(drained.get(LocalDate.of(2026, 11, 29))).containsOnlyKeys("example.com", "example.org");
        assertThat(c.snapshot("example.com", LocalDate.of(2026, 11, 29))).isEmpty();
        assertThat(c.snapshot("example.com", LocalDate.of(2026, 11, 30))).isPresent();
        assertThat(c.drainBefore(LocalDate.of(2026, 11, 30))).isEmpty();
    }

    @Test
    void detailsAreBoundedButEveryFailureIsCounted() {
        TlsRptCollector c = new TlsRptCollector(2, 16, 100);
        for (int i = 0; i < 5; i++) {
            c.recordFailure(
                    STS,
                    new SessionFailure(
                            TlsRptResult.VALIDATION_FAILURE, "192.0.2." + i, "mx.example.com", null, null, null, null),
                    DAY1_NOON);
        }
        // A failure already kept is still counted in its entry.
        c.recordFailure(
                STS,
                new SessionFailure(
                        TlsRptResult.VALIDATION_FAILURE, "192.0.2.0", "mx.example.com", null, null, null, null),
                DAY1_NOON);

        PolicyReport r = c.snapshot("example.com", LocalDate.of(2026, 11, 29))
                .orElseThrow()
                .get(0);
        assertThat(r.failedSessions()).isEqualTo(6);
        assertThat(r.failureDetails())
                .extracting(FailureDetail::failedSessionCount)
                .containsExactly(2L, 1L);
        assertThat(c.droppedDetails()).isEqualTo(3);
    }

    @Test
    void policiesAndDomainDaysAreBounded() {
        TlsRptCollector c = new TlsRptCollector(10, 1, 2);
        c.recordSuccess(STS, DAY1_NOON);
        c.recordSuccess(ReportPolicy.tlsa("example.com", List.of("3 1 1 AA")), DAY1_NOON); // second policy: dropped
        c.recordSuccess(NONE, DAY1_NOON);
        c.recordSuccess(ReportPolicy.noPolicyFound("example.net"), DAY1_NOON); // third domain-day: dropped
        assertThat(c.droppedSessions()).isEqualTo(2);
        assertThat(c.snapshot("example.net", LocalDate.of(2026, 11, 29))).isEmpty();
        c.drainBefore(LocalDate.of(2026, 11, 30));
        c.recordSuccess(ReportPolicy.noPolicyFound("example.net"), DAY2_FIRST); // room again after the drain
        assertThat(c.snapshot("example.net", LocalDate.of(2026, 11, 30))).isPresent();
        assertThatThrownBy(() -> new TlsRptCollector(0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void countsExactlyUnderConcurrentUse() throws Exception {
        TlsRptCollector c = new TlsRptCollector();
        SessionFailure f = SessionFailure.of(TlsRptResult.DNSSEC_INVALID, "mx.example.com");
        int threads = 4;
        int perThread = 5_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        c.recordSuccess(STS, DAY1_NOON);
                        c.recordFailure(STS, f, DAY1_NOON);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> fut : futures) {
                fut.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        PolicyReport r = c.snapshot("example.com", LocalDate.of(2026, 11, 29))
                .orElseThrow()
                .get(0);
        assertThat(r.successfulSessions()).isEqualTo((long) threads * perThread);
        assertThat(r.failedSessions()).isEqualTo((long) threads * perThread);
        assertThat(r.failureDetails()).containsExactly(new FailureDetail(f, (long) threads * perThread));
    }
}
