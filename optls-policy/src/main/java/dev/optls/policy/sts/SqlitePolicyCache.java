package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.internal.SqliteFiles;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A persistent {@link PolicyCache} in an embedded SQLite file (the default store: it survives a restart, RFC 8461
 * §5.1 wants policies cached across deliveries). The schema is created when the file is new and carries a version
 * ({@code PRAGMA user_version} = {@value #SCHEMA_VERSION}); the journal is in WAL mode so that readers do not wait
 * for the writer ({@link SqliteFiles}). One connection, used by one thread at a time; several caches (or processes)
 * may open the same file.
 *
 * <p>Close it when done ({@link AutoCloseable}).
 */
public final class SqlitePolicyCache implements PolicyCache, AutoCloseable {

    /** The schema version this class reads and writes. */
    public static final int SCHEMA_VERSION = 1;

    private static final List<String> SCHEMA = List.of(
            "CREATE TABLE sts_policy ("
                    + " policy_domain TEXT PRIMARY KEY NOT NULL,"
                    + " id TEXT NOT NULL,"
                    + " policy TEXT NOT NULL,"
                    + " fetched_at TEXT NOT NULL,"
                    + " expires_at TEXT NOT NULL,"
                    + " expires_epoch_second INTEGER NOT NULL)",
            "CREATE INDEX sts_policy_expiry ON sts_policy (expires_epoch_second)");

    private static final SqliteFiles.Store STORE = new SqliteFiles.Store(
            "MTA-STS cache", "sts_policy", "the cache is rebuilt by fetching", PolicyCacheException::new);

    private final SqliteFiles.Db db;

    private SqlitePolicyCache(SqliteFiles.Db db) {
        this.db = db;
    }

    /**
     * Opens (creating if needed) the cache in {@code file}.
     *
     * @throws PolicyCacheException if the file is not a SQLite database, has a schema version other than
     *     {@value #SCHEMA_VERSION}, or cannot be opened or created
     */
    public static SqlitePolicyCache open(Path file) {
        return new SqlitePolicyCache(SqliteFiles.open(file, STORE, SCHEMA_VERSION, SCHEMA));
    }

    /** The database file. */
    public Path file() {
        return db.file();
    }

    @Override
    public Optional<CachedPolicy> get(String policyDomain) {
        String domain = DnsNames.normalize(policyDomain);
        synchronized (db) {
            try (PreparedStatement select = db.connection()
                    .prepareStatement(
                            "SELECT id, policy, fetched_at, expires_at FROM sts_policy WHERE policy_domain = ?")) {
                select.setString(1, domain);
                try (ResultSet rs = select.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(StoredPolicies.entry(
                            db.where(), domain, rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            } catch (SQLException e) {
                throw db.failure("reading the entry of " + domain, e);
            }
        }
    }

    @Override
    public void put(CachedPolicy entry) {
        synchronized (db) {
            try (PreparedStatement upsert = db.connection()
                    .prepareStatement(
                            "INSERT INTO sts_policy (policy_domain, id, policy, fetched_at, expires_at, expires_epoch_second)"
                                    + " VALUES (?, ?, ?, ?, ?, ?)"
                                    + " ON CONFLICT (policy_domain) DO UPDATE SET id = excluded.id,"
                                    + " policy = excluded.policy, fetched_at = excluded.fetched_at,"
                                    + " expires_at = excluded.expires_at,"
                                    + " expires_epoch_second = excluded.expires_epoch_second")) {
                upsert.setString(1, entry.policyDomain());
                upsert.setString(2, entry.id());
                upsert.setString(3, entry.policy().text());
                upsert.setString(4, entry.fetchedAt().toString());
                upsert.setString(5, entry.expiresAt().toString());
                upsert.setLong(6, entry.expiresAt().getEpochSecond());
                upsert.executeUpdate();
            } catch (SQLException e) {
                throw db.failure("storing the entry of " + entry.policyDomain(), e);
            }
        }
    }

    @Override
    public void remove(String policyDomain) {
        String domain = DnsNames.normalize(policyDomain);
        synchronized (db) {
            try (PreparedStatement delete =
                    db.connection().prepareStatement("DELETE FROM sts_policy WHERE policy_domain = ?")) {
                delete.setString(1, domain);
                delete.executeUpdate();
            } catch (SQLException e) {
                throw db.failure("removing the entry of " + domain, e);
            }
        }
    }

    @Override
    public List<CachedPolicy> expiringBefore(Instant cutoff) {
        List<CachedPolicy> due = new ArrayList<>();
        synchronized (db) {
            // The index narrows by whole seconds; the exact comparison is done on the parsed entries.
            try (PreparedStatement select = db.connection()
                    .prepareStatement("SELECT policy_domain, id, policy, fetched_at, expires_at FROM sts_policy"
                            + " WHERE expires_epoch_second <= ? ORDER BY expires_epoch_second")) {
                select.setLong(1, cutoff.getEpochSecond());
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        CachedPolicy entry = StoredPolicies.entry(
                                db.where(),
                                rs.getString(1),
                                rs.getString(2),
                                rs.getString(3),
                                rs.getString(4),
                                rs.getString(5));
                        if (entry.expiresAt().isBefore(cutoff)) {
                            due.add(entry);
                        }
                    }
                }
            } catch (SQLException e) {
                throw db.failure("listing entries expiring before " + cutoff, e);
            }
        }
        return due;
    }

    /** Removes every entry that no longer applies at {@code now}; returns how many were removed. */
    public int purgeExpired(Instant now) {
        synchronized (db) {
            try (PreparedStatement delete =
                    db.connection().prepareStatement("DELETE FROM sts_policy WHERE expires_epoch_second <= ?")) {
                // CachedPolicy.isValidAt: valid while now < expiresAt; whole seconds err on keeping an entry.
                delete.setLong(1, now.getEpochSecond() - 1);
                return delete.executeUpdate();
            } catch (SQLException e) {
                throw db.failure("purging expired entries", e);
            }
        }
    }

    /** The number of entries, expired ones included. */
    public int size() {
        synchronized (db) {
            try (Statement statement = db.connection().createStatement();
                    ResultSet rs = statement.executeQuery("SELECT count(*) FROM sts_policy")) {
                return rs.next() ? rs.getInt(1) : 0;
            } catch (SQLException e) {
                throw db.failure("counting entries", e);
            }
        }
    }

    /** Closes the database connection. */
    @Override
    public void close() {
        db.close();
    }
}
