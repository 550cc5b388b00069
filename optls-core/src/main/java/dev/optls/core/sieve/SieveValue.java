package dev.optls.core.sieve;

import java.util.List;

/** One token of a ManageSieve line (RFC 5804 §4): an atom, a string (quoted or literal) or a list. */
sealed interface SieveValue {

    /** An atom such as {@code OK}, {@code NO}, {@code ENCRYPT-NEEDED} or a number. */
    record Atom(String text) implements SieveValue {}

    /** A string, sent quoted ({@code "..."}) or as a literal ({@code {n}}/{@code {n+}} CRLF octets). */
    record Str(String text, boolean literal) implements SieveValue {}

    /** A parenthesized list, as in a response code {@code (SASL "...")}. */
    record Group(List<SieveValue> items) implements SieveValue {
        public Group {
            items = List.copyOf(items);
        }
    }
}
