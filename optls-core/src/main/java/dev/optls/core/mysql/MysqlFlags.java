package dev.optls.core.mysql;

import java.util.ArrayList;
import java.util.List;

/**
 * MySQL capability flags (MySQL source {@code include/mysql_com.h}, "Capabilities Flags" in the MySQL
 * client/server protocol documentation) and MariaDB's extended capabilities, with their names as they
 * appear in {@link dev.optls.core.Capabilities} entries.
 */
public final class MysqlFlags {
    /** Bit 0: new, more secure passwords (MariaDB calls it {@code CLIENT_MYSQL}). */
    public static final long CLIENT_LONG_PASSWORD = 1L;

    /** Bit 3: a database (schema) name may be given in the HandshakeResponse. */
    public static final long CLIENT_CONNECT_WITH_DB = 1L << 3;

    /** Bit 9: the 4.1 protocol: HandshakeV10 / HandshakeResponse41, the only one optls speaks. */
    public static final long CLIENT_PROTOCOL_41 = 1L << 9;

    /** Bit 11: TLS via the SSLRequest packet ({@code 0x00000800}). */
    public static final long CLIENT_SSL = 1L << 11;

    /** Bit 13: the client knows about transactions. */
    public static final long CLIENT_TRANSACTIONS = 1L << 13;

    /** Bit 15: 4.1 authentication (20-byte scramble); a.k.a. {@code CLIENT_RESERVED2}. */
    public static final long CLIENT_SECURE_CONNECTION = 1L << 15;

    /** Bit 19: authentication plugins, whose name ends the greeting. */
    public static final long CLIENT_PLUGIN_AUTH = 1L << 19;

    /** The names of bits 0 to 31 (MySQL) and 32 to 37 (MariaDB extended capabilities). */
    private static final String[] NAMES = {
        "CLIENT_LONG_PASSWORD",
        "CLIENT_FOUND_ROWS",
        "CLIENT_LONG_FLAG",
        "CLIENT_CONNECT_WITH_DB",
        "CLIENT_NO_SCHEMA",
        "CLIENT_COMPRESS",
        "CLIENT_ODBC",
        "CLIENT_LOCAL_FILES",
        "CLIENT_IGNORE_SPACE",
        "CLIENT_PROTOCOL_41",
        "CLIENT_INTERACTIVE",
        "CLIENT_SSL",
        "CLIENT_IGNORE_SIGPIPE",
        "CLIENT_TRANSACTIONS",
        "CLIENT_RESERVED",
        "CLIENT_SECURE_CONNECTION",
        "CLIENT_MULTI_STATEMENTS",
        "CLIENT_MULTI_RESULTS",
        "CLIENT_PS_MULTI_RESULTS",
        "CLIENT_PLUGIN_AUTH",
        "CLIENT_CONNECT_ATTRS",
        "CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA",
        "CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS",
        "CLIENT_SESSION_TRACK",
        "CLIENT_DEPRECATE_EOF",
        "CLIENT_OPTIONAL_RESULTSET_METADATA",
        "CLIENT_ZSTD_COMPRESSION_ALGORITHM",
        "CLIENT_QUERY_ATTRIBUTES",
        "MULTI_FACTOR_AUTHENTICATION",
        "CLIENT_CAPABILITY_EXTENSION",
        "CLIENT_SSL_VERIFY_SERVER_CERT",
        "CLIENT_REMEMBER_OPTIONS",
        "MARIADB_CLIENT_PROGRESS",
        "MARIADB_CLIENT_COM_MULTI",
        "MARIADB_CLIENT_STMT_BULK_OPERATIONS",
        "MARIADB_CLIENT_EXTENDED_METADATA",
        "MARIADB_CLIENT_CACHE_METADATA",
        "MARIADB_CLIENT_BULK_UNIT_RESULTS"
    };

    /**
     * What optls puts in an SSLRequest, before intersecting with the server's flags: 4.1 protocol,
     * 4.1 authentication with plugins, transactions, long passwords, and {@code CLIENT_SSL}.
     */
    private static final long CLIENT_WANTS = CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_SSL
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH;

    private MysqlFlags() {}

    /** The name of capability bit {@code bit} (0 to 63); unnamed bits are {@code CLIENT_BIT_<n>}. */
    public static String name(int bit) {
        if (bit < 0 || bit > 63) {
            throw new IllegalArgumentException("capability bits are 0 to 63, was " + bit);
        }
        return bit < NAMES.length ? NAMES[bit] : "CLIENT_BIT_" + bit;
    }

    /** The names of the bits set in {@code flags}, lowest bit first. */
    public static List<String> names(long flags) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((flags & (1L << bit)) != 0) {
                names.add(name(bit));
            }
        }
        return names;
    }

    /** The flag with this name, or 0 when the name is unknown. */
    public static long flag(String name) {
        for (int bit = 0; bit < NAMES.length; bit++) {
            if (NAMES[bit].equalsIgnoreCase(name)) {
                return 1L << bit;
            }
        }
        return 0;
    }

    /**
     * The client capability flags optls sends in its SSLRequest to a server that advertised {@code
     * serverFlags}: what optls wants, intersected with what the server offers, with {@code CLIENT_SSL}
     * and {@code CLIENT_PROTOCOL_41} always set (Protocol::SSLRequest requires both). Only the low 32
     * bits are used; MariaDB's extended capabilities are left at zero. An application writing the
     * HandshakeResponse41 after TLS may send other flags: servers read them again from that packet.
     */
    public static int sslRequestFlags(long serverFlags) {
        return (int) ((CLIENT_WANTS & serverFlags) | CLIENT_SSL | CLIENT_PROTOCOL_41);
    }
}
