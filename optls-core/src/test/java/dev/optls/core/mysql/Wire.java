package dev.optls.core.mysql;

import dev.optls.core.testing.Transcript;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** MySQL packets and binary transcripts for the tests, built byte by byte. */
final class Wire {
    private Wire() {}

    /**
     * A real greeting: MariaDB 10.11.18 (Debian 12) started without a certificate, captured on loopback.
     * Capabilities 0x81fff7fe (no CLIENT_SSL), MariaDB extended capabilities 0x1d.
     */
    static final byte[] MARIADB_WITHOUT_TLS = HexFormat.of()
            .parseHex("640000000a352e352e352d31302e31312e31382d4d6172696144422d302b6465623132753100030000002a455b7a"
                    + "77636b7000fef7080200ff81150000000000001d0000006f5f6e2a257954787d2d632d006d7973716c5f6e6174"
                    + "6976655f70617373776f726400");

    /** The same greeting with CLIENT_SSL (0x0800) set, as MariaDB sends it with {@code --ssl-cert}. */
    static final byte[] MARIADB_WITH_TLS = withTls(MARIADB_WITHOUT_TLS);

    /** The scramble in {@link #MARIADB_WITHOUT_TLS}. */
    static final String MARIADB_SCRAMBLE_HEX = "2a455b7a77636b706f5f6e2a257954787d2d632d";

    private static byte[] withTls(byte[] greeting) {
        byte[] copy = greeting.clone();
        int capsLow = 4 + 1 + "5.5.5-10.11.18-MariaDB-0+deb12u1".length() + 1 + 4 + 8 + 1;
        copy[capsLow + 1] |= 0x08;
        return copy;
    }

    /** A packet: 3-byte LE length, sequence id, payload. */
    static byte[] packet(int sequence, byte[] payload) {
        return MysqlPacket.frame(sequence, payload);
    }

    /** A HandshakeV10 greeting packet (sequence 0). */
    static byte[] greeting(long capabilities, String version) {
        return packet(0, greetingRecord(capabilities, version).encode());
    }

    static MysqlGreeting greetingRecord(long capabilities, String version) {
        return new MysqlGreeting(
                version,
                7,
                capabilities,
                45,
                2,
                "abcdefghijklmnopqrst".getBytes(StandardCharsets.US_ASCII),
                "mysql_native_password");
    }

    /** Our client's SSLRequest packet for a server with these capabilities. */
    static byte[] sslRequest(long serverCapabilities) {
        return packet(1, MysqlClient.sslRequest(serverCapabilities));
    }

    /** A 32-byte SSLRequest with these client flags. */
    static byte[] sslRequestWithFlags(int sequence, long flags) {
        byte[] p = new byte[32];
        le(p, 0, flags, 4);
        le(p, 4, 1 << 24, 4);
        p[8] = 33;
        return packet(sequence, p);
    }

    /** A HandshakeResponse41 for {@code user} with an empty auth response and no database. */
    static byte[] handshakeResponse(int sequence, long flags, String user) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] fixed = new byte[32];
        le(fixed, 0, flags, 4);
        le(fixed, 4, 1 << 24, 4);
        fixed[8] = 45;
        out.writeBytes(fixed);
        out.writeBytes(user.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        out.write(0); // auth response length 0 (CLIENT_SECURE_CONNECTION)
        out.writeBytes("mysql_native_password".getBytes(StandardCharsets.US_ASCII));
        out.write(0);
        return packet(sequence, out.toByteArray());
    }

    /** Flags a 4.1 client sends. */
    static final long CLIENT = MysqlFlags.CLIENT_LONG_PASSWORD
            | MysqlFlags.CLIENT_PROTOCOL_41
            | MysqlFlags.CLIENT_SECURE_CONNECTION
            | MysqlFlags.CLIENT_PLUGIN_AUTH;

    static final long CLIENT_TLS = CLIENT | MysqlFlags.CLIENT_SSL;

    private static void le(byte[] p, int at, long v, int n) {
        for (int k = 0; k < n; k++) {
            p[at + k] = (byte) (v >>> (8 * k));
        }
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /**
     * A transcript with one segment per TLS boundary. {@code exchanges} alternate server bytes and client
     * bytes per segment: {@code {server0, client0}, {server1, client1}...}.
     */
    static Transcript transcript(String name, List<String> answers, byte[][]... segments) {
        List<Transcript.Segment> list = new ArrayList<>();
        for (int i = 0; i < segments.length; i++) {
            list.add(new Transcript.Segment(segments[i][0], segments[i][1], i == 0 ? answers : List.of()));
        }
        return new Transcript(name, List.copyOf(list), "", Map.of());
    }

    static byte[][] segment(byte[] fromServer, byte[] fromClient) {
        return new byte[][] {fromServer, fromClient};
    }

    static final byte[] NOTHING = new byte[0];

    /** Parses an ERR packet written by the server. */
    static MysqlPacket.Err err(byte[] packet) {
        return MysqlPacket.Err.parse(java.util.Arrays.copyOfRange(packet, 4, packet.length));
    }
}
