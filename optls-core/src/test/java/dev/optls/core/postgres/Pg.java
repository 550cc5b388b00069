package dev.optls.core.postgres;

import dev.optls.core.testing.Transcript;
import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds binary PostgreSQL transcripts: every byte written as a {@code \xHH} escape, no line ends. */
final class Pg {
    static final byte[] SSL_REQUEST = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f};
    static final byte[] GSSENC_REQUEST = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x30};

    private final StringBuilder text = new StringBuilder();

    private Pg() {}

    static Pg transcript() {
        return new Pg();
    }

    Pg option(String keyValue) {
        text.append("@ ").append(keyValue).append('\n');
        return this;
    }

    /** Server to client. */
    Pg s(byte[]... parts) {
        text.append("S: ").append(escape(concat(parts))).append("\\\n");
        return this;
    }

    /** Client to server. */
    Pg c(byte[]... parts) {
        text.append("C: ").append(escape(concat(parts))).append("\\\n");
        return this;
    }

    /** The application's answer to a delivered command ({@code HANDOVER}). */
    Pg a(String answer) {
        text.append("A: ").append(answer).append('\n');
        return this;
    }

    Pg tls() {
        text.append("-- TLS --\n");
        return this;
    }

    Transcript expect(String name, String outcome) {
        return Transcript.parse(name, text + "== " + outcome + "\n");
    }

    static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    static byte[] startup(String... keyValues) {
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            params.put(keyValues[i], keyValues[i + 1]);
        }
        return PostgresMessages.startupMessage(params);
    }

    static byte[] int32(int v) {
        byte[] b = new byte[4];
        PostgresMessages.putInt(b, 0, v);
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static String escape(byte[] b) {
        StringBuilder s = new StringBuilder(b.length * 4);
        for (byte x : b) {
            s.append(String.format("\\x%02x", x & 0xff));
        }
        return s.toString();
    }
}
