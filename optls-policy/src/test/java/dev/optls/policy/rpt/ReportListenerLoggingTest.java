package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The default {@link ReportListener}: levels and messages (System.Logger, here backed by java.util.logging). */
class ReportListenerLoggingTest {

    private final Logger jul = Logger.getLogger(ReportSchedule.class.getName());
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private Level level;

    @BeforeEach
    void capture() {
        level = jul.getLevel();
        jul.setLevel(Level.ALL);
        jul.addHandler(handler);
    }

    @AfterEach
    void release() {
        jul.removeHandler(handler);
        jul.setLevel(level);
    }

    @Test
    void eachOutcomeAtItsLevelWithTheDomainDayAndReason() {
        LocalDate day = LocalDate.of(2026, 3, 1);
        URI uri = URI.create("https://r.example/v1");
        ReportListener log = ReportListener.logging();

        log.outcome(
                new ReportOutcome.Delivered("a.test", day, "id-1", 2, List.of(new ReportDelivery.Accepted(uri, 201))));
        log.outcome(new ReportOutcome.WillRetry(
                "b.test", day, 1, "not accepted: 500", List.of(), Instant.parse("2026-03-02T01:00:00Z")));
        log.outcome(new ReportOutcome.GaveUp("c.test", day, 6, "no retry left", List.of()));
        log.outcome(new ReportOutcome.Dropped("d.test", day, "the queue is full"));
        log.outcome(new ReportOutcome.NotWanted("e.test", day, "no TLS-RPT record"));
        log.failed(new IllegalStateException("bug"), Instant.parse("2026-03-02T00:01:00Z"));

        assertThat(records)
                .extracting(LogRecord::getLevel)
                .containsExactly(Level.INFO, Level.FINE, Level.WARNING, Level.WARNING, Level.FINE, Level.SEVERE);
        SimpleFormatter f = new SimpleFormatter();
        assertThat(f.formatMessage(records.get(0)))
                .isEqualTo(
                        "TLS-RPT report id-1 for a.test on 2026-03-01 delivered to https://r.example/v1 (attempt 2)");
        assertThat(f.formatMessage(records.get(1)))
                .isEqualTo("TLS-RPT report for b.test on 2026-03-01 not delivered (not accepted: 500); attempt 1 "
                        + "failed, next at 2026-03-02T01:00:00Z");
        assertThat(f.formatMessage(records.get(2)))
                .startsWith("TLS-RPT report for c.test on 2026-03-01 given up after 6 attempt(s): no retry left.");
        assertThat(f.formatMessage(records.get(3)))
                .isEqualTo("TLS-RPT report for d.test on 2026-03-01 dropped unsent: the queue is full");
        assertThat(f.formatMessage(records.get(4)))
                .isEqualTo("no TLS-RPT report for e.test on 2026-03-01: no TLS-RPT record");
        assertThat(records.get(5).getThrown()).hasMessage("bug");
    }
}
