package dev.optls.core;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a server advertised: EHLO/LHLO keywords with their parameters, IMAP capability atoms, POP3 CAPA
 * lines. Each entry is one advertised item as sent; the keyword is its first token, compared without
 * regard to case (RFC 5321 §2.4, RFC 9051 §7.2.2, RFC 2449 §5).
 *
 * @param entries the advertised items, in order
 */
public record Capabilities(List<String> entries) {
    public static final Capabilities NONE = new Capabilities(List.of());

    public Capabilities {
        entries = List.copyOf(entries);
    }

    public static Capabilities of(String... entries) {
        return new Capabilities(List.of(entries));
    }

    /** Whether an item with this keyword is present. */
    public boolean has(String keyword) {
        for (String e : entries) {
            if (hasKeyword(e, keyword)) {
                return true;
            }
        }
        return false;
    }

    /** The first item whose keyword (first token) equals {@code keyword}, ignoring case. */
    public Optional<String> find(String keyword) {
        for (String e : entries) {
            if (hasKeyword(e, keyword)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /** A copy without the items that have this keyword. */
    public Capabilities without(String keyword) {
        if (!has(keyword)) {
            return this;
        }
        return new Capabilities(
                entries.stream().filter(e -> !hasKeyword(e, keyword)).toList());
    }

    /** Whether {@code entry}'s first token is {@code keyword}, ignoring case, without allocating. */
    private static boolean hasKeyword(String entry, String keyword) {
        int n = keyword.length();
        return entry.regionMatches(true, 0, keyword, 0, n) && (entry.length() == n || entry.charAt(n) == ' ');
    }

    /** A copy with {@code entry} appended. */
    public Capabilities with(String entry) {
        return new Capabilities(java.util.stream.Stream.concat(entries.stream(), java.util.stream.Stream.of(entry))
                .toList());
    }

    /** The keyword of an item: its first space-separated token, upper-cased. */
    public static String keywordOf(String entry) {
        int sp = entry.indexOf(' ');
        return (sp < 0 ? entry : entry.substring(0, sp)).toUpperCase(Locale.ROOT);
    }
}
