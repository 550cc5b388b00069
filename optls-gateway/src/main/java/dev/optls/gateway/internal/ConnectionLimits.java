package dev.optls.gateway.internal;

import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open connections of one route, in total and per client address. A connection over a limit is refused at
 * accept, never queued: the caller closes it at once.
 */
public final class ConnectionLimits {
    /** Which limit a connection went over, named as in the configuration. */
    public enum Exceeded {
        /** The route's {@code max-connections}. */
        ROUTE("max-connections"),
        /** The route's {@code max-connections-per-client}. */
        CLIENT("max-connections-per-client");

        private final String key;

        Exceeded(String key) {
            this.key = key;
        }

        /** The configuration key that sets this limit. */
        public String key() {
            return key;
        }
    }

    private final int max;
    private final int maxPerClient;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perClient = new ConcurrentHashMap<>();

    /** @param max connections open on the route at once; @param maxPerClient per client address */
    public ConnectionLimits(int max, int maxPerClient) {
        if (max < 1 || maxPerClient < 1) {
            throw new IllegalArgumentException("limits must be at least 1");
        }
        this.max = max;
        this.maxPerClient = maxPerClient;
    }

    /**
     * Counts a new connection from {@code client}, or says which limit it would go over (then nothing is
     * counted, and {@link #release} must not be called for it).
     */
    public Optional<Exceeded> acquire(InetAddress client) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return Optional.of(Exceeded.ROUTE);
        }
        boolean[] over = {false};
        perClient.compute(client, (k, n) -> {
            int count = n == null ? 0 : n;
            if (count >= maxPerClient) {
                over[0] = true;
                return n;
            }
            return count + 1;
        });
        if (over[0]) {
            open.decrementAndGet();
            return Optional.of(Exceeded.CLIENT);
        }
        return Optional.empty();
    }

    /** A connection counted by {@link #acquire} has closed. */
    public void release(InetAddress client) {
        perClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
        open.decrementAndGet();
    }

    /** Connections open now. */
    public int open() {
        return open.get();
    }

    /** The limit for {@code which}. */
    public int limit(Exceeded which) {
        return which == Exceeded.ROUTE ? max : maxPerClient;
    }
}
