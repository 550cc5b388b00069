package dev.optls.policy.sts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.policy.dane.FakeDns;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.engine.PolicyEngine;
import dev.optls.policy.postfix.PolicyService;
import dev.optls.policy.postfix.PostfixPolicy;
import dev.optls.testkit.ClosedPort;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TrustAnchors;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;

/**
 * The Redis cache against a real Debian redis-server on loopback: the hash layout and TTL, replace and remove,
 * settings (password, database, key prefix, timeouts), clear errors, and two resolvers sharing one Redis.
 */
class RedisPolicyCacheTest {

    private static final String ENFORCE = "version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n";
    private static final String TESTING = "version: STSv1\nmode: testing\nmx: mx2.example.test\nmax_age: 3600\n";
    private static final int DATABASE = 3;

    private static TestRedis redis;
    private static RedisClient raw;

    // Redis expires keys by the real clock, so entries are fetched "now" (to the millisecond, like Redis).
    private final Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    @BeforeAll
    static void startRedis() throws Exception {
        redis = TestRedis.start();
        raw = RedisClient.builder()
                .hostAndPort(TestRedis.HOST, redis.port())
                .clientConfig(DefaultJedisClientConfig.builder()
                        .password(TestRedis.PASSWORD)
                        .database(DATABASE)
                        .build())
                .build();
    }

