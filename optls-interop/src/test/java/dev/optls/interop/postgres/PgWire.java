package dev.optls.interop.postgres;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The PostgreSQL protocol-3 messages the interop tests write and read themselves. */
final class PgWire {
    /** SSLRequest: Int32 8, Int32 80877103. */
    static final byte[] SSL_REQUEST = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f};

    private PgWire() {}

    /** A StartupMessage (protocol 3.0) with {@code user} and {@code database}. */
    static byte[] startup(String user, String database) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String s : List.of("user", user, "database", database)) {
            body.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        }
        body.write(0);
        byte[] b = body.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeInt(out, 8 + b.length);
        writeInt(out, 196608);
        out.writeBytes(b);
        return out.toByteArray();
    }

    /** An ErrorResponse with severity FATAL, SQLSTATE {@code code} and {@code message}. */
    static byte[] fatal(String code, String message) {
        ByteArrayOutputStream fields = new ByteArrayOutputStream();
        for (String f : List.of("SFATAL", "VFATAL", "C" + code, "M" + message)) {
            fields.writeBytes(f.getBytes(StandardCharsets.UTF_8));
            fields.write(0);
        }
        fields.write(0);
        byte[] b = fields.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write('E');
        writeInt(out, 4 + b.length);
        out.writeBytes(b);
        return out.toByteArray();
    }

    /** One backend message: its type byte and body. */
    record Message(char type, byte[] body) {
        /** The body as text with NULs shown as {@code |}, for assertion messages. */
        String text() {
            return new String(body, StandardCharsets.UTF_8).replace('\0', '|');
        }

        /** For {@code R}: the authentication request code (0 = AuthenticationOk). */
        int authCode() {
            return (body[0] & 0xff) << 24 | (body[1] & 0xff) << 16 | (body[2] & 0xff) << 8 | body[3] & 0xff;
        }
    }

    /** Reads backend messages until ReadyForQuery ({@code Z}) or an ErrorResponse; at most 100. */
    static List<Message> readUntilReady(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            char type = (char) data.readUnsignedByte();
            int length = data.readInt();
            if (length < 4 || length > 1 << 20) {
                throw new IOException("implausible message length " + length + " for type " + type);
            }
            byte[] body = new byte[length - 4];
            data.readFully(body);
            messages.add(new Message(type, body));
            if (type == 'Z' || type == 'E') {
                return messages;
            }
        }
        throw new IOException("no ReadyForQuery after 100 messages");
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }
}
