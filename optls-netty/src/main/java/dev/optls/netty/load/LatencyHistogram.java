package dev.optls.netty.load;

/**
 * A small HdrHistogram-like latency record: values in microseconds, exact below 64 µs, then 64 linear
 * buckets per power of two (under 1.6 % relative error), up to about 2<sup>40</sup> µs (12 days). Constant
 * memory (about 18 KiB), O(1) to record; percentiles report the highest value of the bucket they fall in,
 * clamped to the maximum seen, as HdrHistogram does. Thread-safe (recording is synchronized: the load
 * generator records a few thousand values a second).
 */
public final class LatencyHistogram {
    private static final int SUB_BITS = 6;
    private static final int SUB = 1 << SUB_BITS; // 64
    private static final int MAX_EXPONENT = 40;
    private static final int BUCKETS = SUB + (MAX_EXPONENT - SUB_BITS + 1) * SUB;

    private final long[] counts = new long[BUCKETS];
    private long count;
    private long sum;
    private long min = Long.MAX_VALUE;
    private long max;

    /** Records one value in microseconds; negative values are a caller bug. */
    public synchronized void record(long micros) {
        if (micros < 0) {
            throw new IllegalArgumentException("a latency cannot be negative: " + micros + " µs");
        }
        counts[index(micros)]++;
        count++;
        sum += micros;
        min = Math.min(min, micros);
        max = Math.max(max, micros);
    }

    /** Adds every value recorded in {@code other}. */
    public void add(LatencyHistogram other) {
        long[] theirs;
        long c;
        long s;
        long lo;
        long hi;
        synchronized (other) {
            theirs = other.counts.clone();
            c = other.count;
            s = other.sum;
            lo = other.min;
            hi = other.max;
        }
        synchronized (this) {
            for (int i = 0; i < BUCKETS; i++) {
                counts[i] += theirs[i];
            }
            count += c;
            sum += s;
            min = Math.min(min, lo);
            max = Math.max(max, hi);
        }
    }

    /** How many values were recorded. */
    public synchronized long count() {
        return count;
    }

    /** The largest value recorded, 0 when empty. */
    public synchronized long max() {
        return max;
    }

    /** The smallest value recorded, 0 when empty. */
    public synchronized long min() {
        return count == 0 ? 0 : min;
    }

    /** The arithmetic mean, 0 when empty. */
    public synchronized double mean() {
        return count == 0 ? 0 : (double) sum / count;
    }

    /**
     * The value below or at which {@code percentile} percent of the recorded values fall (the highest value
     * of that bucket, at most {@link #max()}); 0 when empty.
     *
     * @param percentile 0 to 100
     */
    public synchronized long valueAt(double percentile) {
        if (!(percentile >= 0 && percentile <= 100)) {
            throw new IllegalArgumentException("a percentile is between 0 and 100, not " + percentile);
        }
        if (count == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * count));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.max(Math.min(highestEquivalent(i), max), min);
            }
        }
        return max;
    }

    /** The latency summary of what was recorded so far. */
    public synchronized Latency summary() {
        return new Latency(count, min(), valueAt(50), valueAt(90), valueAt(99), max, mean());
    }

    static int index(long v) {
        if (v < SUB) {
            return (int) v;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(v); // ≥ SUB_BITS
        if (exponent > MAX_EXPONENT) {
            return BUCKETS - 1;
        }
        int sub = (int) (v >>> (exponent - SUB_BITS)) & (SUB - 1);
        return SUB + (exponent - SUB_BITS) * SUB + sub;
    }

    static long highestEquivalent(int index) {
        if (index < SUB) {
            return index;
        }
        int exponent = (index - SUB) / SUB + SUB_BITS;
        int sub = (index - SUB) % SUB;
        return ((long) (SUB + sub + 1) << (exponent - SUB_BITS)) - 1;
    }

    /**
     * A latency summary in microseconds.
     *
     * @param count values recorded
     * @param min smallest
     * @param p50 median
     * @param p90 90th percentile
     * @param p99 99th percentile
     * @param max largest
     * @param mean arithmetic mean
     */
    public record Latency(long count, long min, long p50, long p90, long p99, long max, double mean) {}
}
