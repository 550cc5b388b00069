package dev.optls.core.mysql;

import dev.optls.core.Capabilities;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The server greeting, Protocol::HandshakeV10 (MySQL protocol documentation; protocols.md §11.1):
 *
 * <pre>
 * 0a | server version\0 | connection id (4 LE) | auth-plugin-data-part-1 (8) | 00 |
 * capability flags low (2 LE) | character set (1) | status flags (2 LE) | capability flags high (2 LE) |
 * auth-plugin-data length (1) | reserved (10; MariaDB: last 4 = extended capabilities) |
 * auth-plugin-data-part-2 (max(13, length - 8)) | auth plugin name\0
 * </pre>
 *
 * <p>Everything in it was sent in plaintext, before TLS, and may have been written by a
 * man-in-the-middle. MySQL's design nevertheless reuses the scramble ({@link #authPluginData()}) for
 * the HandshakeResponse41 sent inside TLS; see {@link MysqlClient} for what that means.
 *
 * @param serverVersion the server version string, e.g. {@code 5.5.5-10.11.6-MariaDB-0+deb12u1}
 * @param connectionId the server's connection (thread) id
 * @param capabilities the capability flags, with MariaDB's extended capabilities in bits 32 to 63
 * @param characterSet the server's default collation id
 * @param statusFlags the server status flags
 * @param authPluginData the scramble (nonce), usually 20 bytes, without its terminating NUL
 * @param authPluginName the default authentication plugin, or an empty string when not sent
 */
