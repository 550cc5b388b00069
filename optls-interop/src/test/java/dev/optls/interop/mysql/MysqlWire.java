package dev.optls.interop.mysql;

import dev.optls.core.mysql.MysqlFlags;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** What the application does after optls's part: packets, HandshakeResponse41, mysql_native_password. */
final class MysqlWire {
    private MysqlWire() {}

    /** One packet. */
    record Packet(int sequence, byte[] payload) {
        boolean isOk() {
            return payload.length > 0 && payload[0] == 0;
        }

        boolean isErr() {
            return payload.length > 0 && (payload[0] & 0xff) == 0xff;
        }

        /** The ERR packet's code and message, e.g. {@code 3159 Connections using ...}. */
        String errText() {
            int code = (payload[1] & 0xff) | (payload[2] & 0xff) << 8;
            int text = payload.length > 3 && payload[3] == '#' ? 9 : 3;
            return code + " " + new String(payload, text, payload.length - text, StandardCharsets.UTF_8);
        }
    }

    static Packet read(InputStream in) throws IOException {
        byte[] header = in.readNBytes(4);
        if (header.length < 4) {
            throw new EOFException("connection closed before a packet header");
        }
        int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
        if (length > 1 << 20) {
            throw new IOException("packet of " + length + " bytes");
        }
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
            throw new EOFException("connection closed in a packet");
        }
        return new Packet(header[3] & 0xff, payload);
    }

    static byte[] frame(int sequence, byte[] payload) {
        byte[] p = new byte[4 + payload.length];
        p[0] = (byte) payload.length;
        p[1] = (byte) (payload.length >> 8);
        p[2] = (byte) (payload.length >> 16);
        p[3] = (byte) sequence;
        System.arraycopy(payload, 0, p, 4, payload.length);
        return p;
    }

    static void write(OutputStream out, int sequence, byte[] payload) throws IOException {
        out.write(frame(sequence, payload));
        out.flush();
    }

    /**
     * HandshakeResponse41 (MySQL protocol documentation): flags, max packet, charset, 23 zero bytes, user\0,
     * auth response (1-byte length, CLIENT_SECURE_CONNECTION), plugin name\0 (CLIENT_PLUGIN_AUTH).
     */
    static byte[] handshakeResponse(int flags, String user, byte[] authResponse, String plugin) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] fixed = new byte[32];
        le(fixed, 0, flags);
        le(fixed, 4, 1 << 24);
        fixed[8] = 45;
        out.writeBytes(fixed);
        out.writeBytes(user.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        out.write(authResponse.length);
        out.writeBytes(authResponse);
        if ((flags & MysqlFlags.CLIENT_PLUGIN_AUTH) != 0) {
            out.writeBytes(plugin.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /** mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))). */
    static byte[] nativePassword(String password, byte[] scramble) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] stage1 = sha1.digest(password.getBytes(StandardCharsets.UTF_8));
            byte[] stage2 = sha1.digest(stage1);
            sha1.update(scramble, 0, 20);
            sha1.update(stage2);
            byte[] mask = sha1.digest();
            for (int i = 0; i < stage1.length; i++) {
                stage1[i] ^= mask[i];
            }
            return stage1;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An ERR packet payload (4.1 form). */
    static byte[] err(int code, String sqlState, String message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xff);
        out.write(code & 0xff);
        out.write(code >> 8);
        out.write('#');
        out.writeBytes(sqlState.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(message.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static void le(byte[] p, int at, int v) {
        for (int k = 0; k < 4; k++) {
            p[at + k] = (byte) (v >> (8 * k));
        }
    }
}
