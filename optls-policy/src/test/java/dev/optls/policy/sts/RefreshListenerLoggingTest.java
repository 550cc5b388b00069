package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The default {@link RefreshListener}: what an administrator reads (System.Logger, here backed by java.util.logging). */
class RefreshListenerLoggingTest {

    private final Logger jul = Logger.getLogger(RefreshSchedule.class.getName());
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

    private String formatted(LogRecord r) {
        return new SimpleFormatter().formatMessage(r);
    }

    @Test
    void aFailedRefreshIsAWarningThatSaysWhatStillAppliesAndWhatToCheck() {
        Instant t = Instant.parse("2026-03-01T00:00:00Z");
        CachedPolicy entry = CachedPolicy.fetched("broken.test", "b1", RefreshScheduleTest.policy("broken.test"), t);
        StsRefresh refresh = new StsRefresh(
                "broken.test",
                StsRefresh.Outcome.FETCH_FAILED,
                entry,
                "refreshing policy id b1 failed (sts-policy-fetch-error: HTTP 503)",
                Optional.of(new StsFetch.Failed(StsFetchFailure.HTTP_STATUS, "HTTP 503")));

        RefreshListener.logging().alert(refresh, t.plusSeconds(3600));
        RefreshListener.logging().failed(new PolicyCacheException("Redis down"), t.plusSeconds(60));

        assertThat(records).hasSize(2);
        assertThat(records.get(0).getLevel()).isEqualTo(Level.WARNING);
        assertThat(formatted(records.get(0)))
                .isEqualTo("MTA-STS policy of broken.test was not refreshed: refreshing policy id b1 failed "
                        + "(sts-policy-fetch-error: HTTP 503). The cached policy still applies until "
                        + "2026-03-08T00:00:00Z; check the _mta-sts TXT record and "
                        + "https://mta-sts.broken.test/.well-known/mta-sts.txt (or ask the domain's administrators). "
                        + "Next attempt at 2026-03-01T01:00:00Z.");
        assertThat(records.get(1).getLevel()).isEqualTo(Level.SEVERE);
        assertThat(records.get(1).getThrown()).hasMessage("Redis down");
        assertThat(formatted(records.get(1))).contains("Check the policy cache").contains("2026-03-01T00:01:00Z");
    }
}
