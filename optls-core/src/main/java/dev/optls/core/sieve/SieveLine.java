package dev.optls.core.sieve;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** One line from a ManageSieve server: a capability or a response (RFC 5804 §4 response, §1.7). */
sealed interface SieveLine {

    /** {@code "NAME" ["value"]}: one capability; {@code value} is empty when none was sent. */
    record Capability(String name, String value) implements SieveLine {
        /** As a {@link dev.optls.core.Capabilities} entry: {@code NAME value}, or {@code NAME}. */
        String entry() {
            return value.isEmpty() ? name : name + " " + value;
        }
    }

    /**
     * {@code OK}, {@code NO} or {@code BYE} (upper-cased) with an optional response code (its first atom,
     * upper-cased, e.g. {@code ENCRYPT-NEEDED}, {@code TRYLATER}) and optional human-readable text.
     */
    record Response(String status, String code, String text) implements SieveLine {
        boolean ok() {
            return status.equals("OK");
        }

        /** RFC 5804 §1.3: TRYLATER says that the same request may succeed later. */
        boolean temporary() {
            return code.equals("TRYLATER");
        }

        /** For messages: {@code NO (TRYLATER) "text"}. */
        String describe() {
            return status + (code.isEmpty() ? "" : " (" + code + ")") + (text.isEmpty() ? "" : " \"" + text + "\"");
        }
    }

    /**
     * Interprets one complete line.
     *
     * @throws SieveSyntaxException when it is neither a capability nor a response
     */
    static SieveLine of(byte[] frame) {
        List<SieveValue> values = SieveParser.parse(frame);
        if (values.isEmpty()) {
            throw SieveSyntaxException.malformed("empty line");
        }
        SieveValue first = values.get(0);
        if (first instanceof SieveValue.Str name) {
            // RFC 5804 §1.7: single-capability = capability-name [SP string] CRLF.
            if (values.size() > 2) {
                throw SieveSyntaxException.malformed("a capability line has a name and at most one value");
            }
            String value = values.size() == 2 ? text(values.get(1)) : "";
            if (name.text().isEmpty() || name.text().indexOf(' ') >= 0) {
                throw SieveSyntaxException.malformed("bad capability name");
            }
            return new Capability(name.text(), value.strip());
        }
        if (!(first instanceof SieveValue.Atom atom)) {
            throw SieveSyntaxException.malformed("a line starts with a string or OK/NO/BYE");
        }
        // RFC 5804 §4: response keywords are case-insensitive ("oK" in the §2.2 example).
        String status = atom.text().toUpperCase(Locale.ROOT);
        if (!status.equals("OK") && !status.equals("NO") && !status.equals("BYE")) {
            throw SieveSyntaxException.malformed("unknown response '" + atom.text() + "'");
        }
        int i = 1;
        String code = "";
        if (i < values.size() && values.get(i) instanceof SieveValue.Group g) {
            code = codeName(g).orElseThrow(() -> SieveSyntaxException.malformed("empty response code"));
            i++;
        }
        // RFC 5804 §4: the text is one string; unquoted words (seen from old servers) are joined leniently.
        StringBuilder text = new StringBuilder();
        for (; i < values.size(); i++) {
            text.append(text.length() == 0 ? "" : " ").append(text(values.get(i)));
        }
        return new Response(status, code, text.toString());
    }

    private static Optional<String> codeName(SieveValue.Group group) {
        if (group.items().isEmpty() || !(group.items().get(0) instanceof SieveValue.Atom a)) {
            return Optional.empty();
        }
        return Optional.of(a.text().toUpperCase(Locale.ROOT));
    }

    private static String text(SieveValue v) {
        if (v instanceof SieveValue.Str s) {
            return s.text();
        }
        if (v instanceof SieveValue.Atom a) {
            return a.text();
        }
        throw SieveSyntaxException.malformed("a string was expected, not a list");
    }
}
