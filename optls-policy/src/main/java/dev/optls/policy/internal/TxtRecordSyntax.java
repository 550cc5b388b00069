package dev.optls.policy.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * The grammar that MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3) TXT records share: a case-sensitive version
 * field first, then fields {@code name=value} separated by {@code *WSP ";" *WSP}, names {@code (ALPHA / DIGIT)
 * *31(ALPHA / DIGIT / "_" / "-" / ".")}, extension values {@code 1*(%x21-3A / %x3C / %x3E-7E)}. Each record reads
 * its own fields' values ({@link FieldReader}); a problem ends the scan with {@link Invalid} and its reason.
 *
 * <p>Two tolerances beyond the ABNF, in both records: whitespace after the last field (without a {@code ;}), and
 * a {@code ;} at the very end.
 */
public final class TxtRecordSyntax {
    /** The longest field name ({@code 1 + 31} characters). */
    public static final int MAX_NAME_LENGTH = 32;

    private TxtRecordSyntax() {}

    /** Reads one field's value. */
    @FunctionalInterface
    public interface FieldReader {
        /**
         * Reads the value of field {@code name}, which starts at {@code start} in {@code text}.
         *
         * @param first whether this is the field's first instance in the record
         * @return the position just after the value
         * @throws Invalid if the value does not fit the field's grammar
         */
        int read(String name, boolean first, String text, int start) throws Invalid;
    }

    /** Why a record text does not fit the grammar (the scan stops at the first problem). */
    public static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        /** @param reason what is wrong, for people */
        public Invalid(String reason) {
            super(reason, null, false, false);
        }

        /** What is wrong, for people. */
        public String reason() {
            return getMessage();
        }
    }

    /**
     * The records among {@code txtRecords} that begin with {@code version} and a {@code ;} (whitespace allowed before
     * it): the others are discarded (RFC 8461 §3.1, RFC 8460 §3).
     */
    public static List<String> candidates(List<String> txtRecords, String version) {
        List<String> candidates = new ArrayList<>();
        for (String txt : txtRecords) {
            if (txt.startsWith(version)) {
                int p = skipWsp(txt, version.length());
                if (p < txt.length() && txt.charAt(p) == ';') {
                    candidates.add(txt);
                }
            }
        }
        return candidates;
    }

    /**
     * Scans {@code text}: {@code version} first, then at least one field, each value read by {@code reader}.
     *
     * @param required the field the record needs, with its article ("an id"), named in the message when nothing
     *     follows the version
     * @throws Invalid at the first problem
     */
    public static void scan(String text, String version, String required, FieldReader reader) throws Invalid {
        // The version field comes first and is case-sensitive (%s in both ABNFs).
        if (!text.startsWith(version)) {
            throw new Invalid("the record does not begin with " + version);
        }
        int pos = version.length();
        int n = text.length();
        List<String> seen = new ArrayList<>();
        while (true) {
            // field-delim = *WSP ";" *WSP
            int p = skipWsp(text, pos);
            if (p == n && !seen.isEmpty()) {
                return; // trailing whitespace after the last field: tolerated
            }
            if (p == n || text.charAt(p) != ';') {
                throw new Invalid(
                        p == n
                                ? "expected ';' and " + required + " field after " + version
                                : "expected ';' at position " + p + ", found " + describe(text.charAt(p)));
            }
            p = skipWsp(text, p + 1);
            if (p == n) {
                if (seen.isEmpty()) {
                    throw new Invalid("no field after " + version + ";");
                }
                return; // [field-delim] at the end
            }
            int nameStart = p;
            if (!isAlnum(text.charAt(p))) {
                throw new Invalid("a field name must begin with a letter or digit, found " + describe(text.charAt(p)));
            }
            p++;
            while (p < n && isNameChar(text.charAt(p))) {
                p++;
            }
            String name = text.substring(nameStart, p);
            if (name.length() > MAX_NAME_LENGTH) {
                throw new Invalid("field name '" + name + "' is longer than " + MAX_NAME_LENGTH + " characters");
            }
            if (p == n || text.charAt(p) != '=') {
                throw new Invalid("expected '=' after field name '" + name + "'");
            }
            boolean first = !seen.contains(name);
            seen.add(name);
            pos = reader.read(name, first, text, p + 1);
        }
    }

    /**
     * Reads an extension value ({@code 1*(%x21-3A / %x3C / %x3E-7E)}: printable US-ASCII without {@code =} or
     * {@code ;}) of field {@code name} starting at {@code start}.
     *
     * @return the position just after it
     */
    public static int extensionValue(String name, String text, int start) throws Invalid {
        int p = start;
        while (p < text.length() && isExtValueChar(text.charAt(p))) {
            p++;
        }
        if (p == start || !atFieldEnd(text, p)) {
            throw new Invalid(
                    "the value of field '" + name + "' must be printable US-ASCII without '=', ';' or spaces");
        }
        return p;
    }

    /** Whether a field may end at {@code p}: the end, a {@code ;} or whitespace. */
    public static boolean atFieldEnd(String text, int p) {
        return p == text.length() || text.charAt(p) == ';' || text.charAt(p) == ' ' || text.charAt(p) == '\t';
    }

    /** The position of the first character at or after {@code pos} that is not a space or tab. */
    public static int skipWsp(String text, int pos) {
        int p = pos;
        while (p < text.length() && (text.charAt(p) == ' ' || text.charAt(p) == '\t')) {
            p++;
        }
        return p;
    }

    /** ALPHA / DIGIT (US-ASCII). */
    public static boolean isAlnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    /** A character of a field name after its first. */
    public static boolean isNameChar(char c) {
        return isAlnum(c) || c == '_' || c == '-' || c == '.';
    }

    private static boolean isExtValueChar(char c) {
        return c >= 0x21 && c <= 0x7E && c != '=' && c != ';';
    }

    /** A character as a message shows it: quoted when printable, else its code point. */
    public static String describe(char c) {
        return c >= 0x21 && c <= 0x7E ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }
}
