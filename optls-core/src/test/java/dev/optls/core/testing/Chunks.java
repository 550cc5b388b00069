package dev.optls.core.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Arbitrary splits of a byte stream into reads, as a socket would deliver them. */
public final class Chunks {
    private Chunks() {}

    /** {@code stream} cut at up to 8 arbitrary positions below {@code maxCut}. */
    public static Arbitrary<List<byte[]>> split(Arbitrary<byte[]> stream, int maxCut) {
        Arbitrary<List<Integer>> cuts =
                Arbitraries.integers().between(0, maxCut).list().ofMaxSize(8);
        return Combinators.combine(stream, cuts).as(Chunks::cut);
    }

    /** {@code bytes} cut at the given positions (out-of-range and repeated positions are ignored). */
    public static List<byte[]> cut(byte[] bytes, List<Integer> positions) {
        List<Integer> sorted = positions.stream()
                .filter(c -> c > 0 && c < bytes.length)
                .distinct()
                .sorted()
                .toList();
        List<byte[]> chunks = new ArrayList<>();
        int start = 0;
        for (int c : sorted) {
            chunks.add(Arrays.copyOfRange(bytes, start, c));
            start = c;
        }
        chunks.add(Arrays.copyOfRange(bytes, start, bytes.length));
        return chunks;
    }
}