    @AfterAll
    static void stopRedis() {
        if (raw != null) {
            raw.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void empty() {
        raw.flushDB();
    }

    static StsPolicy policy(String text) {
        return ((StsPolicyParse.Parsed) StsPolicy.parse(text)).policy();
    }

    @Test
    void storesOneHashPerDomainWithATtlEndingAtTheExpiry() {
        try (RedisPolicyCache cache = RedisPolicyCache.connect(redis.settings(DATABASE))) {
            CachedPolicy entry = CachedPolicy.fetched("Example.Test.", "one", policy(ENFORCE), now);

            cache.put(entry);

            assertThat(cache.get("example.TEST")).contains(entry);
            String key = "optls:mta-sts:example.test";
            assertThat(cache.keyOf("EXAMPLE.test.")).isEqualTo(key);
            assertThat(raw.hgetAll(key))
                    .isEqualTo(Map.of(
                            "id",
                            "one",
                            "policy",
                            ENFORCE,
                            "fetched_at",
                            now.toString(),
                            "expires_at",
                            now.plusSeconds(86400).toString()));
            long expected = Duration.between(Instant.now(), entry.expiresAt()).toMillis();
            assertThat(raw.pttl(key)).isBetween(expected - 5_000, expected + 1);
        }
    }

    @Test
    void putReplacesTheWholeEntryAndRemoveDeletesIt() {
        try (RedisPolicyCache cache = RedisPolicyCache.connect(redis.settings(DATABASE))) {
            cache.put(CachedPolicy.fetched("example.test", "one", policy(ENFORCE), now));
            CachedPolicy second = CachedPolicy.fetched("example.test", "two", policy(TESTING), now.plusSeconds(1));

            cache.put(second);

            assertThat(cache.get("example.test")).contains(second);
            long pttl = raw.pttl(cache.keyOf("example.test"));
            assertThat(pttl).isLessThanOrEqualTo(3_601_000L).isGreaterThan(3_500_000L);
            cache.remove("Example.Test");
            assertThat(cache.get("example.test")).isEmpty();
            assertThat(raw.exists(cache.keyOf("example.test"))).isFalse();
        }
    }

    @Test
    void redisDropsAnEntryWhenItsPolicyExpires() throws InterruptedException {
        try (RedisPolicyCache cache = RedisPolicyCache.connect(redis.settings(DATABASE))) {
            Instant fetched = Instant.now().minusSeconds(3600).plusMillis(700);
            cache.put(CachedPolicy.fetched("soon.example", "one", policy(TESTING), fetched)); // expires in 0.7 s
            cache.put(CachedPolicy.fetched("past.example", "one", policy(TESTING), now.minusSeconds(7200)));

            assertThat(cache.get("past.example")).isEmpty();
            assertThat(cache.get("soon.example")).isPresent();
            Thread.sleep(1_500);
            assertThat(cache.get("soon.example")).isEmpty();
        }
    }

    @Test
    void theKeyPrefixAndDatabaseSeparateCaches() {
        try (RedisPolicyCache a = RedisPolicyCache.connect(redis.settings(DATABASE));
                RedisPolicyCache b =
                        RedisPolicyCache.connect(redis.settings(DATABASE).withKeyPrefix("other:"));
                RedisPolicyCache c = RedisPolicyCache.connect(redis.settings(DATABASE + 1))) {
            CachedPolicy entry = CachedPolicy.fetched("example.test", "one", policy(ENFORCE), now);

            a.put(entry);

            assertThat(b.get("example.test")).isEmpty();
            assertThat(c.get("example.test")).isEmpty();
            assertThat(raw.keys("*")).containsExactly("optls:mta-sts:example.test");
            b.put(entry);
            assertThat(raw.keys("*")).containsExactlyInAnyOrder("optls:mta-sts:example.test", "other:example.test");
        }
    }

    @Test
    void listsEntriesExpiringBeforeACutoff() {
        try (RedisPolicyCache cache = RedisPolicyCache.connect(redis.settings(DATABASE))) {
            CachedPolicy hour = CachedPolicy.fetched("hour.example", "one", policy(TESTING), now);
            CachedPolicy day = CachedPolicy.fetched("day.example", "one", policy(ENFORCE), now);
            cache.put(hour);
            cache.put(day);
            raw.set("optls:unrelated", "x"); // outside the prefix: not scanned

            assertThat(cache.expiringBefore(now.plusSeconds(3600))).isEmpty();
            assertThat(cache.expiringBefore(now.plusSeconds(7200))).containsExactly(hour);
            assertThat(cache.expiringBefore(now.plusSeconds(86401))).containsExactlyInAnyOrder(hour, day);
        }
    }

    @Test
    void aHashThatIsNotAnEntryIsAClearError() {
        try (RedisPolicyCache cache = RedisPolicyCache.connect(redis.settings(DATABASE))) {
            raw.hset("optls:mta-sts:broken.example", Map.of("id", "one", "policy", ENFORCE));
            raw.hset(
                    "optls:mta-sts:garbled.example",
                    Map.of("id", "one", "policy", "mode: sometimes", "fetched_at", "x", "expires_at", "y"));

            assertThatThrownBy(() -> cache.get("broken.example"))
                    .isInstanceOf(PolicyCacheException.class)
                    .hasMessageContaining("lacks a field");
            assertThatThrownBy(() -> cache.get("garbled.example"))
                    .isInstanceOf(PolicyCacheException.class)
                    .hasMessageContaining("does not parse");
        }
    }

    @Test
    void aWrongPasswordOrNoServerIsAClearError() {
        assertThatThrownBy(() -> RedisPolicyCache.connect(
                        RedisSettings.of(TestRedis.HOST, redis.port()).withPassword("wrong")))
                .isInstanceOf(PolicyCacheException.class)
                .hasMessageContaining(TestRedis.HOST + ":" + redis.port())
                .hasMessageContaining("WRONGPASS");
        try (ClosedPort closed = ClosedPort.open()) {
            assertThatThrownBy(() -> RedisPolicyCache.connect(RedisSettings.of(TestRedis.HOST, closed.port())
                            .withTimeouts(Duration.ofMillis(500), Duration.ofMillis(500))))
                    .isInstanceOf(PolicyCacheException.class)
                    .hasMessageContaining("connecting failed");
        }
    }

    @Test
    void settingsAreCheckedAndTheirTextHidesThePassword() {
        RedisSettings settings = redis.settings(2);
        assertThat(settings.password()).isEqualTo(Optional.of(TestRedis.PASSWORD));
        assertThat(settings.toString()).doesNotContain(TestRedis.PASSWORD).contains("database 2");
        assertThatThrownBy(() -> RedisSettings.of("localhost", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings.withDatabase(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings.withKeyPrefix("sts:*")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings.withTimeouts(Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void twoResolversSharingOneRedisFetchThePolicyOnce() throws Exception {
        TestPki pki = TestPki.create();
        TxtDns dns = new TxtDns();
        dns.records("_mta-sts.example.test", "v=STSv1; id=one;");
        try (PolicyServer server = PolicyServer.start(
                        pki.issue("mta-sts.example.test"), PolicyServer.respond(200, "text/plain", ENFORCE));
                RedisPolicyCache firstCache = RedisPolicyCache.connect(redis.settings(DATABASE));
                RedisPolicyCache secondCache = RedisPolicyCache.connect(redis.settings(DATABASE))) {
            PolicyFetcher fetcher = HttpsPolicyFetcher.builder()
                    .trustAnchors(TrustAnchors.of(pki.trustStore()))
                    .timeout(Duration.ofSeconds(10))
                    .connectToLoopback("mta-sts.example.test", server.port())
                    .build();
            MtaStsResolver first = new MtaStsResolver(dns, fetcher, firstCache);
            MtaStsResolver second = new MtaStsResolver(dns, fetcher, secondCache);

            StsDecision fetched = first.policyFor("example.test", now);
            StsDecision shared = second.policyFor("example.test", now.plusSeconds(30));

            assertThat(fetched)
                    .isInstanceOfSatisfying(
                            StsDecision.Apply.class, a -> assertThat(a.basis()).isEqualTo(StsDecision.Basis.FETCHED));
            assertThat(shared).isInstanceOfSatisfying(StsDecision.Apply.class, a -> {
                assertThat(a.basis()).isEqualTo(StsDecision.Basis.CACHED_SAME_ID);
                assertThat(a.policy().fetchedAt()).isEqualTo(now);
                assertThat(a.allows("mx1.example.test")).isTrue();
            });
            assertThat(server.requests).hasSize(1);
        }
    }

    @Test
    void twoPolicyServicesSharingOneRedisGivePostfixTheSameAnswerFromOneFetch() throws Exception {
        TestPki pki = TestPki.create();
        FakeDns dns = new FakeDns()
                .answer(
                        "shared.test",
                        RecordType.MX,
                        new DnsAnswer.Records<>(
                                "shared.test",
                                RecordType.MX,
                                List.of(),
                                DnssecStatus.INSECURE,
                                List.of(new MxRecord(10, "mx1.example.test"))))
                .answer(
                        "_mta-sts.shared.test",
                        RecordType.TXT,
                        new DnsAnswer.Records<>(
                                "_mta-sts.shared.test",
                                RecordType.TXT,
                                List.of(),
                                DnssecStatus.INSECURE,
                                List.of("v=STSv1; id=one;")));
        try (PolicyServer server = PolicyServer.start(
                        pki.issue("mta-sts.shared.test"), PolicyServer.respond(200, "text/plain", ENFORCE));
                RedisPolicyCache firstCache = RedisPolicyCache.connect(redis.settings(DATABASE));
                RedisPolicyCache secondCache = RedisPolicyCache.connect(redis.settings(DATABASE))) {
            PolicyFetcher fetcher = HttpsPolicyFetcher.builder()
                    .trustAnchors(TrustAnchors.of(pki.trustStore()))
                    .timeout(Duration.ofSeconds(10))
                    .connectToLoopback("mta-sts.shared.test", server.port())
                    .build();
            List<PolicyService> services = new ArrayList<>();
            for (RedisPolicyCache cache : List.of(firstCache, secondCache)) {
                services.add(new PolicyService(
                        PolicyEngine.builder(dns)
                                .mtaSts(new MtaStsResolver(dns, fetcher, cache))
                                .build(),
                        Set.of("postfix"),
                        new PostfixPolicy.Options(false, 60, Optional.empty()),
                        Duration.ofSeconds(60),
                        Duration.ofSeconds(10),
                        100,
                        Clock.fixed(now, ZoneOffset.UTC)));
            }

            String first = services.get(0).lookup("postfix", "shared.test").wire();
            String second = services.get(1).lookup("postfix", "shared.test").wire();

            assertThat(first).startsWith("OK secure match=").contains("servername=hostname");
            assertThat(second).isEqualTo(first);
            // The second service found the first one's policy in Redis: one fetch for both.
            assertThat(server.requests).hasSize(1);
        }
    }
}
