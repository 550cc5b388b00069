package dev.optls.policy;

import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Near-valid inputs for parser properties: a good input with a few random edits (delete, insert, replace,
 * duplicate a slice, truncate, swap two characters), so that the properties reach the parsers' deeper branches that
 * random text rarely gets past the first check of.
 */
public final class Mutations {

    private Mutations() {}

    /** One edit: what, where (a fraction of the length), which character, how long a slice. */
    record Edit(int kind, double where, char c, int length) {
        int at(int size) {
            return Math.min(size, (int) (where * (size + 1)));
        }
    }

    private static Arbitrary<List<Edit>> edits(Arbitrary<Character> alphabet) {
        Arbitrary<Edit> edit = Combinators.combine(
                        Arbitraries.integers().between(0, 5),
                        Arbitraries.doubles().between(0, 1),
                        alphabet,
                        Arbitraries.integers().between(1, 16))
                .as(Edit::new);
        return edit.list().ofMinSize(1).ofMaxSize(5);
    }

    /** {@code seed} with 1 to 5 edits, inserted characters drawn from {@code alphabet}. */
    public static Arbitrary<String> of(String seed, Arbitrary<Character> alphabet) {
        return edits(alphabet).map(list -> {
            StringBuilder s = new StringBuilder(seed);
            for (Edit e : list) {
                int i = e.at(s.length());
                switch (e.kind()) {
                    case 0 -> {
                        if (i < s.length()) {
                            s.delete(i, Math.min(s.length(), i + e.length()));
                        }
                    }
                    case 1 -> s.insert(i, e.c());
                    case 2 -> {
                        if (i < s.length()) {
                            s.setCharAt(i, e.c());
                        }
                    }
                    case 3 -> s.insert(i, s.substring(i, Math.min(s.length(), i + e.length())));
                    case 4 -> s.setLength(i);
                    default -> {
                        if (i + 1 < s.length()) {
                            char a = s.charAt(i);
                            s.setCharAt(i, s.charAt(i + 1));
                            s.setCharAt(i + 1, a);
                        }
                    }
                }
            }
            return s.toString();
        });
    }

    /** The characters that matter to the text formats here, plus some that should never appear. */
    public static Arbitrary<Character> syntaxCharacters() {
        return Arbitraries.oneOf(
                Arbitraries.of(
                        ' ', '\t', '\r', '\n', ':', ';', '=', ',', '.', '*', '-', '_', '!', '%', '"', '{', '}', '[',
                        ']', '\0', '\u007f', '\u0085', '\u00e9', '\u2028', '\ud83d', '\uffff', '0', '9', 'a', 'Z'),
                Arbitraries.chars());
    }

    /** {@code seed} with 1 to 5 byte edits (as ISO-8859-1 text, so every byte value can appear). */
    public static Arbitrary<byte[]> ofBytes(byte[] seed) {
        String latin1 = new String(seed, java.nio.charset.StandardCharsets.ISO_8859_1);
        return of(latin1, Arbitraries.chars().range('\0', '\u00ff'))
                .map(s -> s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    /** A copy of {@code bytes} with every byte at the given positions flipped (for corrupting binary data). */
    public static byte[] flip(byte[] bytes, int... positions) {
        byte[] copy = Arrays.copyOf(bytes, bytes.length);
        for (int p : positions) {
            copy[Math.floorMod(p, copy.length)] ^= (byte) 0xFF;
        }
        return copy;
    }
}
