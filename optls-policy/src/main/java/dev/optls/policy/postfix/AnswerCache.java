package dev.optls.policy.postfix;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Answers per domain, kept for a bounded time and a bounded number of domains, so that a busy Postfix (every smtp
 * process asks for every delivery) costs one policy lookup per domain and period. {@code OK} answers are kept for
 * the positive time, {@code NOTFOUND}/{@code TEMP}/{@code TIMEOUT}/{@code PERM} for the (usually shorter) negative
 * time; the least recently used domain goes first when the table is full. Concurrent misses for one domain make one
 * lookup: the others wait for its answer. Thread-safe.
 */
public final class AnswerCache {

    /** Default time an {@code OK} answer is kept. */
    public static final Duration DEFAULT_POSITIVE_TTL = Duration.ofSeconds(60);
    /** Default time any other answer is kept. */
    public static final Duration DEFAULT_NEGATIVE_TTL = Duration.ofSeconds(10);
    /** Default number of domains kept. */
    public static final int DEFAULT_MAX_ENTRIES = 10_000;

    private final Function<String, SocketmapReply> lookup;
    private final long positiveNanos;
    private final long negativeNanos;
    private final int maxEntries;
    private final LongSupplier nanoTime;
    private final Map<String, Entry> entries;
    private final ConcurrentHashMap<String, CompletableFuture<SocketmapReply>> inFlight = new ConcurrentHashMap<>();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder lookups = new LongAdder();

    private record Entry(SocketmapReply reply, long expiresAtNanos) {}

    /**
     * A cache in front of {@code lookup} (called with the key; it must not throw: failures are {@code TEMP} answers).
     *
     * @param nanoTime the clock ({@link System#nanoTime()} outside tests)
     */
    public AnswerCache(
            Function<String, SocketmapReply> lookup,
            Duration positiveTtl,
            Duration negativeTtl,
            int maxEntries,
            LongSupplier nanoTime) {
        this.lookup = Objects.requireNonNull(lookup, "lookup");
        this.positiveNanos = nonNegative(positiveTtl, "positiveTtl");
        this.negativeNanos = nonNegative(negativeTtl, "negativeTtl");
        if (maxEntries < 0) {
            throw new IllegalArgumentException("maxEntries must not be negative: " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.entries = new LinkedHashMap<>(16, 0.75f, true);
    }

    /** The answer for {@code key}: from the table if fresh, otherwise from one lookup shared by concurrent callers. */
    public SocketmapReply get(String key) {
        Objects.requireNonNull(key, "key");
        long now = nanoTime.getAsLong();
        synchronized (entries) {
            Entry e = entries.get(key);
            if (e != null) {
                if (e.expiresAtNanos - now > 0) {
                    hits.increment();
                    return e.reply;
                }
                entries.remove(key);
            }
        }
        misses.increment();
        CompletableFuture<SocketmapReply> mine = new CompletableFuture<>();
        CompletableFuture<SocketmapReply> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return await(running, key);
        }
        SocketmapReply reply;
        try {
            // A lookup that finished between the miss above and putIfAbsent has stored its answer (before leaving
            // inFlight): use it rather than look up again.
            reply = fresh(key);
            if (reply == null) {
                lookups.increment();
                reply = lookup.apply(key);
                store(key, reply);
            }
        } catch (RuntimeException | Error e) {
            reply = SocketmapReply.temp("internal error looking up " + key + ": " + e);
        } finally {
            inFlight.remove(key, mine);
        }
        mine.complete(reply);
        return reply;
    }

    /** The fresh answer for {@code key} if the table has one (counted as a hit), without looking up. */
    public Optional<SocketmapReply> peek(String key) {
        SocketmapReply reply = fresh(key);
        if (reply != null) {
            hits.increment();
        }
        return Optional.ofNullable(reply);
    }

    private SocketmapReply fresh(String key) {
        long now = nanoTime.getAsLong();
        synchronized (entries) {
            Entry e = entries.get(key);
            return e != null && e.expiresAtNanos - now > 0 ? e.reply : null;
        }
    }

    private void store(String key, SocketmapReply reply) {
        long ttl = reply.status() == SocketmapReply.Status.OK ? positiveNanos : negativeNanos;
        if (ttl == 0 || maxEntries == 0) {
            return;
        }
        synchronized (entries) {
            entries.put(key, new Entry(reply, nanoTime.getAsLong() + ttl));
            if (entries.size() > maxEntries) {
                var eldest = entries.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
        }
    }

    private static SocketmapReply await(CompletableFuture<SocketmapReply> running, String key) {
        try {
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return SocketmapReply.temp("interrupted while waiting for the lookup of " + key);
        } catch (ExecutionException e) {
            return SocketmapReply.temp("the lookup of " + key + " failed: " + e.getCause());
        }
    }

    /** Drops every answer. */
    public void clear() {
        synchronized (entries) {
            entries.clear();
        }
    }

    /** How many domains are kept now. */
    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    /** Answers served from the table. */
    public long hits() {
        return hits.sum();
    }

    /** Answers not in the table (each either made a lookup or waited for a concurrent one). */
    public long misses() {
        return misses.sum();
    }

    /** Lookups made. */
    public long lookups() {
        return lookups.sum();
    }

    private static long nonNegative(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative: " + d);
        }
        return d.toNanos();
    }
}
