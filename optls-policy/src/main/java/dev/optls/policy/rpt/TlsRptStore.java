package dev.optls.policy.rpt;

import dev.optls.policy.internal.SqliteFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Keeps what a {@link ReportSchedule} would otherwise lose on restart in an embedded SQLite file: the {@link
 * TlsRptCollector}'s counts of the days not yet over, and the reports waiting to be delivered with their attempts so
 * far (RFC 8460 §5.5 retries run for up to a day). The counts of each policy domain and day are stored as a TLS-RPT
 * report in the RFC 8460 §4.4 JSON schema ({@link TlsRptJson}), so the file can be read with any SQLite and JSON
 * tool; the schema carries a version ({@code PRAGMA user_version} = {@value #SCHEMA_VERSION}).
 *
 * <p>Used by one schedule at a time (one connection); {@link ReportSchedule.Builder#store} saves into it after every
 * run and every few minutes, so a crash loses at most the sessions recorded since the last save; a report delivered
 * just before a crash, before its removal was saved, is sent again (at least once, never lost). A row that cannot be
 * read back is left out of {@link #load} and named in {@link Contents#unreadable}; it never stops the others.
 *
 * <p>Close it when done ({@link AutoCloseable}).
 */
public final class TlsRptStore implements AutoCloseable {

    /** The schema version this class reads and writes. */
    public static final int SCHEMA_VERSION = 1;

    /** The organization and contact written into stored counts (the report sent is made from them, never these). */
    private static final String COUNTS = "optls tls-rpt store: counts, not a report";

    private static final List<String> SCHEMA = List.of(
            "CREATE TABLE collecting ("
                    + " day TEXT NOT NULL,"
                    + " policy_domain TEXT NOT NULL,"
                    + " counts TEXT NOT NULL,"
                    + " PRIMARY KEY (day, policy_domain))",
            "CREATE TABLE waiting ("
                    + " day TEXT NOT NULL,"
                    + " policy_domain TEXT NOT NULL,"
                    + " counts TEXT NOT NULL,"
                    + " report_id TEXT,"
                    + " retry_at TEXT NOT NULL,"
                    + " first_attempt TEXT,"
                    + " attempts INTEGER NOT NULL,"
                    + " PRIMARY KEY (day, policy_domain))");

    private static final SqliteFiles.Store STORE = new SqliteFiles.Store(
            "TLS-RPT store", "collecting", "the counts and reports it holds are lost", TlsRptStoreException::new);

    private final SqliteFiles.Db db;

    private TlsRptStore(SqliteFiles.Db db) {
        this.db = db;
    }

    /**
     * A report waiting for delivery.
     *
     * @param day its UTC day
     * @param policyDomain its policy domain
     * @param policies its policies with their counts
     * @param reportId its {@code report-id} once the first attempt has made the report (every attempt sends the
     *     same), null before
     * @param retryAt when the next attempt is due
     * @param firstAttempt when the first attempt was made, null before it
     * @param attempts the attempts made so far
     */
    public record Waiting(
            LocalDate day,
            String policyDomain,
            List<PolicyReport> policies,
            String reportId,
            Instant retryAt,
            Instant firstAttempt,
            int attempts) {
        /** Requires the day, domain, policies and time, and a count of at least 0; copies the policies. */
        public Waiting {
            Objects.requireNonNull(day, "day");
            policyDomain = ReportPolicy.normalizeDomain(policyDomain);
            policies = List.copyOf(policies);
            Objects.requireNonNull(retryAt, "retryAt");
            if (attempts < 0) {
                throw new IllegalArgumentException("attempts cannot be negative");
            }
        }
    }

    /**
     * What {@link #load} read.
     *
     * @param collecting per UTC day and policy domain, the counts of a day the collector had not finished
     * @param waiting the reports waiting for delivery
     * @param unreadable rows left out, each with its day, domain and why
     */
    public record Contents(
            Map<LocalDate, Map<String, List<PolicyReport>>> collecting,
            List<Waiting> waiting,
            List<String> unreadable) {
        /** Copies the lists (the map is taken as given). */
        public Contents {
            Objects.requireNonNull(collecting, "collecting");
            waiting = List.copyOf(waiting);
            unreadable = List.copyOf(unreadable);
        }
    }

    /**
     * Opens (creating if needed) the store in {@code file}.
     *
     * @throws TlsRptStoreException if the file is not a SQLite database, has a schema version other than {@value
     *     #SCHEMA_VERSION}, or cannot be opened or created
     */
    public static TlsRptStore open(Path file) {
        return new TlsRptStore(SqliteFiles.open(file, STORE, SCHEMA_VERSION, SCHEMA));
    }

    /** The database file. */
    public Path file() {
        return db.file();
    }

    /** Reads everything stored. */
    public Contents load() {
        Map<LocalDate, Map<String, List<PolicyReport>>> collecting = new TreeMap<>();
        List<Waiting> waiting = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        synchronized (db) {
            try (Statement statement = db.connection().createStatement()) {
                try (ResultSet rs = statement.executeQuery(
                        "SELECT day, policy_domain, counts FROM collecting ORDER BY day, policy_domain")) {
                    while (rs.next()) {
                        try {
                            LocalDate day = LocalDate.parse(rs.getString(1));
                            collecting
                                    .computeIfAbsent(day, d -> new TreeMap<>())
                                    .put(ReportPolicy.normalizeDomain(rs.getString(2)), counts(rs.getString(3)));
                        } catch (DateTimeParseException | IllegalArgumentException e) { // the columns are NOT NULL
                            unreadable.add(
                                    "counts of " + rs.getString(1) + " " + rs.getString(2) + ": " + e.getMessage());
                        }
                    }
                }
                try (ResultSet rs = statement.executeQuery("SELECT day, policy_domain, counts, report_id, retry_at,"
                        + " first_attempt, attempts FROM waiting ORDER BY retry_at")) {
                    while (rs.next()) {
                        try {
                            String first = rs.getString(6);
                            waiting.add(new Waiting(
                                    LocalDate.parse(rs.getString(1)),
                                    rs.getString(2),
                                    counts(rs.getString(3)),
                                    rs.getString(4),
                                    Instant.parse(rs.getString(5)),
                                    first == null ? null : Instant.parse(first),
                                    rs.getInt(7)));
                        } catch (DateTimeParseException | IllegalArgumentException e) { // the columns are NOT NULL
                            unreadable.add(
                                    "report of " + rs.getString(1) + " " + rs.getString(2) + ": " + e.getMessage());
                        }
                    }
                }
            } catch (SQLException e) {
                throw db.failure("reading", e);
            }
        }
        return new Contents(collecting, waiting, unreadable);
    }

    /**
     * Saves in one transaction: the counts of {@code changed} (per day and domain, replacing what was stored),
     * the removal of the counts of every day before {@code finishedBefore} (drained into reports; null: none), and
     * {@code waiting} in place of the reports stored before.
     *
     * @throws TlsRptStoreException if the file cannot be written (nothing of this save is kept then)
     */
    public void save(
            Map<LocalDate, Map<String, List<PolicyReport>>> changed, LocalDate finishedBefore, List<Waiting> waiting) {
        synchronized (db) {
            try {
                SqliteFiles.inTransaction(db.connection(), () -> saveIn(changed, finishedBefore, waiting));
            } catch (SQLException e) {
                throw db.failure("saving", e);
            }
        }
    }

    private void saveIn(
            Map<LocalDate, Map<String, List<PolicyReport>>> changed, LocalDate finishedBefore, List<Waiting> waiting)
            throws SQLException {
        try (PreparedStatement upsert = db.connection()
                .prepareStatement("INSERT INTO collecting (day, policy_domain, counts) VALUES (?, ?, ?)"
                        + " ON CONFLICT (day, policy_domain) DO UPDATE SET counts = excluded.counts")) {
            for (Map.Entry<LocalDate, Map<String, List<PolicyReport>>> day : changed.entrySet()) {
                for (Map.Entry<String, List<PolicyReport>> domain :
                        day.getValue().entrySet()) {
                    upsert.setString(1, day.getKey().toString());
                    upsert.setString(2, domain.getKey());
                    upsert.setString(3, json(day.getKey(), domain.getValue()));
                    upsert.addBatch();
                }
            }
            upsert.executeBatch();
        }
        if (finishedBefore != null) {
            try (PreparedStatement delete = db.connection().prepareStatement("DELETE FROM collecting WHERE day < ?")) {
                delete.setString(1, finishedBefore.toString()); // ISO dates sort as text
                delete.executeUpdate();
            }
        }
        try (Statement statement = db.connection().createStatement()) {
            statement.executeUpdate("DELETE FROM waiting");
        }
        try (PreparedStatement insert = db.connection()
                .prepareStatement(
                        "INSERT OR REPLACE INTO waiting (day,"
                                + " policy_domain, counts, report_id, retry_at, first_attempt, attempts) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            for (Waiting w : waiting) {
                insert.setString(1, w.day().toString());
                insert.setString(2, w.policyDomain());
                insert.setString(3, json(w.day(), w.policies()));
                insert.setString(4, w.reportId());
                insert.setString(5, w.retryAt().toString());
                insert.setString(
                        6, w.firstAttempt() == null ? null : w.firstAttempt().toString());
                insert.setInt(7, w.attempts());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    /** The policies and counts of a day as a TLS-RPT report of the RFC 8460 §4.4 schema. */
    private static String json(LocalDate day, List<PolicyReport> policies) {
        TlsRptReport counts = TlsRptReport.forDay(COUNTS, COUNTS, "-", day, policies);
        return new String(TlsRptJson.toBytes(counts), StandardCharsets.UTF_8);
    }

    /** The policies and counts of a stored report; IllegalArgumentException saying why if it does not read. */
    private static List<PolicyReport> counts(String json) {
        if (json == null) {
            throw new IllegalArgumentException("no counts");
        }
        TlsRptParse parsed = TlsRptJson.parse(json.getBytes(StandardCharsets.UTF_8));
        if (parsed instanceof TlsRptParse.Malformed m) {
            throw new IllegalArgumentException(m.reason());
        }
        return ((TlsRptParse.Parsed) parsed).report().policies();
    }

    /** Closes the database connection. */
    @Override
    public void close() {
        db.close();
    }
}
