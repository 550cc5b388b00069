package dev.optls.core.ldap;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A small, bounded BER reader and writer for the LDAP subset (RFC 4511 §5.1, X.690 §8): one-octet
 * tags, definite lengths only (short form, or long form with at most four length octets), elements
 * nested at most {@link #MAX_DEPTH} deep. Anything else is a {@link BerException}, never an
 * out-of-bounds read or an allocation the peer chose.
 */
public final class Ber {
    /** UNIVERSAL 1, BOOLEAN. */
    public static final int BOOLEAN = 0x01;
    /** UNIVERSAL 2, INTEGER. */
    public static final int INTEGER = 0x02;
    /** UNIVERSAL 4, OCTET STRING. */
    public static final int OCTET_STRING = 0x04;
    /** UNIVERSAL 10, ENUMERATED. */
    public static final int ENUMERATED = 0x0a;
    /** UNIVERSAL 16, SEQUENCE (constructed). */
    public static final int SEQUENCE = 0x30;

    /** Most nesting levels a reader descends (LDAPMessage → protocolOp → field → ...). */
    public static final int MAX_DEPTH = 8;

    /** RFC 4511 §5.1: "Only the definite form of length encoding is used"; four octets are plenty. */
    private static final int MAX_LENGTH_OCTETS = 4;

    private Ber() {}

    /** Input that is not the BER subset LDAP uses, or that goes over a bound. */
    public static final class BerException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        private final boolean overLimit;

        BerException(String message, boolean overLimit) {
            super(message, null, false, false);
            this.overLimit = overLimit;
        }

        /** Whether the input was well-formed but larger than allowed. */
        public boolean overLimit() {
            return overLimit;
        }
    }

    /** Something that holds bytes addressed from 0 (the dialects' input buffer, or an array). */
    public interface Bytes {
        /** Number of bytes available. */
        int size();

        /** The byte at {@code i}. */
        byte get(int i);
    }

    /**
     * The total length (header + value) of the element that starts at offset 0 of {@code bytes}, or -1
     * when not enough bytes are there yet to know it or to hold it.
     *
     * @param maxTotal the most bytes the element may take; a header declaring more is refused at once
     * @throws BerException for an indefinite or over-long length, a multi-octet tag, or more than {@code
     *     maxTotal} bytes
     */
    public static int elementLength(Bytes bytes, int maxTotal) {
        if (bytes.size() < 2) {
            return -1;
        }
        checkTag(bytes.get(0) & 0xff);
        int first = bytes.get(1) & 0xff;
        long length;
        int header;
        if (first < 0x80) {
            length = first;
            header = 2;
        } else {
            int octets = first & 0x7f;
            if (octets == 0) {
                // X.690 §8.1.3.6: 0x80 is the indefinite form, which RFC 4511 §5.1 forbids.
                throw new BerException("indefinite length (0x80) is not allowed in LDAP (RFC 4511 §5.1)", false);
            }
            if (octets > MAX_LENGTH_OCTETS) {
                throw new BerException(
                        "a length with " + octets + " length octets (at most " + MAX_LENGTH_OCTETS + " are accepted)",
                        false);
            }
            if (bytes.size() < 2 + octets) {
                return -1;
            }
            length = 0;
            for (int i = 0; i < octets; i++) {
                length = (length << 8) | (bytes.get(2 + i) & 0xff);
            }
            header = 2 + octets;
        }
        if (header + length > maxTotal) {
            throw new BerException(
                    "an element of " + (header + length) + " bytes (at most " + maxTotal + " are accepted)", true);
        }
        int total = (int) (header + length);
        return bytes.size() < total ? -1 : total;
    }

    private static void checkTag(int tag) {
        if ((tag & 0x1f) == 0x1f) {
            // X.690 §8.1.2.4: the high-tag-number form; LDAP has no tag numbers above 30.
            throw new BerException(String.format("a multi-octet tag (0x%02x...), which LDAP never uses", tag), false);
        }
    }

    /** One decoded element: its tag and where its value lies in the shared array. */
    public record Element(int tag, byte[] source, int start, int end, int depth) {
        /** Whether the tag has the constructed bit (X.690 §8.1.2.5). */
        public boolean constructed() {
            return (tag & 0x20) != 0;
        }

        /** Length of the value. */
        public int length() {
            return end - start;
        }

        /** A copy of the value. */
        public byte[] value() {
            return Arrays.copyOfRange(source, start, end);
        }

        /** The value as UTF-8 text (LDAPString, LDAPOID: RFC 4511 §4.1.2). */
        public String text() {
            return new String(source, start, length(), StandardCharsets.UTF_8);
        }

        /**
         * The value as a non-negative INTEGER or ENUMERATED that fits in 31 bits (MessageID, resultCode:
         * RFC 4511 §4.1.1, §4.1.9).
         */
        public int nonNegativeInt() {
            int n = length();
            if (n == 0) {
                throw new BerException("an INTEGER with no content octets (X.690 §8.3.1)", false);
            }
            if ((source[start] & 0x80) != 0) {
                throw new BerException("a negative INTEGER where 0..2147483647 is required", false);
            }
            int i = start;
            // X.690 §8.3.2 wants minimal encodings; a leading zero octet is tolerated, nothing more.
            if (n > 1 && source[i] == 0) {
                i++;
            }
            if (end - i > 4 || (end - i == 4 && (source[i] & 0x80) != 0)) {
                throw new BerException("an INTEGER larger than 2147483647", false);
            }
            int v = 0;
            for (; i < end; i++) {
                v = (v << 8) | (source[i] & 0xff);
            }
            return v;
        }

        /** A reader over the elements inside this constructed element. */
        public Reader children() {
            if (!constructed()) {
                throw new BerException(
                        String.format("tag 0x%02x is primitive where a constructed one is needed", tag), false);
            }
            if (depth + 1 > MAX_DEPTH) {
                throw new BerException("elements nested deeper than " + MAX_DEPTH + " levels", true);
            }
            return new Reader(source, start, end, depth + 1);
        }
    }

    /** Reads consecutive elements from {@code [start, end)} of an array. */
    public static final class Reader {
        private final byte[] source;
        private final int end;
        private final int depth;
        private int position;

        /** A reader over a whole array at depth 0. */
        public Reader(byte[] source) {
            this(source, 0, source.length, 0);
        }

        Reader(byte[] source, int start, int end, int depth) {
            this.source = source;
            this.position = start;
            this.end = end;
            this.depth = depth;
        }

        /** Whether another element follows. */
        public boolean hasNext() {
            return position < end;
        }

        /** The tag of the next element, or -1 at the end. */
        public int peekTag() {
            return hasNext() ? source[position] & 0xff : -1;
        }

        /** The next element; throws when none is left or it runs past the end of its container. */
        public Element next() {
            if (!hasNext()) {
                throw new BerException("an element is missing at the end of a SEQUENCE", false);
            }
            int from = position;
            Bytes window = new Bytes() {
                @Override
                public int size() {
                    return end - from;
                }

                @Override
                public byte get(int i) {
                    return source[from + i];
                }
            };
            // The container bounds its elements: one that does not fit is malformed, not over a limit.
            int total;
            try {
                total = elementLength(window, Integer.MAX_VALUE);
            } catch (BerException e) {
                if (!e.overLimit()) {
                    throw e;
                }
                total = -1;
            }
            if (total < 0) {
                throw new BerException("an element runs past the end of its container", false);
            }
            int lengthByte = source[from + 1] & 0xff;
            int header = lengthByte < 0x80 ? 2 : 2 + (lengthByte & 0x7f);
            position = from + total;
            return new Element(source[from] & 0xff, source, from + header, from + total, depth);
        }

        /** The next element, which must carry {@code tag}. */
        public Element next(int tag, String what) {
            int actual = peekTag();
            if (actual != tag) {
                throw new BerException(
                        actual < 0
                                ? what + " is missing"
                                : String.format("expected %s (tag 0x%02x), found tag 0x%02x", what, tag, actual),
                        false);
            }
            return next();
        }

        /** Throws unless every element has been read. */
        public void expectEnd(String container) {
            if (hasNext()) {
                throw new BerException(
                        String.format("unexpected tag 0x%02x at the end of %s", peekTag(), container), false);
            }
        }
    }

    /** Builds BER elements. The caller's own data only: it never carries peer input unbounded. */
    public static final class Writer {
        private Writer() {}

        /** An element with {@code tag} around the concatenated {@code contents}. */
        public static byte[] element(int tag, byte[]... contents) {
            int length = 0;
            for (byte[] c : contents) {
                length += c.length;
            }
            byte[] header = header(tag, length);
            byte[] out = Arrays.copyOf(header, header.length + length);
            int at = header.length;
            for (byte[] c : contents) {
                System.arraycopy(c, 0, out, at, c.length);
                at += c.length;
            }
            return out;
        }

        /** A primitive element holding UTF-8 text (OCTET STRING, LDAPOID, context tags). */
        public static byte[] text(int tag, String value) {
            return element(tag, value.getBytes(StandardCharsets.UTF_8));
        }

        /** A minimal two's complement encoding of a non-negative value under {@code tag}. */
        public static byte[] integer(int tag, int value) {
            if (value < 0) {
                throw new IllegalArgumentException("only non-negative values are encoded, was " + value);
            }
            // 0..2^31-1 fits in four octets with the sign bit clear (X.690 §8.3.2: no needless octets).
            int n = 1;
            while (n < 4 && value >= 1 << (8 * n - 1)) {
                n++;
            }
            byte[] v = new byte[n];
            for (int i = 0; i < n; i++) {
                v[i] = (byte) (value >> (8 * (n - 1 - i)));
            }
            return element(tag, v);
        }

        private static byte[] header(int tag, int length) {
            if (length < 0x80) {
                return new byte[] {(byte) tag, (byte) length};
            }
            int octets = length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4;
            byte[] h = new byte[2 + octets];
            h[0] = (byte) tag;
            h[1] = (byte) (0x80 | octets);
            for (int i = 0; i < octets; i++) {
                h[2 + i] = (byte) (length >> (8 * (octets - 1 - i)));
            }
            return h;
        }
    }
}
