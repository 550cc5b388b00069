package dev.optls.policy.sts;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Where and how {@link RedisPolicyCache} reaches Redis.
 *
 * @param host the server's host name or address
 * @param port its TCP port (1–65535)
 * @param password the {@code AUTH} password, if the server requires one
 * @param database the logical database number ({@code SELECT}), 0 or more
 * @param connectTimeout how long to wait for a connection
 * @param socketTimeout how long to wait for an answer
 * @param keyPrefix prepended to the policy domain to make the key of its hash (for example {@code optls:mta-sts:})
 */
public record RedisSettings(
        String host,
        int port,
        Optional<String> password,
        int database,
        Duration connectTimeout,
        Duration socketTimeout,
        String keyPrefix) {

    /** The default key prefix. */
    public static final String DEFAULT_KEY_PREFIX = "optls:mta-sts:";

    /** Checks the values. */
    public RedisSettings {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(socketTimeout, "socketTimeout");
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        if (host.isBlank()) {
            throw new IllegalArgumentException("the Redis host must not be blank");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("the Redis port must be 1–65535, not " + port);
        }
        if (database < 0) {
            throw new IllegalArgumentException("the Redis database must be 0 or more, not " + database);
        }
        checkTimeout("connectTimeout", connectTimeout);
        checkTimeout("socketTimeout", socketTimeout);
        if (keyPrefix.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')) {
            throw new IllegalArgumentException(
                    "the Redis key prefix must not contain glob characters (* ? [ ] \\): '" + keyPrefix + "'");
        }
    }

    /** {@code host:port}, no password, database 0, 2 s timeouts, the default key prefix. */
    public static RedisSettings of(String host, int port) {
        return new RedisSettings(
                host, port, Optional.empty(), 0, Duration.ofSeconds(2), Duration.ofSeconds(2), DEFAULT_KEY_PREFIX);
    }

    /** These settings with {@code password}. */
    public RedisSettings withPassword(String password) {
        return new RedisSettings(host, port, Optional.of(password), database, connectTimeout, socketTimeout, keyPrefix);
    }

    /** These settings with {@code database}. */
    public RedisSettings withDatabase(int database) {
        return new RedisSettings(host, port, password, database, connectTimeout, socketTimeout, keyPrefix);
    }

    /** These settings with both timeouts. */
    public RedisSettings withTimeouts(Duration connectTimeout, Duration socketTimeout) {
        return new RedisSettings(host, port, password, database, connectTimeout, socketTimeout, keyPrefix);
    }

    /** These settings with {@code keyPrefix}. */
    public RedisSettings withKeyPrefix(String keyPrefix) {
        return new RedisSettings(host, port, password, database, connectTimeout, socketTimeout, keyPrefix);
    }

    /** Omits the password. */
    @Override
    public String toString() {
        return "RedisSettings[" + host + ":" + port + ", database " + database
                + (password.isPresent() ? ", with password" : "") + ", connect timeout " + connectTimeout
                + ", socket timeout " + socketTimeout + ", key prefix '" + keyPrefix + "']";
    }

    private static void checkTimeout(String name, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " must be positive and under 24 days, not " + timeout);
        }
    }
}
