package dev.optls.netty.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

    @Test
    void emptyHistogramReportsZeros() {
        LatencyHistogram h = new LatencyHistogram();
        assertThat(h.summary()).isEqualTo(new LatencyHistogram.Latency(0, 0, 0, 0, 0, 0, 0.0));
    }

    @Test
    void smallValuesAreExact() {
        LatencyHistogram h = new LatencyHistogram();
        for (int v = 1; v <= 50; v++) {
            h.record(v);
        }
        assertThat(h.valueAt(50)).isEqualTo(25);
        assertThat(h.valueAt(90)).isEqualTo(45);
        assertThat(h.valueAt(100)).isEqualTo(50);
        assertThat(h.valueAt(0)).isEqualTo(1);
        assertThat(h.min()).isEqualTo(1);
        assertThat(h.mean()).isCloseTo(25.5, within(1e-9));
    }

    @Test
    void percentilesOfRandomValuesAreWithinTheBucketPrecision() {
        Random random = new Random(42);
        long[] values = new long[10_000];
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 0; i < values.length; i++) {
            values[i] = 1 + (long) Math.abs(random.nextGaussian() * 5_000_000);
            h.record(values[i]);
        }
        Arrays.sort(values);
        for (double p : new double[] {50, 90, 99, 99.9}) {
            long exact = values[(int) Math.ceil(p / 100 * values.length) - 1];
            assertThat((double) h.valueAt(p)).as("p%s", p).isCloseTo(exact, within(exact * 0.016 + 1));
            assertThat(h.valueAt(p)).as("p%s never below the exact value", p).isGreaterThanOrEqualTo(exact);
        }
        assertThat(h.max()).isEqualTo(values[values.length - 1]);
        assertThat(h.valueAt(100)).isEqualTo(h.max());
        assertThat(h.count()).isEqualTo(values.length);
    }

    @Test
    void bucketsCoverEveryValueWithoutGaps() {
        long previous = -1;
        for (int i = 0; i < LatencyHistogram.index(1L << 40); i++) {
            long high = LatencyHistogram.highestEquivalent(i);
            assertThat(high).isGreaterThan(previous);
            assertThat(LatencyHistogram.index(high)).isEqualTo(i);
            assertThat(LatencyHistogram.index(high + 1)).isEqualTo(i + 1);
            previous = high;
        }
        assertThat(LatencyHistogram.index(Long.MAX_VALUE)).isEqualTo(LatencyHistogram.index(1L << 41));
    }

    @Test
    void addMergesCountsAndExtremes() {
        LatencyHistogram a = new LatencyHistogram();
        LatencyHistogram b = new LatencyHistogram();
        a.record(10);
        a.record(20);
        b.record(5);
        b.record(1_000_000);
        a.add(b);
        assertThat(a.count()).isEqualTo(4);
        assertThat(a.min()).isEqualTo(5);
        assertThat(a.max()).isEqualTo(1_000_000);
        assertThat(a.valueAt(50)).isEqualTo(10);
        assertThat(b.count()).isEqualTo(2);
    }

    @Test
    void rejectsNegativeValuesAndBadPercentiles() {
        LatencyHistogram h = new LatencyHistogram();
        assertThatThrownBy(() -> h.record(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.valueAt(101)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.valueAt(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }
}
