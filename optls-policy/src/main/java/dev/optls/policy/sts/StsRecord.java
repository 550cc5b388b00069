package dev.optls.policy.sts;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A valid MTA-STS TXT record (RFC 8461 §3.1), e.g. {@code v=STSv1; id=20240101T000000;}: the policy id and any
 * extension fields, in order.
 *
 * @param id the policy id: 1 to 32 letters and digits; compared for equality only (RFC 8461 §3.1)
 * @param extensions the other {@code name=value} fields, in record order (unknown fields are ignored by the
 *     protocol but kept for reports)
 */
public record StsRecord(String id, List<Extension> extensions) {

    /** The longest record text optls parses (the concatenated strings of one TXT record); longer is invalid. */
    public static final int MAX_LENGTH = 2048;

    /** The owner name prefix of the record: {@code _mta-sts.<policy domain>}. */
    public static final String PREFIX = "_mta-sts.";

    private static final String VERSION = "v=STSv1";
    private static final int MAX_ID_LENGTH = 32;
    private static final int MAX_NAME_LENGTH = 32;

    /** Checks the id and copies the extensions. */
    public StsRecord {
        Objects.requireNonNull(id, "id");
        if (!isValidId(id)) {
            throw new IllegalArgumentException("an MTA-STS id is 1 to 32 letters and digits, not '" + id + "'");
        }
        extensions = List.copyOf(extensions);
    }

