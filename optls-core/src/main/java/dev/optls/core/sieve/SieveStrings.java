package dev.optls.core.sieve;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * ManageSieve strings for applications behind a {@link SieveServer}: the arguments of a delivered command
 * as plain strings, and strings quoted (or turned into literals) for replies (RFC 5804 §4).
 */
public final class SieveStrings {
    private SieveStrings() {}

    /**
     * The arguments of a delivered command ({@link dev.optls.core.Command#arguments()}), unquoted, literals
     * resolved: {@code "main" {9+}CRLF keep;\r\n} gives {@code [main, keep;\r\n]}. Numbers and atoms are
     * returned as they are. Empty when the arguments do not parse (answer {@code NO} then).
     */
    public static Optional<List<String>> arguments(String arguments) {
        byte[] frame = (arguments + "\r\n").getBytes(StandardCharsets.UTF_8);
        List<SieveValue> values;
        try {
            values = SieveParser.parse(frame);
        } catch (SieveSyntaxException e) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>(values.size());
        for (SieveValue v : values) {
            if (v instanceof SieveValue.Str s) {
                out.add(s.text());
            } else if (v instanceof SieveValue.Atom a) {
                out.add(a.text());
            } else {
                return Optional.empty();
            }
        }
        return Optional.of(List.copyOf(out));
    }

    /**
     * {@code text} as a string a server sends: {@code "quoted"} with {@code "} and {@code \} escaped, or
     * a literal {@code {n}CRLF...} when it holds CR, LF or NUL or is long.
     */
    public static String quote(String text) {
        return SieveParser.encode(text, false);
    }
}
