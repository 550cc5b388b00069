package dev.optls.core.mysql;

import dev.optls.core.internal.InputBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * MySQL packet framing (MySQL protocol documentation, "MySQL Packets"): a 3-byte little-endian payload
 * length, a 1-byte sequence id, then the payload. Plus a bounds-checked cursor to read payloads.
 */
final class MysqlPacket {
    private final int sequence;
    private final byte[] payload;
    private final byte[] raw;

    private MysqlPacket(int sequence, byte[] payload, byte[] raw) {
        this.sequence = sequence;
        this.payload = payload;
        this.raw = raw;
    }

    /** The sequence id. */
    int sequence() {
        return sequence;
    }

    /** The payload (not a copy: callers only read it). */
    byte[] payload() {
        return payload;
    }

    /** The whole packet as received, header included (for hand-over). */
    byte[] raw() {
        return raw;
    }

    /** Header length: 3 bytes of length and 1 of sequence id. */
    static final int HEADER = 4;

    /**
     * Largest payload accepted during the negotiation. The greeting is about 80 bytes and a
     * HandshakeResponse41 a few hundred; 0xFFFFFF (a packet continued in the next one) is never valid here.
     */
    static final int MAX_NEGOTIATION_PAYLOAD = 64 * 1024;

    /** A malformed payload; the dialect turns it into a {@code MALFORMED} failure. */
    static final class Malformed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** The payload length announced by the next header, or -1 when fewer than 4 bytes are buffered. */
    static int announcedLength(InputBuffer in) {
        if (in.size() < HEADER) {
            return -1;
        }
        return (in.get(0) & 0xff) | (in.get(1) & 0xff) << 8 | (in.get(2) & 0xff) << 16;
    }

    /** Takes the next whole packet of {@code length} payload bytes, or returns null while incomplete. */
    static MysqlPacket take(InputBuffer in, int length) {
        if (in.size() < HEADER + length) {
            return null;
        }
        byte[] raw = in.take(HEADER + length);
        return new MysqlPacket(raw[3] & 0xff, Arrays.copyOfRange(raw, HEADER, raw.length), raw);
    }

    /** A packet with this sequence id and payload. */
    static byte[] frame(int sequence, byte[] payload) {
        if (payload.length >= 0xffffff) {
            throw new IllegalArgumentException("payload too long for one packet: " + payload.length);
        }
        byte[] packet = new byte[HEADER + payload.length];
        packet[0] = (byte) payload.length;
        packet[1] = (byte) (payload.length >>> 8);
        packet[2] = (byte) (payload.length >>> 16);
        packet[3] = (byte) sequence;
        System.arraycopy(payload, 0, packet, HEADER, payload.length);
        return packet;
    }

    /**
     * An ERR packet (MySQL protocol documentation, "ERR_Packet", 4.1 form): {@code 0xFF}, error code
     * (2 LE), {@code #}, SQLSTATE (5), message.
     */
    static byte[] err(int sequence, int code, String sqlState, String message) {
        if (sqlState.length() != 5) {
            throw new IllegalArgumentException("SQLSTATE has 5 characters: " + sqlState);
        }
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[1 + 2 + 1 + 5 + text.length];
        payload[0] = (byte) 0xff;
        payload[1] = (byte) code;
        payload[2] = (byte) (code >>> 8);
        payload[3] = '#';
        System.arraycopy(sqlState.getBytes(StandardCharsets.US_ASCII), 0, payload, 4, 5);
        System.arraycopy(text, 0, payload, 9, text.length);
        return frame(sequence, payload);
    }

    /**
     * A parsed ERR packet.
     *
     * @param code the error number, e.g. 1130
     * @param sqlState the SQLSTATE, or an empty string when the packet has none (pre-4.1 form, or an
     *     error before the capabilities are known, as MySQL's "Host is not allowed to connect")
     * @param message the human-readable message
     */
    record Err(int code, String sqlState, String message) {
        static Err parse(byte[] payload) {
            Cursor c = new Cursor(payload);
            if (c.u8() != 0xff) {
                throw new Malformed("not an ERR packet");
            }
            int code = c.u16();
            String state = "";
            if (c.remaining() >= 6 && payload[c.position()] == '#') {
                c.u8();
                state = new String(c.bytes(5), StandardCharsets.US_ASCII);
            }
            return new Err(code, state, new String(c.rest(), StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return "ERROR " + code + (sqlState.isEmpty() ? "" : " (" + sqlState + ")") + ": " + message;
        }
    }

    /** Reads a payload front to back; every read past the end is {@link Malformed}. */
    static final class Cursor {
        private final byte[] bytes;
        private int pos;

        Cursor(byte[] bytes) {
            this.bytes = bytes;
        }

        int position() {
            return pos;
        }

        int remaining() {
            return bytes.length - pos;
        }

        private void need(int n, String what) {
            if (remaining() < n) {
                throw new Malformed("the packet ends before its " + what);
            }
        }

        int u8() {
            need(1, "next byte");
            return bytes[pos++] & 0xff;
        }

        int u16() {
            need(2, "2-byte field");
            int v = (bytes[pos] & 0xff) | (bytes[pos + 1] & 0xff) << 8;
            pos += 2;
            return v;
        }

        long u32() {
            need(4, "4-byte field");
            long v = (bytes[pos] & 0xffL)
                    | (bytes[pos + 1] & 0xffL) << 8
                    | (bytes[pos + 2] & 0xffL) << 16
                    | (bytes[pos + 3] & 0xffL) << 24;
            pos += 4;
            return v;
        }

        byte[] bytes(int n) {
            need(n, n + "-byte field");
            byte[] b = Arrays.copyOfRange(bytes, pos, pos + n);
            pos += n;
            return b;
        }

        /** A NUL-terminated string; the NUL is consumed. */
        String nulString(String what) {
            for (int i = pos; i < bytes.length; i++) {
                if (bytes[i] == 0) {
                    String s = new String(bytes, pos, i - pos, StandardCharsets.UTF_8);
                    pos = i + 1;
                    return s;
                }
            }
            throw new Malformed("the " + what + " is not NUL-terminated");
        }

        /** A string up to a NUL or the end of the packet, whichever comes first. */
        String nulOrEofString() {
            int end = pos;
            while (end < bytes.length && bytes[end] != 0) {
                end++;
            }
            String s = new String(bytes, pos, end - pos, StandardCharsets.UTF_8);
            pos = Math.min(bytes.length, end + 1);
            return s;
        }

        byte[] rest() {
            byte[] b = Arrays.copyOfRange(bytes, pos, bytes.length);
            pos = bytes.length;
            return b;
        }
    }
}