    /** One extension field {@code name=value}. */
    public record Extension(String name, String value) {
        /** Requires both parts. */
        public Extension {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    /** Whether {@code id} is a valid policy id ({@code 1*32(ALPHA / DIGIT)}). */
    public static boolean isValidId(String id) {
        if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            if (!isAlnum(id.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Chooses and parses the MTA-STS record among all TXT records at {@code _mta-sts.<domain>} (RFC 8461 §3.1): those
     * that do not begin with {@code v=STSv1;} are discarded; none left is {@link StsRecordOutcome.Absent}, more
     * than one is {@link StsRecordOutcome.Multiple}, otherwise the one record is parsed.
     *
     * @param txtRecords each record's strings already concatenated without separator (RFC 8461 §3.1)
     */
    public static StsRecordOutcome select(List<String> txtRecords) {
        List<String> candidates = new ArrayList<>();
        for (String txt : txtRecords) {
            if (beginsWithVersion(txt)) {
                candidates.add(txt);
            }
        }
        if (candidates.isEmpty()) {
            return new StsRecordOutcome.Absent(
                    txtRecords.isEmpty()
                            ? "no TXT record"
                            : txtRecords.size() + " TXT record(s), none beginning with v=STSv1;");
        }
        if (candidates.size() > 1) {
            return new StsRecordOutcome.Multiple(candidates);
        }
        return parse(candidates.get(0));
    }

    /**
     * Parses one record text against the ABNF of RFC 8461 §3.1. Returns {@link StsRecordOutcome.Valid} or {@link
     * StsRecordOutcome.Invalid}, never throws for any input.
     *
     * <p>Two tolerances beyond the ABNF: whitespace after the last field (without a {@code ;}) is accepted, and a
     * repeated field is ignored after its first instance (RFC 8461 §3.2: "If any non-repeated field ... is
     * duplicated, all entries except for the first SHOULD be ignored") once it has the syntax of an extension.
     */
    public static StsRecordOutcome parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.length() > MAX_LENGTH) {
            return invalid(text, "the record is longer than " + MAX_LENGTH + " characters");
        }
        // RFC 8461 §3.1: the version field v=STSv1 comes first and is case-sensitive (%s in the ABNF).
        if (!text.startsWith(VERSION)) {
            return invalid(text, "the record does not begin with v=STSv1");
        }
        int pos = VERSION.length();
        int n = text.length();
        String id = null;
        List<String> seen = new ArrayList<>();
        List<Extension> extensions = new ArrayList<>();
        while (true) {
            // sts-field-delim = *WSP ";" *WSP
            int p = skipWsp(text, pos);
            if (p == n && !seen.isEmpty()) {
                break; // trailing whitespace after the last field: tolerated
            }
            if (p == n || text.charAt(p) != ';') {
                return invalid(
                        text,
                        p == n
                                ? "expected ';' and an id field after v=STSv1"
                                : "expected ';' at position " + p + ", found " + describe(text.charAt(p)));
            }
            p = skipWsp(text, p + 1);
            if (p == n) {
                if (seen.isEmpty()) {
                    return invalid(text, "no field after v=STSv1;");
                }
                break; // [sts-field-delim] at the end
            }
            // sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
            int nameStart = p;
            if (!isAlnum(text.charAt(p))) {
                return invalid(
                        text, "a field name must begin with a letter or digit, found " + describe(text.charAt(p)));
            }
            p++;
            while (p < n && isNameChar(text.charAt(p))) {
                p++;
            }
            String name = text.substring(nameStart, p);
            if (name.length() > MAX_NAME_LENGTH) {
                return invalid(text, "field name '" + name + "' is longer than " + MAX_NAME_LENGTH + " characters");
            }
            if (p == n || text.charAt(p) != '=') {
                return invalid(text, "expected '=' after field name '" + name + "'");
            }
            p++;
            int valueStart = p;
            boolean first = !seen.contains(name);
            seen.add(name);
            if (name.equals("id") && first) {
                // RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT)
                while (p < n && isAlnum(text.charAt(p))) {
                    p++;
                }
                String value = text.substring(valueStart, p);
                if (value.isEmpty() || value.length() > MAX_ID_LENGTH || !atFieldEnd(text, p)) {
                    return invalid(text, "the id must be 1 to 32 letters and digits");
                }
                id = value;
            } else {
                // sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): no '=', ';', space or control characters
                while (p < n && isExtValueChar(text.charAt(p))) {
                    p++;
                }
                String value = text.substring(valueStart, p);
                if (value.isEmpty() || !atFieldEnd(text, p)) {
                    return invalid(
                            text,
                            "the value of field '" + name + "' must be printable US-ASCII without '=', ';' or spaces");
                }
                if (first) {
                    extensions.add(new Extension(name, value));
                }
            }
            pos = p;
        }
        if (id == null) {
            // RFC 8461 §3.1: the id field is required.
            return invalid(text, "the record has no id field");
        }
        return new StsRecordOutcome.Valid(new StsRecord(id, extensions));
    }

    /** The record text, as published: {@code v=STSv1; id=...;} followed by the extensions. */
    public String toText() {
        StringBuilder b = new StringBuilder(VERSION).append("; id=").append(id).append(';');
        for (Extension e : extensions) {
            b.append(' ').append(e.name()).append('=').append(e.value()).append(';');
        }
        return b.toString();
    }

    private static boolean beginsWithVersion(String txt) {
        // RFC 8461 §3.1: "records that do not begin with "v=STSv1;" are discarded" (whitespace before ';' allowed
        // by sts-field-delim).
        return txt.startsWith(VERSION)
                && skipWsp(txt, VERSION.length()) < txt.length()
                && txt.charAt(skipWsp(txt, VERSION.length())) == ';';
    }

    private static boolean atFieldEnd(String text, int p) {
        return p == text.length() || text.charAt(p) == ';' || text.charAt(p) == ' ' || text.charAt(p) == '\t';
    }

    private static int skipWsp(String text, int pos) {
        int p = pos;
        while (p < text.length() && (text.charAt(p) == ' ' || text.charAt(p) == '\t')) {
            p++;
        }
        return p;
    }

    static boolean isAlnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    static boolean isNameChar(char c) {
        return isAlnum(c) || c == '_' || c == '-' || c == '.';
    }

    private static boolean isExtValueChar(char c) {
        return c >= 0x21 && c <= 0x7E && c != '=' && c != ';';
    }

    static String describe(char c) {
        return c >= 0x21 && c <= 0x7E ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private static StsRecordOutcome invalid(String text, String reason) {
        String shown = text.length() > 200 ? text.substring(0, 200) + "..." : text;
        return new StsRecordOutcome.Invalid(shown, reason);
    }
}
