package dev.optls.core.postgres;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The few PostgreSQL frontend/backend protocol messages the upgrade needs (PostgreSQL documentation,
 * "Message Formats"): SSLRequest, GSSENCRequest, CancelRequest, StartupMessage and ErrorResponse. All
 * integers are big-endian Int32.
 */
final class PostgresMessages {
    /** SSLRequest code: 1234 in the high 16 bits, 5679 in the low 16 bits (0x04D2162F). */
    static final int SSL_REQUEST_CODE = 80877103;

    /** GSSENCRequest code: 1234 / 5680 (0x04D21630). */
    static final int GSSENC_REQUEST_CODE = 80877104;

    /** CancelRequest code: 1234 / 5678 (0x04D2162E). */
    static final int CANCEL_REQUEST_CODE = 80877102;

    /** StartupMessage protocol version 3.0 (196608 = 3 << 16). */
    static final int PROTOCOL_3_0 = 196608;

    /**
     * PostgreSQL's {@code MAX_STARTUP_PACKET_LENGTH}: the postmaster rejects a startup packet whose length
     * is below 8 or above 10000 ("invalid length of startup packet").
     */
    static final int MAX_STARTUP_PACKET_LENGTH = 10000;

    /** The smallest startup packet: Int32 length + Int32 code. */
    static final int MIN_STARTUP_PACKET_LENGTH = 8;

    private PostgresMessages() {}

    /** SSLRequest: {@code 00 00 00 08 04 d2 16 2f}. */
    static byte[] sslRequest() {
        return request(SSL_REQUEST_CODE);
    }

    /** GSSENCRequest: {@code 00 00 00 08 04 d2 16 30}. */
    static byte[] gssEncRequest() {
        return request(GSSENC_REQUEST_CODE);
    }

    private static byte[] request(int code) {
        byte[] b = new byte[8];
        putInt(b, 0, 8);
        putInt(b, 4, code);
        return b;
    }

    /** CancelRequest for backend {@code pid} with {@code secret}: 16 bytes. */
    static byte[] cancelRequest(int pid, int secret) {
        byte[] b = new byte[16];
        putInt(b, 0, 16);
        putInt(b, 4, CANCEL_REQUEST_CODE);
        putInt(b, 8, pid);
        putInt(b, 12, secret);
        return b;
    }

    /** StartupMessage for protocol 3.0 with these parameters, in iteration order. */
    static byte[] startupMessage(Map<String, String> parameters) {
        List<byte[]> parts = new ArrayList<>();
        int length = 8 + 1;
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            byte[] k = cString(e.getKey());
            byte[] v = cString(e.getValue());
            parts.add(k);
            parts.add(v);
            length += k.length + v.length;
        }
        byte[] b = new byte[length];
        putInt(b, 0, length);
        putInt(b, 4, PROTOCOL_3_0);
        int at = 8;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, b, at, p.length);
            at += p.length;
        }
        b[at] = 0;
        return b;
    }

    /**
     * ErrorResponse ({@code E}, Int32 length, fields, terminating zero) with the fields PostgreSQL always
     * sends: S (localized severity), V (severity, since 9.6), C (SQLSTATE) and M (message).
     */
    static byte[] errorResponse(String severity, String sqlState, String message) {
        byte[][] fields = {
            field('S', severity), field('V', severity), field('C', sqlState), field('M', message),
        };
        int length = 4 + 1;
        for (byte[] f : fields) {
            length += f.length;
        }
        byte[] b = new byte[1 + length];
        b[0] = 'E';
        putInt(b, 1, length);
        int at = 5;
        for (byte[] f : fields) {
            System.arraycopy(f, 0, b, at, f.length);
            at += f.length;
        }
        b[at] = 0;
        return b;
    }

    private static byte[] field(char type, String value) {
        byte[] v = cString(value);
        byte[] f = new byte[1 + v.length];
        f[0] = (byte) type;
        System.arraycopy(v, 0, f, 1, v.length);
        return f;
    }

    private static byte[] cString(String s) {
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a PostgreSQL string cannot contain NUL");
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }

    static void putInt(byte[] b, int at, int value) {
        b[at] = (byte) (value >>> 24);
        b[at + 1] = (byte) (value >>> 16);
        b[at + 2] = (byte) (value >>> 8);
        b[at + 3] = (byte) value;
    }

    static int getInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
    }

    /**
     * The NUL-terminated strings of {@code b} from {@code from} up to (excluding) {@code to}; null when the
     * last one is not terminated inside the range.
     */
    static List<String> cStrings(byte[] b, int from, int to) {
        List<String> out = new ArrayList<>();
        int start = from;
        for (int i = from; i < to; i++) {
            if (b[i] == 0) {
                out.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return start == to ? out : null;
    }

    /**
     * The fields of an ErrorResponse body (after the Int32 length): type byte + string, ended by a zero
     * type byte. Returns null when the body is not well-formed.
     */
    static ErrorFields errorFields(byte[] b, int from, int to) {
        String severity = "";
        String code = "";
        String message = "";
        int i = from;
        while (i < to) {
            byte type = b[i];
            if (type == 0) {
                return i == to - 1 ? new ErrorFields(severity, code, message) : null;
            }
            int end = i + 1;
            while (end < to && b[end] != 0) {
                end++;
            }
            if (end >= to) {
                return null;
            }
            String value = new String(b, i + 1, end - i - 1, StandardCharsets.UTF_8);
            // Message formats: S severity (V the non-localized one), C SQLSTATE, M primary message.
            if (type == 'V' || type == 'S' && severity.isEmpty()) {
                severity = value;
            } else if (type == 'C') {
                code = value;
            } else if (type == 'M') {
                message = value;
            }
            i = end + 1;
        }
        return null;
    }

    /** What an ErrorResponse says, unauthenticated: for reports only. */
    record ErrorFields(String severity, String sqlState, String message) {}

    /** {@code s} with control characters replaced by {@code ?}, cut at {@code max} characters. */
    static String printable(String s, int max) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), max) + 3);
        for (int i = 0; i < s.length() && out.length() < max; i++) {
            char c = s.charAt(i);
            out.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (s.length() > max) {
            out.append("...");
        }
        return out.toString();
    }
}
