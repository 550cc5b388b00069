package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsNames;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * A shared {@link PolicyCache} in Redis, for several mail servers that should fetch each policy once: one hash per
 * policy domain at {@code keyPrefix + domain} with the fields {@code id}, {@code policy} (the policy text),
 * {@code fetched_at} and {@code expires_at} (ISO-8601 instants), and a TTL ending at the policy's expiry, so Redis
 * drops expired entries itself (RFC 8461 §5.1: a policy applies until {@code fetched_at + max_age}). A put replaces
 * the hash whole in one {@code MULTI}. Uses Jedis's {@code RedisClient} (a connection pool); safe for concurrent use.
 *
 * <p>Close it when done ({@link AutoCloseable}).
 */
public final class RedisPolicyCache implements PolicyCache, AutoCloseable {

    private static final String ID = "id";
    private static final String POLICY = "policy";
    private static final String FETCHED_AT = "fetched_at";
    private static final String EXPIRES_AT = "expires_at";

    private final RedisSettings settings;
    private final RedisClient redis;

    private RedisPolicyCache(RedisSettings settings, RedisClient redis) {
        this.settings = settings;
        this.redis = redis;
    }

    /**
     * Connects to Redis with {@code settings} and checks the connection ({@code PING}).
     *
     * @throws PolicyCacheException if Redis cannot be reached or refuses the password or database
     */
    public static RedisPolicyCache connect(RedisSettings settings) {
        Objects.requireNonNull(settings, "settings");
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis((int) settings.connectTimeout().toMillis())
                .socketTimeoutMillis((int) settings.socketTimeout().toMillis())
                .database(settings.database())
                .clientName("optls-mta-sts");
        settings.password().ifPresent(config::password);
        RedisClient redis = RedisClient.builder()
                .hostAndPort(settings.host(), settings.port())
                .clientConfig(config.build())
                .build();
        RedisPolicyCache cache = new RedisPolicyCache(settings, redis);
        try {
            redis.ping();
        } catch (JedisException e) {
            redis.close();
            throw cache.failure("connecting", e);
        }
        return cache;
    }

    /** The settings this cache was connected with. */
    public RedisSettings settings() {
        return settings;
    }

    /** The key of the hash of {@code policyDomain}. */
    public String keyOf(String policyDomain) {
        return settings.keyPrefix() + DnsNames.normalize(policyDomain);
    }

    @Override
    public Optional<CachedPolicy> get(String policyDomain) {
        String domain = DnsNames.normalize(policyDomain);
        Map<String, String> hash;
        try {
            hash = redis.hgetAll(keyOf(domain));
        } catch (JedisException e) {
            throw failure("reading the entry of " + domain, e);
        }
        if (hash.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(entry(domain, hash));
    }

    @Override
    public void put(CachedPolicy entry) {
        String key = keyOf(entry.policyDomain());
        try (AbstractTransaction multi = redis.multi()) {
            multi.del(key);
            multi.hset(
                    key,
                    Map.of(
                            ID,
                            entry.id(),
                            POLICY,
                            entry.policy().text(),
                            FETCHED_AT,
                            entry.fetchedAt().toString(),
                            EXPIRES_AT,
                            entry.expiresAt().toString()));
            // The TTL ends at the expiry (rounded up to the millisecond: never before the policy expires). An
            // expiry already past deletes the key at once, which is what an expired policy deserves.
            multi.pexpireAt(key, expiryMillis(entry.expiresAt()));
            multi.exec();
        } catch (JedisException e) {
            throw failure("storing the entry of " + entry.policyDomain(), e);
        }
    }

    @Override
    public void remove(String policyDomain) {
        String domain = DnsNames.normalize(policyDomain);
        try {
            redis.del(keyOf(domain));
        } catch (JedisException e) {
            throw failure("removing the entry of " + domain, e);
        }
    }

    /** Scans the keys under the prefix ({@code SCAN}, never {@code KEYS}); Redis has dropped expired ones. */
    @Override
    public List<CachedPolicy> expiringBefore(Instant cutoff) {
        List<CachedPolicy> due = new ArrayList<>();
        ScanParams params = new ScanParams().match(settings.keyPrefix() + "*").count(200);
        try {
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> page = redis.scan(cursor, params);
                for (String key : page.getResult()) {
                    Map<String, String> hash = redis.hgetAll(key);
                    if (hash.isEmpty()) {
                        continue; // expired or removed since the scan saw it
                    }
                    CachedPolicy entry =
                            entry(key.substring(settings.keyPrefix().length()), hash);
                    if (entry.expiresAt().isBefore(cutoff)) {
                        due.add(entry);
                    }
                }
                cursor = page.getCursor();
            } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
        } catch (JedisException e) {
            throw failure("listing entries expiring before " + cutoff, e);
        }
        return due;
    }

    /** Closes the connection pool. */
    @Override
    public void close() {
        redis.close();
    }

    private CachedPolicy entry(String domain, Map<String, String> hash) {
        return StoredPolicies.entry(
                where() + " key " + keyOf(domain),
                domain,
                hash.get(ID),
                hash.get(POLICY),
                hash.get(FETCHED_AT),
                hash.get(EXPIRES_AT));
    }

    private static long expiryMillis(Instant expiresAt) {
        long millis = expiresAt.toEpochMilli();
        return expiresAt.getNano() % 1_000_000 == 0 ? millis : millis + 1;
    }

    private String where() {
        return "MTA-STS Redis cache " + settings.host() + ":" + settings.port() + " database " + settings.database();
    }

    private PolicyCacheException failure(String what, JedisException e) {
        return new PolicyCacheException(
                where() + ": " + what + " failed (" + e.getMessage()
                        + "); check that Redis runs there and the password and database are right",
                e);
    }
}
