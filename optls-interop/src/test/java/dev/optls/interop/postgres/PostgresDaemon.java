package dev.optls.interop.postgres;

import dev.optls.interop.peers.Peers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A private PostgreSQL cluster on 127.0.0.1 and a free high port: {@code initdb} (trust authentication,
 * superuser {@code postgres}), its own {@code postgresql.conf} additions and {@code pg_hba.conf}, started
 * with {@code pg_ctl start -w} as the system user {@code postgres} (via {@code runuser}) and stopped with
 * {@code pg_ctl stop -m immediate}, falling back to killing the postmaster. Unix sockets go to the
 * temporary directory, never to /var/run/postgresql. Must run as root.
 */
public final class PostgresDaemon implements AutoCloseable {
    /** The Debian package, for "install this" messages. */
    static final String PACKAGE = "postgresql";

    /** The database superuser created by initdb; trust authentication, no password. */
    public static final String USER = "postgres";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    /** How clients must connect, as {@code pg_hba.conf} says. */
    public enum Access {
        /** {@code ssl = on}, {@code hostssl} only: plaintext startups get FATAL "no pg_hba.conf entry". */
        TLS_REQUIRED,
        /** {@code ssl = on}, {@code host}: TLS when the client asks, plaintext otherwise. */
        TLS_OPTIONAL,
        /** {@code ssl = off}: SSLRequest is answered with N. */
        NO_TLS
    }

    private final Peers.PeerDirectory dir;
    private final Path bin;
    private final Path data;
    private final Path run;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean();

    private PostgresDaemon(Peers.PeerDirectory dir, Path bin) {
        this.dir = dir;
        this.bin = bin;
        this.data = dir.resolve("data");
        this.run = dir.resolve("run");
        this.port = Peers.freePort();
    }

    /**
     * Creates and starts a cluster.
     *
     * @param pem the server certificate chain and key (copied, key mode 0600, owned by postgres); may be
     *     null for {@link Access#NO_TLS}
     */
    public static PostgresDaemon start(Access access, Peers.PemFiles pem) {
        Peers.requireRoot();
        Peers.requireCommand("runuser", "util-linux");
        Path bin = binDir();
        PostgresDaemon daemon = new PostgresDaemon(Peers.tempDir("postgres"), bin);
        try {
            daemon.init(access, pem);
            daemon.launch();
            return daemon;
        } catch (RuntimeException | Error e) {
            daemon.close();
            throw e;
        }
    }

    /** The newest {@code /usr/lib/postgresql/<major>/bin} with initdb, pg_ctl and postgres. */
    static Path binDir() {
        Path root = Path.of("/usr/lib/postgresql");
        Path found = null;
        if (Files.isDirectory(root)) {
            try (var versions = Files.list(root)) {
                found = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                        .max((a, b) -> Integer.compare(major(a), major(b)))
                        .orElse(null);
            } catch (IOException e) {
                found = null;
            }
        }
        Peers.require(found != null, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)", PACKAGE);
        return found;
    }

    private static int major(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private void init(Access access, Peers.PemFiles pem) {
        mkdirFor(data, "rwx------");
        mkdirFor(run, "rwx------");
        asPostgres(
                        Duration.ofSeconds(60),
                        bin.resolve("initdb").toString(),
                        "-D",
                        data.toString(),
                        "-U",
                        USER,
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-sync")
                .orThrow();
        StringBuilder conf = new StringBuilder()
                .append("\n# optls interop\n")
                .append("listen_addresses = '")
                .append(Peers.LOOPBACK)
                .append("'\n")
                .append("port = ")
                .append(port)
                .append('\n')
                .append("unix_socket_directories = '")
                .append(run)
                .append("'\n")
                .append("fsync = off\n")
                .append("log_connections = on\n");
        if (access == Access.NO_TLS) {
            conf.append("ssl = off\n");
        } else {
            if (pem == null) {
                throw new IllegalArgumentException(access + " needs a certificate and key");
            }
            copyForPostgres(pem.chain(), data.resolve("server.crt"), "rw-r-----");
            copyForPostgres(pem.key(), data.resolve("server.key"), "rw-------");
            conf.append("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }
        String hba = switch (access) {
            case TLS_REQUIRED -> "hostssl all all 127.0.0.1/32 trust\n";
            case TLS_OPTIONAL, NO_TLS -> "host all all 127.0.0.1/32 trust\n";
        };
        try {
            Files.writeString(data.resolve("postgresql.conf"), conf, java.nio.file.StandardOpenOption.APPEND);
            Files.writeString(data.resolve("pg_hba.conf"), "local all all trust\n" + hba);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot configure the cluster in " + data, e);
        }
    }

    private void launch() {
        Peers.CommandResult started = asPostgres(
                START_TIMEOUT.plusSeconds(10),
                bin.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-l",
                log().toString(),
                "-w",
                "-t",
                String.valueOf(START_TIMEOUT.toSeconds()),
                "start");
        if (!started.succeeded()) {
            throw new IllegalStateException("PostgreSQL did not start:\n" + started.output() + "\nlog:\n" + logText());
        }
        Peers.awaitPort(Peers.LOOPBACK, port, Duration.ofSeconds(10));
    }

    /** The TCP port on {@value Peers#LOOPBACK}. */
    public int port() {
        return port;
    }

    /** The server log. */
    Path log() {
        return run.resolve("postgres.log");
    }

    /** The server log's text so far. */
    String logText() {
        return Peers.readIfExists(log());
    }

    /** {@code postgres --version}, e.g. {@code postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)}. */
    public static String version() {
        return Peers.run(Duration.ofSeconds(10), binDir().resolve("postgres").toString(), "--version")
                .orThrow()
                .output()
                .trim();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                Peers.CommandResult stopped = asPostgres(
                        Duration.ofSeconds(20),
                        bin.resolve("pg_ctl").toString(),
                        "-D",
                        data.toString(),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "10",
                        "stop");
                if (!stopped.succeeded()) {
                    killPostmaster();
                }
            }
        } catch (RuntimeException e) {
            killPostmaster();
        } finally {
            Peers.awaitPortClosed(Peers.LOOPBACK, port, Duration.ofSeconds(5));
            dir.close();
        }
    }

    /** Kills the postmaster named in postmaster.pid with its children (a hung pg_ctl stop). */
    private void killPostmaster() {
        try {
            List<String> lines = Files.readAllLines(data.resolve("postmaster.pid"));
            long pid = Long.parseLong(lines.get(0).trim());
            ProcessHandle.of(pid).ifPresent(Peers::killTree);
        } catch (IOException | RuntimeException e) {
            // Nothing left to kill.
        }
    }

    private static Peers.CommandResult asPostgres(Duration timeout, String... command) {
        List<String> full = new java.util.ArrayList<>(List.of("runuser", "-u", USER, "--"));
        full.addAll(List.of(command));
        return Peers.run(timeout, null, full);
    }

    private static void mkdirFor(Path dir, String mode) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
            Files.setOwner(dir, postgres(dir));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + " for user " + USER, e);
        }
    }

    private static void copyForPostgres(Path from, Path to, String mode) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString(mode));
            Files.setOwner(to, postgres(to));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
        }
    }

    private static UserPrincipal postgres(Path path) throws IOException {
        return path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(USER);
    }

    @Override
    public String toString() {
        return "PostgreSQL on " + Peers.LOOPBACK + ":" + port + " (" + dir + ")";
    }
}
