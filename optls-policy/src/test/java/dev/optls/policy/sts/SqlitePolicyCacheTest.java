package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite cache: schema and WAL on open, upsert, reopen, concurrent use, and clear errors for foreign files. */
class SqlitePolicyCacheTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00.123456789Z");
    private static final String ENFORCE = "version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n";
    private static final String TESTING =
            "version: STSv1\r\nmode: testing\r\nmx: mx2.example.test\r\nmax_age: 3600\r\n";

    @TempDir
    Path dir;

    static StsPolicy policy(String text) {
        return ((StsPolicyParse.Parsed) StsPolicy.parse(text)).policy();
    }

    @Test
    void storesAndReturnsTheEntryExactly() {
        try (SqlitePolicyCache cache = SqlitePolicyCache.open(dir.resolve("sts.db"))) {
            assertThat(cache.get("example.test")).isEmpty();
            CachedPolicy entry = CachedPolicy.fetched("Example.Test.", "one", policy(ENFORCE), T0);

            cache.put(entry);

            assertThat(cache.get("EXAMPLE.test.")).contains(entry);
            assertThat(cache.get("example.test").orElseThrow().policy().text()).isEqualTo(ENFORCE);
            assertThat(cache.size()).isEqualTo(1);
        }
    }

    @Test
    void putReplacesTheEntryAndRemoveDeletesIt() {
        try (SqlitePolicyCache cache = SqlitePolicyCache.open(dir.resolve("sts.db"))) {
            cache.put(CachedPolicy.fetched("example.test", "one", policy(ENFORCE), T0));
            CachedPolicy second = CachedPolicy.fetched("example.test", "two", policy(TESTING), T0.plusSeconds(5));

            cache.put(second);

            assertThat(cache.get("example.test")).contains(second);
            assertThat(cache.size()).isEqualTo(1);
            cache.remove("Example.test.");
            assertThat(cache.get("example.test")).isEmpty();
            assertThat(cache.size()).isZero();
        }
    }

    @Test
    void entriesSurviveClosingAndReopening() {
        Path file = dir.resolve("sts.db");
        CachedPolicy a = CachedPolicy.fetched("a.example", "one", policy(ENFORCE), T0);
        CachedPolicy b = CachedPolicy.fetched("b.example", "Two2", policy(TESTING), T0.plusSeconds(1));
        try (SqlitePolicyCache cache = SqlitePolicyCache.open(file)) {
            cache.put(a);
            cache.put(b);
        }

        try (SqlitePolicyCache reopened = SqlitePolicyCache.open(file)) {
            assertThat(reopened.get("a.example")).contains(a);
            assertThat(reopened.get("b.example")).contains(b);
            assertThat(reopened.file()).isEqualTo(file.toAbsolutePath());
        }
    }

    @Test
    void theFileIsInWalModeWithTheSchemaVersion() throws SQLException {
        Path file = dir.resolve("sts.db");
        SqlitePolicyCache.open(file).close();

        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = c.createStatement()) {
            assertThat(single(s, "PRAGMA journal_mode")).isEqualTo("wal");
            assertThat(single(s, "PRAGMA user_version")).isEqualTo(Integer.toString(SqlitePolicyCache.SCHEMA_VERSION));
            assertThat(single(s, "SELECT group_concat(name) FROM pragma_table_info('sts_policy')"))
                    .isEqualTo("policy_domain,id,policy,fetched_at,expires_at,expires_epoch_second");
        }
    }

    @Test
    void concurrentUseFromSeveralThreadsAndTwoCachesOnOneFile() throws Exception {
        Path file = dir.resolve("sts.db");
        int threads = 8;
        int rounds = 40;
        try (SqlitePolicyCache first = SqlitePolicyCache.open(file);
                SqlitePolicyCache second = SqlitePolicyCache.open(file)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger seen = new AtomicInteger();
            List<Future<?>> futures = new ArrayList<>();
            try {
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    SqlitePolicyCache cache = thread % 2 == 0 ? first : second;
                    futures.add(pool.submit(() -> {
                        go.await();
                        for (int i = 0; i < rounds; i++) {
                            String own = "t" + thread + ".example";
                            cache.put(CachedPolicy.fetched(own, "id" + i, policy(ENFORCE), T0.plusSeconds(i)));
                            assertThat(cache.get(own).orElseThrow().id()).isEqualTo("id" + i);
                            cache.put(CachedPolicy.fetched("shared.example", "t" + thread, policy(TESTING), T0));
                            if (cache.get("shared.example").isPresent()) {
                                seen.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : futures) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }

            assertThat(seen.get()).isEqualTo(threads * rounds);
            assertThat(first.size()).isEqualTo(threads + 1);
            for (int t = 0; t < threads; t++) {
                assertThat(second.get("t" + t + ".example").orElseThrow().id()).isEqualTo("id" + (rounds - 1));
            }
            assertThat(first.get("shared.example").orElseThrow().id()).matches("t[0-7]");
        }
    }

    @Test
    void aFileThatIsNotADatabaseIsAClearError() throws Exception {
        Path file = dir.resolve("sts.db");
        byte[] junk = new byte[8192];
        for (int i = 0; i < junk.length; i++) {
            junk[i] = (byte) (i * 31 + 7);
        }
        Files.write(file, junk);

        assertThatThrownBy(() -> SqlitePolicyCache.open(file))
                .isInstanceOf(PolicyCacheException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not a usable SQLite database")
                .hasMessageContaining("delete the file");
        assertThat(Files.readAllBytes(file)).isEqualTo(junk);
    }

    @Test
    void aTextFileIsAClearError() throws Exception {
        Path file = dir.resolve("sts.db");
        Files.writeString(file, "example.test enforce\n".repeat(200), StandardCharsets.US_ASCII);

        assertThatThrownBy(() -> SqlitePolicyCache.open(file))
                .isInstanceOf(PolicyCacheException.class)
                .hasMessageContaining("not a usable SQLite database");
    }

    @Test
    void anUnknownSchemaVersionIsAClearError() throws Exception {
        Path file = dir.resolve("sts.db");
        SqlitePolicyCache.open(file).close();
        execute(file, "PRAGMA user_version = 7");

        assertThatThrownBy(() -> SqlitePolicyCache.open(file))
                .isInstanceOf(PolicyCacheException.class)
                .hasMessageContaining("schema version 7")
                .hasMessageContaining("reads version 1");
    }

    @Test
    void anotherProgramsDatabaseIsNotTakenOver() throws Exception {
        Path file = dir.resolve("other.db");
        execute(file, "CREATE TABLE mail (id INTEGER PRIMARY KEY)");

        assertThatThrownBy(() -> SqlitePolicyCache.open(file))
                .isInstanceOf(PolicyCacheException.class)
                .hasMessageContaining("not an optls MTA-STS cache");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = c.createStatement()) {
            assertThat(single(s, "SELECT group_concat(name) FROM sqlite_master"))
                    .isEqualTo("mail");
        }
    }

    @Test
    void aMissingDirectoryIsAClearError() {
        Path file = dir.resolve("no-such-dir").resolve("sts.db");

        assertThatThrownBy(() -> SqlitePolicyCache.open(file))
                .isInstanceOf(PolicyCacheException.class)
                .hasMessageContaining("does not exist");
    }

    @Test
    void aStoredPolicyThatNoLongerParsesIsAClearError() throws Exception {
        Path file = dir.resolve("sts.db");
        try (SqlitePolicyCache cache = SqlitePolicyCache.open(file)) {
            cache.put(CachedPolicy.fetched("example.test", "one", policy(ENFORCE), T0));
            execute(file, "UPDATE sts_policy SET policy = 'version: STSv2'");

            assertThatThrownBy(() -> cache.get("example.test"))
                    .isInstanceOf(PolicyCacheException.class)
                    .hasMessageContaining("stored policy of example.test does not parse");
        }
    }

    @Test
    void listsEntriesExpiringBeforeACutoffAndPurgesExpiredOnes() {
        try (SqlitePolicyCache cache = SqlitePolicyCache.open(dir.resolve("sts.db"))) {
            CachedPolicy hour = CachedPolicy.fetched("hour.example", "one", policy(TESTING), T0); // T0 + 3600 s
            CachedPolicy day = CachedPolicy.fetched("day.example", "one", policy(ENFORCE), T0); // T0 + 86400 s
            cache.put(day);
            cache.put(hour);

            assertThat(cache.expiringBefore(T0.plusSeconds(3600))).isEmpty();
            assertThat(cache.expiringBefore(T0.plusSeconds(3600).plusNanos(1))).containsExactly(hour);
            assertThat(cache.expiringBefore(T0.plusSeconds(86401))).containsExactly(hour, day);

            assertThat(cache.purgeExpired(T0.plusSeconds(3599))).isZero();
            assertThat(cache.purgeExpired(T0.plusSeconds(3602))).isEqualTo(1);
            assertThat(cache.get("hour.example")).isEmpty();
            assertThat(cache.get("day.example")).contains(day);
        }
    }

    @Test
    void aResolverAfterARestartUsesThePersistedPolicyWithoutFetching() {
        Path file = dir.resolve("sts.db");
        TxtDns dns = new TxtDns();
        dns.records("_mta-sts.example.test", "v=STSv1; id=one;");
        AtomicInteger fetches = new AtomicInteger();
        PolicyFetcher fetcher = domain -> {
            fetches.incrementAndGet();
            return new StsFetch.Fetched(policy(ENFORCE));
        };
        try (SqlitePolicyCache cache = SqlitePolicyCache.open(file)) {
            StsDecision first = new MtaStsResolver(dns, fetcher, cache).policyFor("example.test", T0);
            assertThat(first)
                    .isInstanceOfSatisfying(
                            StsDecision.Apply.class, a -> assertThat(a.basis()).isEqualTo(StsDecision.Basis.FETCHED));
        }

        try (SqlitePolicyCache cache = SqlitePolicyCache.open(file)) {
            StsDecision again = new MtaStsResolver(dns, fetcher, cache).policyFor("example.test", T0.plusSeconds(600));
            assertThat(again).isInstanceOfSatisfying(StsDecision.Apply.class, a -> {
                assertThat(a.basis()).isEqualTo(StsDecision.Basis.CACHED_SAME_ID);
                assertThat(a.allows("mx1.example.test")).isTrue();
            });
        }
        assertThat(fetches).hasValue(1);
    }

    private static String single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    private static void execute(Path file, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
