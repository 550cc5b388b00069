package dev.optls.interop.mysql;

import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A private MariaDB server on 127.0.0.1 (high port) with its own data directory, unix socket and error log,
 * started as root with {@code --user=mysql}, as Debian's {@code mariadb-server} package installs it. Root logs
 * in without a password over the unix socket only; {@link #sql(String)} runs statements that way.
 */
public final class MariaDbServer implements AutoCloseable {

    /** How the server treats TLS. */
    public enum Tls {
        /** Certificate configured: the greeting offers CLIENT_SSL, plaintext logins are allowed. */
        OFFERED,
        /** Certificate configured and {@code --require-secure-transport=ON}. */
        REQUIRED,
        /** {@code --skip-ssl}: the greeting never offers CLIENT_SSL. */
        NONE
    }

    /** A user that may log in from 127.0.0.1 with or without TLS. */
    public static final String USER = "optls";

    /** A user that must use TLS ({@code REQUIRE SSL}). */
    public static final String TLS_USER = "optls_tls";

    /** The password of both users (mysql_native_password). */
    public static final String PASSWORD = "optls-secret";

    private final Peers.PeerDirectory dir;
    private final Path run;
    private final int port;
    private final Tls tls;
    private final Process process;

    private MariaDbServer(Peers.PeerDirectory dir, Path run, int port, Tls tls, Process process) {
        this.dir = dir;
        this.run = run;
        this.port = port;
        this.tls = tls;
        this.process = process;
    }

    /**
     * Initialises a data directory, starts {@code mariadbd} and creates {@link #USER} and {@link #TLS_USER}.
     *
     * @param credential the server certificate (ignored for {@link Tls#NONE})
     * @param caPem the CA file the server announces
     */
    public static MariaDbServer start(Tls tls, Credential credential, Path caPem) {
        Peers.requireRoot();
        Peers.requireCommand("mariadbd", "mariadb-server");
        Peers.requireCommand("mariadb-install-db", "mariadb-server");
        Peers.requireCommand("mariadb", "mariadb-client");
        Peers.PeerDirectory dir = Peers.tempDir("mariadb");
        try {
            Path run = dir.mkdir("run");
            Path data = run.resolve("data");
            chownMysql(run);
            Peers.run(
                            Duration.ofSeconds(60),
                            null,
                            List.of(
                                    "mariadb-install-db",
                                    "--no-defaults",
                                    "--datadir=" + data,
                                    "--user=mysql",
                                    "--auth-root-authentication-method=normal",
                                    "--skip-test-db"))
                    .orThrow();
            int port = Peers.freePort();
            List<String> command = new ArrayList<>(List.of(
                    "mariadbd",
                    "--no-defaults",
                    "--datadir=" + data,
                    "--socket=" + run.resolve("sock"),
                    "--pid-file=" + run.resolve("pid"),
                    "--log-error=" + run.resolve("err.log"),
                    "--port=" + port,
                    "--bind-address=" + Peers.LOOPBACK,
                    "--user=mysql",
                    "--skip-log-bin",
                    "--skip-name-resolve",
                    "--innodb-buffer-pool-size=16M"));
            if (tls == Tls.NONE) {
                command.add("--skip-ssl");
            } else {
                Path certs = dir.mkdir("certs");
                Credential.PemPaths pem = credential.writePem(certs, "server");
                for (Path p : List.of(pem.chain(), pem.privateKey(), pem.traditionalPrivateKey())) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r-----"));
                    chownMysql(p);
                }
                command.add("--ssl-cert=" + pem.chain());
                command.add("--ssl-key=" + pem.privateKey());
                command.add("--ssl-ca=" + caPem);
                if (tls == Tls.REQUIRED) {
                    command.add("--require-secure-transport=ON");
                }
            }
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(run.resolve("stdout.log").toFile())
                    .start();
            MariaDbServer server = new MariaDbServer(dir, run, port, tls, process);
            try {
                Peers.awaitPort(Peers.LOOPBACK, port, Duration.ofSeconds(20));
                server.sql("CREATE USER '" + USER + "'@'127.0.0.1' IDENTIFIED BY '" + PASSWORD + "';" + " CREATE USER '"
                        + TLS_USER + "'@'127.0.0.1' IDENTIFIED BY '" + PASSWORD + "' REQUIRE SSL;");
            } catch (RuntimeException e) {
                String log = server.errorLog();
                server.close();
                throw new IllegalStateException(
                        "MariaDB did not come up: " + e.getMessage() + "\nerror log:\n" + log, e);
            }
            return server;
        } catch (IOException | RuntimeException e) {
            dir.close();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot start mariadbd", io);
            }
            throw (RuntimeException) e;
        }
    }

    private static void chownMysql(Path path) {
        Peers.run(Duration.ofSeconds(10), null, List.of("chown", "mysql:mysql", path.toString()))
                .orThrow();
    }

    /** The TCP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** How this server treats TLS. */
    public Tls tls() {
        return tls;
    }

    /** Runs SQL as root over the unix socket; returns the tab-separated output without column names. */
    public String sql(String statements) {
        return Peers.run(
                        Duration.ofSeconds(20),
                        null,
                        List.of(
                                "mariadb",
                                "--no-defaults",
                                "--socket=" + run.resolve("sock"),
                                "-u",
                                "root",
                                "-N",
                                "-B",
                                "-e",
                                statements))
                .orThrow()
                .output()
                .trim();
    }

    /** A global status counter, e.g. {@code Ssl_accepts}. */
    public long status(String name) {
        String line = sql("SHOW GLOBAL STATUS LIKE '" + name + "'");
        String[] parts = line.split("\\s+");
        return Long.parseLong(parts[parts.length - 1]);
    }

    /** The server's error log so far. */
    public String errorLog() {
        return Peers.readIfExists(run.resolve("err.log"));
    }

    /** {@code mariadbd --version}. */
    public static String version() {
        return Peers.run(Duration.ofSeconds(10), "mariadbd", "--version")
                .orThrow()
                .output()
                .trim();
    }

    /** Stops the server ({@code mariadb-admin shutdown}, then SIGTERM/SIGKILL) and deletes its directory. */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                try {
                    Peers.run(
                            Duration.ofSeconds(15),
                            null,
                            List.of(
                                    "mariadb-admin",
                                    "--no-defaults",
                                    "--socket=" + run.resolve("sock"),
                                    "-u",
                                    "root",
                                    "shutdown"));
                } catch (IllegalStateException e) {
                    // Fall through to the signals below.
                }
                if (!Peers.awaitGone(List.of(process.toHandle()), Duration.ofSeconds(10))) {
                    Peers.killTree(process.toHandle());
                }
            }
        } finally {
            dir.close();
        }
    }

    @Override
    public String toString() {
        return "MariaDB on " + Peers.LOOPBACK + ":" + port + " (TLS " + tls + ")";
    }
}
