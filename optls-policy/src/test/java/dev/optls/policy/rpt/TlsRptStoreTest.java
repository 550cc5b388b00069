package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.policy.sts.SqlitePolicyCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TlsRptStore}: what a restart needs of the TLS-RPT counts and waiting reports, in a real SQLite file. */
class TlsRptStoreTest {

    private static final LocalDate DAY = LocalDate.of(2026, 3, 1);
    private static final Instant NOON = Instant.parse("2026-03-01T12:00:00Z");

    @TempDir
    Path dir;

    private static ReportPolicy tlsa(String domain) {
        return ReportPolicy.tlsa(domain, List.of("3 1 1 " + "ab".repeat(32)));
    }

    private static TlsRptStore.Waiting waiting(String domain, int attempts) {
        return new TlsRptStore.Waiting(
                DAY,
                domain,
                List.of(new PolicyReport(ReportPolicy.noPolicyFound(domain), 3, 0, List.of())),
                attempts == 0 ? null : "id-" + domain,
                NOON.plusSeconds(3600),
                attempts == 0 ? null : NOON,
                attempts);
    }

    @Test
    void countsAndWaitingReportsComeBackAsSaved() {
        TlsRptCollector collector = new TlsRptCollector();
        collector.recordSuccess(tlsa("a.test"), NOON);
        collector.recordFailure(tlsa("a.test"), SessionFailure.of(TlsRptResult.TLSA_INVALID, "mx.a.test"), NOON);
        collector.recordSuccess(ReportPolicy.noPolicyFound("b.test"), NOON.plusSeconds(86_400));
        Path file = dir.resolve("tlsrpt.db");
        try (TlsRptStore store = TlsRptStore.open(file)) {
            store.save(collector.takeChanged(), null, List.of(waiting("w.test", 2), waiting("v.test", 0)));
            // Nothing changed since: the rows stay as they are.
            assertThat(collector.takeChanged()).isEmpty();
        }

        try (TlsRptStore store = TlsRptStore.open(file)) {
            TlsRptStore.Contents contents = store.load();
            assertThat(contents.unreadable()).isEmpty();
            assertThat(contents.collecting()).containsOnlyKeys(DAY, DAY.plusDays(1));
            assertThat(contents.collecting().get(DAY).get("a.test"))
                    .isEqualTo(collector.snapshot("a.test", DAY).orElseThrow());
            assertThat(contents.waiting()).containsExactlyInAnyOrder(waiting("w.test", 2), waiting("v.test", 0));

            // A finished day's counts leave with the save that queues its report.
            store.save(Map.of(), DAY.plusDays(1), List.of());
            assertThat(store.load().collecting()).containsOnlyKeys(DAY.plusDays(1));
            assertThat(store.load().waiting()).isEmpty();
        }
    }

    @Test
    void restoredCountsAddUpWithNewSessionsWithinTheLimits() {
        TlsRptCollector first = new TlsRptCollector();
        SessionFailure expired = SessionFailure.of(TlsRptResult.CERTIFICATE_EXPIRED, "mx.a.test");
        SessionFailure mismatch = SessionFailure.of(TlsRptResult.CERTIFICATE_HOST_MISMATCH, "mx.a.test");
        first.recordFailure(tlsa("a.test"), expired, NOON);
        first.recordFailure(tlsa("a.test"), expired, NOON);
        first.recordSuccess(tlsa("a.test"), NOON);

        TlsRptCollector second = new TlsRptCollector(1, 16, 100);
        second.recordFailure(tlsa("a.test"), mismatch, NOON);
        second.restore(DAY, first.snapshot("a.test", DAY).orElseThrow());

        assertThat(second.snapshot("a.test", DAY).orElseThrow()).singleElement().satisfies(p -> {
            assertThat(p.successfulSessions()).isEqualTo(1);
            assertThat(p.failedSessions()).isEqualTo(3);
            // One detail kept (the limit); the two restored sessions of the other are counted as dropped.
            assertThat(p.failureDetails()).containsExactly(new FailureDetail(mismatch, 1));
        });
        assertThat(second.droppedDetails()).isEqualTo(2);
        // Restoring is not a change to save again; the session recorded before it is.
        Map<LocalDate, Map<String, List<PolicyReport>>> taken = second.takeChanged();
        assertThat(taken.get(DAY)).containsOnlyKeys("a.test");
        assertThat(second.takeChanged()).isEmpty();
        // A save that failed: what it took is marked again, and comes back with the counts of the next save.
        second.markChanged(taken);
        second.recordSuccess(tlsa("a.test"), NOON);
        assertThat(second.takeChanged().get(DAY).get("a.test"))
                .singleElement()
                .satisfies(p -> assertThat(p.successfulSessions()).isEqualTo(2));
    }

    @Test
    void aRowThatDoesNotReadBackIsNamedAndTheOthersStillLoad() throws Exception {
        Path file = dir.resolve("tlsrpt.db");
        TlsRptCollector collector = new TlsRptCollector();
        collector.recordSuccess(tlsa("good.test"), NOON);
        try (TlsRptStore store = TlsRptStore.open(file)) {
            store.save(collector.takeChanged(), null, List.of(waiting("w.test", 1)));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO collecting VALUES ('2026-03-01', 'bad.test', '{\"policies\": 7}')");
            s.executeUpdate("UPDATE waiting SET retry_at = 'soon'");
        }

        try (TlsRptStore store = TlsRptStore.open(file)) {
            TlsRptStore.Contents contents = store.load();
            assertThat(contents.collecting().get(DAY)).containsOnlyKeys("good.test");
            assertThat(contents.waiting()).isEmpty();
            assertThat(contents.unreadable())
                    .hasSize(2)
                    .anySatisfy(u -> assertThat(u).startsWith("counts of 2026-03-01 bad.test: "))
                    .anySatisfy(u -> assertThat(u).startsWith("report of 2026-03-01 w.test: "));
        }
    }

    @Test
    void filesThatAreNotAStoreAreRefusedWithWhatToDo() throws Exception {
        Path junk = dir.resolve("junk.db");
        Files.writeString(junk, "not a database at all, but long enough to have a header of sorts ".repeat(10));
        assertThatThrownBy(() -> TlsRptStore.open(junk))
                .isInstanceOf(TlsRptStoreException.class)
                .hasMessageContaining("TLS-RPT store " + junk)
                .hasMessageContaining("not a usable SQLite database")
                .hasMessageContaining("delete the file (the counts and reports it holds are lost)");

        // The MTA-STS cache has the same schema version number: told apart by its tables.
        Path cache = dir.resolve("sts.db");
        SqlitePolicyCache.open(cache).close();
        assertThatThrownBy(() -> TlsRptStore.open(cache))
                .isInstanceOf(TlsRptStoreException.class)
                .hasMessageContaining("has no table collecting")
                .hasMessageContaining("not an optls TLS-RPT store");
        Path store = dir.resolve("store.db");
        TlsRptStore.open(store).close();
        assertThatThrownBy(() -> SqlitePolicyCache.open(store)).hasMessageContaining("not an optls MTA-STS cache");

        assertThatThrownBy(() -> TlsRptStore.open(dir.resolve("missing/tlsrpt.db")))
                .isInstanceOf(TlsRptStoreException.class)
                .hasMessageContaining("does not exist; create it or choose another path");
    }
}
