package dev.optls.core.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A bounded byte accumulator with CRLF line extraction. Never grows beyond its capacity. */
public final class InputBuffer {
    private final int capacity;
    private byte[] bytes = new byte[512];
    private int start;
    private int end;

    public InputBuffer(int capacity) {
        this.capacity = capacity;
    }

    /** Number of buffered, unconsumed bytes. */
    public int size() {
        return end - start;
    }

    /**
     * Appends all of {@code src}.
     *
     * @return false (and appends nothing) when the result would exceed the capacity
     */
    public boolean append(ByteBuffer src) {
        int n = src.remaining();
        if (n > capacity - size()) {
            return false;
        }
        if (end + n > bytes.length) {
            compactAndGrow(size() + n);
        }
        src.get(bytes, end, n);
        end += n;
        return true;
    }

    private void compactAndGrow(int needed) {
        int newLength = bytes.length;
        while (newLength < needed) {
            newLength = Math.min(Math.max(newLength * 2, needed), Math.max(capacity, needed));
        }
        byte[] target = newLength == bytes.length ? bytes : new byte[newLength];
        System.arraycopy(bytes, start, target, 0, size());
        end = size();
        start = 0;
        bytes = target;
    }

    /** The byte at offset {@code i} from the first unconsumed byte. */
    public byte get(int i) {
        return bytes[start + i];
    }

    /** Offset of the first LF, or -1. */
    public int indexOfLf() {
        for (int i = start; i < end; i++) {
            if (bytes[i] == '\n') {
                return i - start;
            }
        }
        return -1;
    }

    /**
     * Removes and returns the next line without its line ending (CRLF, or a bare LF, accepted leniently).
     * Returns null when no complete line is buffered yet.
     *
     * @throws LineTooLongException when {@code maxLength} bytes are buffered without a line end, or the
     *     line is longer than {@code maxLength} including its ending
     */
    public String takeLine(int maxLength) {
        int length = lineLength(maxLength);
        if (length < 0) {
            return null;
        }
        int text = length - 1;
        if (text > 0 && bytes[start + text - 1] == '\r') {
            text--;
        }
        String line = new String(bytes, start, text, StandardCharsets.UTF_8);
        start += length;
        return line;
    }

    /**
     * Like {@link #takeLine(int)} but returns the line's bytes including its line ending.
     *
     * @throws LineTooLongException as for {@link #takeLine(int)}
     */
    public byte[] takeRawLine(int maxLength) {
        int length = lineLength(maxLength);
        return length < 0 ? null : take(length);
    }

    /** Length of the next complete line including its LF, or -1 when none is complete yet. */
    private int lineLength(int maxLength) {
        int lf = indexOfLf();
        if (lf < 0) {
            if (size() >= maxLength) {
                throw new LineTooLongException(maxLength);
            }
            return -1;
        }
        if (lf + 1 > maxLength) {
            throw new LineTooLongException(maxLength);
        }
        return lf + 1;
    }

    /** Decodes a raw line as UTF-8 (malformed bytes become U+FFFD) without its CRLF or LF. */
    public static String decodeLine(byte[] raw) {
        int n = raw.length;
        if (n > 0 && raw[n - 1] == '\n') {
            n--;
        }
        if (n > 0 && raw[n - 1] == '\r') {
            n--;
        }
        return new String(raw, 0, n, StandardCharsets.UTF_8);
    }

    /** Removes and returns the next {@code n} bytes. */
    public byte[] take(int n) {
        if (n > size()) {
            throw new IllegalArgumentException("only " + size() + " bytes buffered");
        }
        byte[] out = Arrays.copyOfRange(bytes, start, start + n);
        start += n;
        return out;
    }

    /** Removes and returns everything buffered. */
    public ByteBuffer takeAll() {
        return ByteBuffer.wrap(take(size()));
    }

    /** Thrown by {@link #takeLine(int)} when a line exceeds its limit. */
    public static final class LineTooLongException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LineTooLongException(int limit) {
            super("line longer than " + limit + " bytes", null, false, false);
        }
    }
}
