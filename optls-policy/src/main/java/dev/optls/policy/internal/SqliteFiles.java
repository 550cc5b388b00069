package dev.optls.policy.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.function.BiFunction;

/**
 * Opens the embedded SQLite files of this module (the MTA-STS cache, the TLS-RPT store): creates the schema when the
 * file is new and marks it with a version ({@code PRAGMA user_version}), refuses a file with another version or with
 * foreign tables, and turns on WAL mode so that readers do not wait for the writer. Several processes may open the
 * same file; each waits up to {@value #BUSY_TIMEOUT_MILLIS} ms for the others' writes.
 */
public final class SqliteFiles {

    private static final int BUSY_TIMEOUT_MILLIS = 5_000;

    private SqliteFiles() {}

    /**
     * How a kind of file names itself and builds its exception type.
     *
     * @param name what the file is, e.g. {@code MTA-STS cache}: messages read "{@code <name> <file>: ...}"
     * @param table a table of the schema, there in every file of this kind (another kind's file lacks it)
     * @param lossOnDelete what deleting the file costs, e.g. {@code the cache is rebuilt by fetching}
     * @param failure the kind's exception from a message saying what happened and what to change, and a cause (may
     *     be null)
     */
    public record Store(
            String name, String table, String lossOnDelete, BiFunction<String, Throwable, RuntimeException> failure) {}

    /** Work on a connection that may throw {@link SQLException}. */
    @FunctionalInterface
    public interface SqlWork {
        /** Does the work. */
        void run() throws SQLException;
    }

    /** Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. */
    public static void inTransaction(Connection connection, SqlWork work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            work.run();
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /**
     * An open file of a store: its connection, used by one thread at a time (callers hold the {@code Db}'s monitor),
     * and the store's messages about it.
     */
    public static final class Db implements AutoCloseable {
        private final Path file;
        private final Store store;
        private final Connection connection;

        private Db(Path file, Store store, Connection connection) {
            this.file = file;
            this.store = store;
            this.connection = connection;
        }

        /** The database file (absolute). */
        public Path file() {
            return file;
        }

        /** The connection. */
        public Connection connection() {
            return connection;
        }

        /** "{@code <store name> <file>}", how messages name the file. */
        public String where() {
            return store.name() + " " + file;
        }

        /** The store's exception for {@code what} (e.g. {@code reading}) failing with {@code e}. */
        public RuntimeException failure(String what, SQLException e) {
            return store.failure().apply(where() + ": " + what + " failed (" + e.getMessage() + ")", e);
        }

        /** Closes the connection. */
        @Override
        public synchronized void close() {
            try {
                connection.close();
            } catch (SQLException e) {
                throw failure("closing", e);
            }
        }
    }

    /**
     * Opens (creating if needed) {@code file} with {@code schema} at {@code version}.
     *
     * @param schema the statements that create the tables and indexes of a new file, in order
     * @throws RuntimeException the store's {@link Store#failure} if the directory is missing, the file is not a
     *     SQLite database, has another schema version or foreign tables, or cannot be opened or created
     */
    public static Db open(Path file, Store store, int version, List<String> schema) {
        Objects.requireNonNull(file, "file");
        Path absolute = file.toAbsolutePath();
        String where = store.name() + " " + absolute;
        Path parent = absolute.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw store.failure()
                    .apply(
                            where + ": the directory " + parent + " does not exist; create it or choose another path",
                            null);
        }
        Properties properties = new Properties();
        properties.setProperty("busy_timeout", Integer.toString(BUSY_TIMEOUT_MILLIS));
        Connection connection;
        try {
            connection = DriverManager.getConnection("jdbc:sqlite:" + absolute, properties);
        } catch (SQLException e) {
            throw store.failure().apply(where + ": cannot open it (" + e.getMessage() + ")", e);
        }
        try {
            prepare(where, store, connection, version, schema);
            return new Db(absolute, store, connection);
        } catch (SQLException | RuntimeException e) {
            try {
                connection.close();
            } catch (SQLException closing) {
                e.addSuppressed(closing);
            }
            if (e instanceof Refused refused) {
                throw store.failure().apply(refused.getMessage(), null);
            }
            throw store.failure()
                    .apply(
                            where + ": not a usable SQLite database (" + e.getMessage() + "); delete the file ("
                                    + store.lossOnDelete() + ") or choose another path",
                            e);
        }
    }

    private static void prepare(String where, Store store, Connection connection, int version, List<String> schema)
            throws SQLException {
        try (Statement statement = connection.createStatement()) {
            // Reading the version first: a file that is not a database fails here ("file is not a database").
            int found = userVersion(statement);
            if (found == 0) {
                inTransaction(connection, () -> {
                    if (hasTables(statement)) {
                        throw new Refused(where + ": the database has tables but no optls schema version; it is not"
                                + " an optls " + store.name() + ": choose another path or delete the file");
                    }
                    for (String sql : schema) {
                        statement.execute(sql);
                    }
                    statement.execute("PRAGMA user_version = " + version);
                });
            } else if (found != version) {
                throw new Refused(where + ": schema version " + found + ", this optls reads version " + version
                        + "; delete the file (" + store.lossOnDelete() + ") or use the optls that wrote it");
            } else if (!hasTable(connection, store.table())) {
                throw new Refused(where + ": the database has no table " + store.table() + "; it is another kind of"
                        + " optls file, not an optls " + store.name() + ": choose another path");
            }
            try (ResultSet mode = statement.executeQuery("PRAGMA journal_mode = WAL")) {
                String journal = mode.next() ? mode.getString(1) : "?";
                if (!"wal".equalsIgnoreCase(journal)) {
                    throw new Refused(where + ": cannot switch to WAL mode (got " + journal
                            + "); is the file on a file system that supports shared memory?");
                }
            }
            statement.execute("PRAGMA synchronous = NORMAL");
        }
    }

    private static int userVersion(Statement statement) throws SQLException {
        try (ResultSet rs = statement.executeQuery("PRAGMA user_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    private static boolean hasTable(Connection connection, String table) throws SQLException {
        try (PreparedStatement select =
                connection.prepareStatement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")) {
            select.setString(1, table);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() && rs.getInt(1) > 0;
            }
        }
    }

    private static boolean hasTables(Statement statement) throws SQLException {
        try (ResultSet rs = statement.executeQuery("SELECT count(*) FROM sqlite_master")) {
            return rs.next() && rs.getInt(1) > 0;
        }
    }

    /** A file refused for a reason the message gives in full. */
    private static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }
}
