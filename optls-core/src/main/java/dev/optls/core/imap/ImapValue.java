package dev.optls.core.imap;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** One value in an IMAP command or response (RFC 9051 §4): atom, quoted string, literal or list. */
public sealed interface ImapValue {

    /** The value as text: atoms and quoted strings as written, literals decoded as UTF-8. */
    String text();

    /**
     * An atom (also numbers, {@code NIL}, flags such as {@code \Seen}, sequence sets and fetch items
     * with a section such as {@code BODY[HEADER.FIELDS (FROM)]<0>}).
     */
    record Atom(String text) implements ImapValue {}

    /** A quoted string (RFC 9051 §4.3), unescaped. */
    record Quoted(String text) implements ImapValue {}

    /**
     * A literal {@code {n}}, {@code {n+}} (RFC 7888) or {@code ~{n}} (RFC 3516 literal8), read byte-exactly.
     *
     * @param bytes exactly the n octets that followed the CRLF
     * @param binary whether it was a {@code ~{n}} literal8
     * @param synchronizing whether it was {@code {n}} rather than the non-synchronizing {@code {n+}}
     */
    record Literal(ByteBuffer bytes, boolean binary, boolean synchronizing) implements ImapValue {
        public Literal {
            bytes = bytes.asReadOnlyBuffer();
        }

        /** A read-only view of the octets, positioned at the first one. */
        @Override
        public ByteBuffer bytes() {
            return bytes.duplicate();
        }

        /** The number of octets. */
        public int size() {
            return bytes.remaining();
        }

        @Override
        public String text() {
            return StandardCharsets.UTF_8.decode(bytes()).toString();
        }
    }

    /** A parenthesized list. */
    record Parenthesized(List<ImapValue> items) implements ImapValue {
        public Parenthesized {
            items = List.copyOf(items);
        }

        @Override
        public String text() {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < items.size(); i++) {
                sb.append(i == 0 ? "" : " ").append(items.get(i).text());
            }
            return sb.append(')').toString();
        }
    }
}
