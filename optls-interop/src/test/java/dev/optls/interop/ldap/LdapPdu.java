package dev.optls.interop.ldap;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Hand-built LDAP PDUs for the interop tests (independent of optls-core's encoder on purpose) and a
 * blocking reader of one PDU at a time, bounded to 64 KiB.
 */
final class LdapPdu {
    private LdapPdu() {}

    /** A decoded PDU: messageID, protocolOp tag, the resultCode when it is a response, and its bytes. */
    record Message(int messageId, int opTag, int resultCode, byte[] raw) {}

    static byte[] tlv(int tag, byte[]... parts) {
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            value.writeBytes(p);
        }
        int n = value.size();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n & 0xff);
        }
        out.writeBytes(value.toByteArray());
        return out.toByteArray();
    }

    static byte[] text(int tag, String s) {
        return tlv(tag, s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] small(int tag, int value) {
        return tlv(tag, new byte[] {(byte) value});
    }

    static byte[] message(int id, byte[] op) {
        return tlv(0x30, small(0x02, id), op);
    }

    /** RFC 4511 §4.2: BindRequest, version 3, simple authentication. */
    static byte[] simpleBind(int id, String dn, String password) {
        return message(id, tlv(0x60, small(0x02, 3), text(0x04, dn), text(0x80, password)));
    }

    /** RFC 4511 §4.14.1, 31 bytes. */
    static byte[] startTls(int id) {
        return message(id, tlv(0x77, text(0x80, "1.3.6.1.4.1.1466.20037")));
    }

    static byte[] unbind(int id) {
        return message(id, new byte[] {0x42, 0x00});
    }

    /** An LDAPResult-shaped response (BindResponse 0x61, SearchResultDone 0x65, ...). */
    static byte[] result(int id, int opTag, int code, String diagnostic) {
        return message(id, tlv(opTag, small(0x0a, code), text(0x04, ""), text(0x04, diagnostic)));
    }

    /** Reads one LDAPMessage; the resultCode is -1 for requests. */
    static Message read(InputStream in) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        int tag = readByte(in, raw);
        if (tag != 0x30) {
            throw new IOException(String.format("not an LDAPMessage: first byte 0x%02x", tag));
        }
        int length = readLength(in, raw);
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new EOFException("PDU cut short");
        }
        raw.writeBytes(body);
        // messageID INTEGER
        int p = 0;
        if (body[p++] != 0x02) {
            throw new IOException("no messageID");
        }
        int idLength = body[p++];
        int id = 0;
        for (int i = 0; i < idLength; i++) {
            id = (id << 8) | (body[p++] & 0xff);
        }
        int opTag = body[p++] & 0xff;
        int opLengthByte = body[p++] & 0xff;
        if (opLengthByte >= 0x80) {
            p += opLengthByte & 0x7f;
        }
        int code = -1;
        if ((opTag == 0x61 || opTag == 0x65 || opTag == 0x78 || opTag == 0x67 || opTag == 0x69)
                && p + 2 < body.length
                && body[p] == 0x0a) {
            code = body[p + 2] & 0xff;
        }
        return new Message(id, opTag, code, raw.toByteArray());
    }

    private static int readByte(InputStream in, ByteArrayOutputStream raw) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("connection closed");
        }
        raw.write(b);
        return b;
    }

    private static int readLength(InputStream in, ByteArrayOutputStream raw) throws IOException {
        int first = readByte(in, raw);
        if (first < 0x80) {
            return first;
        }
        int octets = first & 0x7f;
        if (octets == 0 || octets > 3) {
            throw new IOException("unsupported length form 0x" + Integer.toHexString(first));
        }
        int n = 0;
        for (int i = 0; i < octets; i++) {
            n = (n << 8) | readByte(in, raw);
        }
        if (n > 65536) {
            throw new IOException("PDU of " + n + " bytes is over the 64 KiB test bound");
        }
        return n;
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : Arrays.copyOf(b, Math.min(b.length, 64))) {
            s.append(String.format("%02x ", x));
        }
        return s.toString().strip();
    }
}
