package dev.optls.policy.postfix;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * Netstrings ({@code <length>:<bytes>,}, D. J. Bernstein's format), the framing of Postfix's {@code socketmap_table(5)}
 * protocol: every request and every reply is one netstring. Reading is bounded: a length over the caller's limit is
 * refused before any data is read.
 */
public final class Netstrings {

    /** Postfix's own limit for a socketmap reply ({@code socketmap_max_reply_size}, 100000 bytes). */
    public static final int POSTFIX_MAX_REPLY = 100_000;

    private Netstrings() {}

    /** {@code data} as a netstring. */
    public static byte[] encode(byte[] data) {
        Objects.requireNonNull(data, "data");
        byte[] prefix = (data.length + ":").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[prefix.length + data.length + 1];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(data, 0, out, prefix.length, data.length);
        out[out.length - 1] = ',';
        return out;
    }

    /** {@code text} (UTF-8) as a netstring. */
    public static byte[] encode(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads one netstring of at most {@code maxLength} data bytes from {@code in}.
     *
     * @return the data, or empty if the stream ended cleanly before the first byte (the peer closed the connection
     *     between requests)
     * @throws MalformedNetstringException if the bytes are not a netstring (no digits, a leading zero, no colon, no
     *     trailing comma, a length over {@code maxLength}, or the stream ending inside it)
     * @throws IOException if reading fails (a read timeout included)
     */
    public static Optional<byte[]> read(InputStream in, int maxLength) throws IOException {
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength must not be negative: " + maxLength);
        }
        int digitsAllowed = Integer.toString(maxLength).length();
        int c = in.read();
        if (c < 0) {
            return Optional.empty();
        }
        long length = 0;
        int digits = 0;
        while (c != ':') {
            if (c < '0' || c > '9') {
                throw new MalformedNetstringException(
                        c < 0
                                ? "the stream ended inside the length of a netstring"
                                : "a netstring length holds only digits before ':', found " + describe(c));
            }
            if (digits == 1 && length == 0) {
                throw new MalformedNetstringException("a netstring length has no leading zeros");
            }
            digits++;
            length = length * 10 + (c - '0');
            if (digits > digitsAllowed || length > maxLength) {
                throw new MalformedNetstringException(
                        "a netstring longer than " + maxLength + " bytes (the limit for a request) was announced");
            }
            c = in.read();
        }
        if (digits == 0) {
            throw new MalformedNetstringException("a netstring starts with its length in digits, found ':'");
        }
        byte[] data = in.readNBytes((int) length);
        if (data.length < length) {
            throw new MalformedNetstringException(
                    "the stream ended inside a netstring (" + data.length + " of " + length + " bytes)");
        }
        int comma = in.read();
        if (comma != ',') {
            throw new MalformedNetstringException(
                    "a netstring ends with ',', found " + (comma < 0 ? "the end of the stream" : describe(comma)));
        }
        return Optional.of(data);
    }

    /**
     * Takes one netstring from the front of {@code buffer} (between its position and limit), for non-blocking
     * readers: the data, with the position moved past the netstring, or empty when more bytes are needed (the
     * position is left alone).
     *
     * @throws MalformedNetstringException as {@link #read(InputStream, int)}, as soon as the bytes seen cannot start
     *     a netstring of at most {@code maxLength} bytes
     */
    public static Optional<byte[]> next(ByteBuffer buffer, int maxLength) throws MalformedNetstringException {
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength must not be negative: " + maxLength);
        }
        int digitsAllowed = Integer.toString(maxLength).length();
        int start = buffer.position();
        int end = buffer.limit();
        long length = 0;
        int digits = 0;
        int i = start;
        for (; ; i++) {
            if (i == end) {
                return Optional.empty();
            }
            int c = buffer.get(i) & 0xff;
            if (c == ':') {
                break;
            }
            if (c < '0' || c > '9') {
                throw new MalformedNetstringException(
                        "a netstring length holds only digits before ':', found " + describe(c));
            }
            if (digits == 1 && length == 0) {
                throw new MalformedNetstringException("a netstring length has no leading zeros");
            }
            digits++;
            length = length * 10 + (c - '0');
            if (digits > digitsAllowed || length > maxLength) {
                throw new MalformedNetstringException(
                        "a netstring longer than " + maxLength + " bytes (the limit for a request) was announced");
            }
        }
        if (digits == 0) {
            throw new MalformedNetstringException("a netstring starts with its length in digits, found ':'");
        }
        int dataStart = i + 1;
        if (end - dataStart < length + 1) {
            return Optional.empty();
        }
        int comma = buffer.get(dataStart + (int) length) & 0xff;
        if (comma != ',') {
            throw new MalformedNetstringException("a netstring ends with ',', found " + describe(comma));
        }
        byte[] data = new byte[(int) length];
        buffer.get(dataStart, data);
        buffer.position(dataStart + (int) length + 1);
        return Optional.of(data);
    }

    /** Like {@link #read(InputStream, int)}, but the end of the stream is an error too. */
    public static byte[] readRequired(InputStream in, int maxLength) throws IOException {
        return read(in, maxLength).orElseThrow(() -> new EOFException("the stream ended before a netstring"));
    }

    private static String describe(int c) {
        return c >= 0x21 && c < 0x7f ? "'" + (char) c + "'" : String.format("byte 0x%02x", c);
    }

    /** The bytes read are not a netstring; the connection cannot be resynchronised and must be closed. */
    public static final class MalformedNetstringException extends IOException {
        private static final long serialVersionUID = 1L;

        /** With a message saying what was wrong. */
        public MalformedNetstringException(String message) {
            super(message);
        }
    }
}