public record MysqlGreeting(
        String serverVersion,
        long connectionId,
        long capabilities,
        int characterSet,
        int statusFlags,
        byte[] authPluginData,
        String authPluginName) {

    /** Protocol::HandshakeV10: the only greeting version since MySQL 3.21. */
    public static final int PROTOCOL_VERSION = 10;

    /** Capability entry keyword carrying the scramble in lower-case hex. */
    public static final String AUTH_PLUGIN_DATA = "auth-plugin-data";

    /** Capability entry keyword carrying the default authentication plugin name. */
    public static final String AUTH_PLUGIN = "auth-plugin";

    /** Capability entry keyword carrying the connection id. */
    public static final String CONNECTION_ID = "connection-id";

    /**
     * Server option entry keyword carrying a whole HandshakeV10 payload in lower-case hex, for a {@link
     * MysqlServer} that greets with another server's greeting ({@link MysqlServer#greetingEntry}).
     */
    public static final String HANDSHAKE_V10 = "handshake-v10";

    public MysqlGreeting {
        Objects.requireNonNull(serverVersion, "serverVersion");
        Objects.requireNonNull(authPluginName, "authPluginName");
        authPluginData = authPluginData.clone();
        if (serverVersion.indexOf('\0') >= 0 || authPluginName.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("the server version and plugin name cannot contain NUL");
        }
        if (connectionId < 0 || connectionId > 0xffffffffL) {
            throw new IllegalArgumentException("the connection id is an unsigned 32-bit number");
        }
        if (authPluginData.length < 8 || authPluginData.length > 254) {
            throw new IllegalArgumentException(
                    "auth-plugin-data must have 8 to 254 bytes, had " + authPluginData.length);
        }
    }

    /** A copy of the scramble. */
    @Override
    public byte[] authPluginData() {
        return authPluginData.clone();
    }

    /** Whether the server offers TLS ({@code CLIENT_SSL}). */
    public boolean offersTls() {
        return (capabilities & MysqlFlags.CLIENT_SSL) != 0;
    }

    /**
     * The greeting as {@link Capabilities} entries: the names of the capability flags set, then {@code
     * auth-plugin-data <hex>}, {@code auth-plugin <name>} (when sent) and {@code connection-id <n>}.
     */
    public Capabilities toCapabilities() {
        List<String> entries = new ArrayList<>(MysqlFlags.names(capabilities));
        entries.add(AUTH_PLUGIN_DATA + " " + HexFormat.of().formatHex(authPluginData));
        if (!authPluginName.isEmpty()) {
            entries.add(AUTH_PLUGIN + " " + authPluginName);
        }
        entries.add(CONNECTION_ID + " " + connectionId);
        return new Capabilities(entries);
    }

    /**
     * The scramble recorded by {@link #toCapabilities()}, e.g. from {@code result.before()} of a {@link
     * MysqlClient} after the upgrade: the application needs it for its HandshakeResponse41.
     */
    public static Optional<byte[]> authPluginData(Capabilities capabilities) {
        return capabilities
                .find(AUTH_PLUGIN_DATA)
                .map(e -> e.substring(AUTH_PLUGIN_DATA.length()).strip())
                .flatMap(hex -> {
                    try {
                        return Optional.of(HexFormat.of().parseHex(hex));
                    } catch (IllegalArgumentException e) {
                        return Optional.empty();
                    }
                });
    }

    /** The plugin name recorded by {@link #toCapabilities()}. */
    public static Optional<String> authPluginName(Capabilities capabilities) {
        return capabilities
                .find(AUTH_PLUGIN)
                .map(e -> e.substring(AUTH_PLUGIN.length()).strip());
    }

    /** The payload of this greeting (without the packet header). */
    byte[] encode() {
        byte[] version = serverVersion.getBytes(StandardCharsets.UTF_8);
        byte[] plugin = authPluginName.getBytes(StandardCharsets.UTF_8);
        int part2 = Math.max(13, authPluginData.length + 1 - 8);
        byte[] p = new byte[1 + version.length + 1 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + part2 + plugin.length + 1];
        int i = 0;
        p[i++] = PROTOCOL_VERSION;
        System.arraycopy(version, 0, p, i, version.length);
        i += version.length + 1;
        i = putLe(p, i, connectionId, 4);
        System.arraycopy(authPluginData, 0, p, i, 8);
        i += 8 + 1;
        i = putLe(p, i, capabilities & 0xffff, 2);
        p[i++] = (byte) characterSet;
        i = putLe(p, i, statusFlags, 2);
        i = putLe(p, i, (capabilities >>> 16) & 0xffff, 2);
        // The length counts the terminating NUL of part 2 (MySQL sends 21 for a 20-byte scramble).
        p[i++] = (byte) (authPluginData.length + 1);
        if ((capabilities & MysqlFlags.CLIENT_LONG_PASSWORD) == 0) {
            // MariaDB: without CLIENT_MYSQL, the last 4 reserved bytes carry the extended capabilities.
            putLe(p, i + 6, capabilities >>> 32, 4);
        }
        i += 10;
        System.arraycopy(authPluginData, 8, p, i, authPluginData.length - 8);
        i += part2;
        System.arraycopy(plugin, 0, p, i, plugin.length);
        return p;
    }

    private static int putLe(byte[] p, int at, long value, int n) {
        for (int k = 0; k < n; k++) {
            p[at + k] = (byte) (value >>> (8 * k));
        }
        return at + n;
    }

    /**
     * Decodes a HandshakeV10 payload (the packet without its 4-byte header), e.g. a backend's greeting that
     * a gateway relays.
     *
     * @throws IllegalArgumentException when it is not one, with the reason
     */
    public static MysqlGreeting decode(byte[] payload) {
        try {
            return parse(payload);
        } catch (MysqlPacket.Malformed e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** This greeting with other capability flags (e.g. {@code CLIENT_SSL} added or removed). */
    public MysqlGreeting withCapabilities(long flags) {
        return new MysqlGreeting(
                serverVersion, connectionId, flags, characterSet, statusFlags, authPluginData, authPluginName);
    }

    /** The greeting given by a {@value #HANDSHAKE_V10} entry, if there is one. */
    static Optional<MysqlGreeting> handshakeV10(Capabilities capabilities) {
        return capabilities
                .find(HANDSHAKE_V10)
                .map(e -> e.substring(HANDSHAKE_V10.length()).strip())
                .map(hex -> {
                    try {
                        return parse(HexFormat.of().parseHex(hex));
                    } catch (MysqlPacket.Malformed | IllegalArgumentException e) {
                        throw new IllegalArgumentException(
                                "the " + HANDSHAKE_V10 + " entry is not a HandshakeV10 payload in hex: "
                                        + e.getMessage(),
                                e);
                    }
                });
    }

    /**
     * Parses a HandshakeV10 payload.
     *
     * @throws MysqlPacket.Malformed when it is not one
     */
    static MysqlGreeting parse(byte[] payload) {
        MysqlPacket.Cursor c = new MysqlPacket.Cursor(payload);
        int version = c.u8();
        if (version != PROTOCOL_VERSION) {
            throw new MysqlPacket.Malformed("protocol version " + version + " is not HandshakeV10 (10)");
        }
        String serverVersion = c.nulString("server version");
        long connectionId = c.u32();
        byte[] part1 = c.bytes(8);
        c.u8(); // filler
        long caps = c.u16();
        if (c.remaining() == 0) {
            // Servers before 4.1 stop here: no TLS capability to speak of, no plugin.
            return new MysqlGreeting(serverVersion, connectionId, caps, 0, 0, part1, "");
        }
        int charset = c.u8();
        int status = c.u16();
        caps |= (long) c.u16() << 16;
        int authLength = c.u8();
        byte[] reserved = c.bytes(10);
        if ((caps & MysqlFlags.CLIENT_LONG_PASSWORD) == 0) {
            // MariaDB (protocols.md §11.2): without CLIENT_MYSQL the last 4 reserved bytes are extended flags.
            long extended = (reserved[6] & 0xffL)
                    | (reserved[7] & 0xffL) << 8
                    | (reserved[8] & 0xffL) << 16
                    | (reserved[9] & 0xffL) << 24;
            caps |= extended << 32;
        }
        byte[] scramble = part1;
        if ((caps & MysqlFlags.CLIENT_SECURE_CONNECTION) != 0) {
            byte[] part2 = c.bytes(Math.max(13, authLength - 8));
            // The length byte counts the whole scramble with its NUL (21 for 20 bytes); 0 means "not
            // sent" (no CLIENT_PLUGIN_AUTH), then part 2 is 12 bytes and a NUL.
            int n = authLength > 8 ? authLength - 8 : part2.length;
            if (n > 0 && part2[n - 1] == 0) {
                n--; // the terminating NUL of the scramble
            }
            // The length byte is one octet: at most 254 scramble bytes plus the NUL.
            n = Math.min(n, 254 - 8);
            scramble = Arrays.copyOf(part1, 8 + n);
            System.arraycopy(part2, 0, scramble, 8, n);
        }
        String plugin = "";
        if ((caps & MysqlFlags.CLIENT_PLUGIN_AUTH) != 0 && c.remaining() > 0) {
            // MySQL 5.5.7 to 5.5.9 sent the name without its NUL (bug #59453): accept the end of packet.
            plugin = c.nulOrEofString();
        }
        return new MysqlGreeting(serverVersion, connectionId, caps, charset, status, scramble, plugin);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MysqlGreeting g
                && serverVersion.equals(g.serverVersion)
                && connectionId == g.connectionId
                && capabilities == g.capabilities
                && characterSet == g.characterSet
                && statusFlags == g.statusFlags
                && Arrays.equals(authPluginData, g.authPluginData)
                && authPluginName.equals(g.authPluginName);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                serverVersion,
                connectionId,
                capabilities,
                characterSet,
                statusFlags,
                Arrays.hashCode(authPluginData),
                authPluginName);
    }

    @Override
    public String toString() {
        return "MysqlGreeting[" + serverVersion + ", connection " + connectionId + ", " + MysqlFlags.names(capabilities)
                + ", plugin " + authPluginName + "]";
    }
}
