package dev.optls.policy.sts;

import dev.optls.policy.internal.TxtRecordSyntax;
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
            if (!TxtRecordSyntax.isAlnum(id.charAt(i))) {
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
        List<String> candidates = TxtRecordSyntax.candidates(txtRecords, VERSION);
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
        String[] id = {null};
        List<Extension> extensions = new ArrayList<>();
        try {
            TxtRecordSyntax.scan(text, VERSION, "an id", (name, first, t, start) -> {
                if (name.equals("id") && first) {
                    // RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT)
                    int p = start;
                    while (p < t.length() && TxtRecordSyntax.isAlnum(t.charAt(p))) {
                        p++;
                    }
                    if (p == start || p - start > MAX_ID_LENGTH || !TxtRecordSyntax.atFieldEnd(t, p)) {
                        throw new TxtRecordSyntax.Invalid("the id must be 1 to 32 letters and digits");
                    }
                    id[0] = t.substring(start, p);
                    return p;
                }
                int end = TxtRecordSyntax.extensionValue(name, t, start);
                if (first) {
                    extensions.add(new Extension(name, t.substring(start, end)));
                }
                return end;
            });
        } catch (TxtRecordSyntax.Invalid e) {
            return invalid(text, e.reason());
        }
        if (id[0] == null) {
            // RFC 8461 §3.1: the id field is required.
            return invalid(text, "the record has no id field");
        }
        return new StsRecordOutcome.Valid(new StsRecord(id[0], extensions));
    }

    /** The record text, as published: {@code v=STSv1; id=...;} followed by the extensions. */
    public String toText() {
        StringBuilder b = new StringBuilder(VERSION).append("; id=").append(id).append(';');
        for (Extension e : extensions) {
            b.append(' ').append(e.name()).append('=').append(e.value()).append(';');
        }
        return b.toString();
    }

    private static StsRecordOutcome invalid(String text, String reason) {
        String shown = text.length() > 200 ? text.substring(0, 200) + "..." : text;
        return new StsRecordOutcome.Invalid(shown, reason);
    }
}
