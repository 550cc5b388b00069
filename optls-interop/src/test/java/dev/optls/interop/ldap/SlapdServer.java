package dev.optls.interop.ldap;

import dev.optls.interop.peers.Peers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A private OpenLDAP {@code slapd} on 127.0.0.1 and a free high port, with its own {@code slapd.conf},
 * an empty mdb database {@code dc=example,dc=org} (rootdn {@link #ROOT_DN} / {@link #ROOT_PASSWORD}) and
 * its log, all in a temporary directory. Runs in the foreground ({@code -d 0}) as root, so that
 * {@link #close()} kills exactly the process it started.
 */
public final class SlapdServer implements AutoCloseable {
    public static final String SUFFIX = "dc=example,dc=org";
    public static final String ROOT_DN = "cn=admin," + SUFFIX;
    public static final String ROOT_PASSWORD = "optls-secret";

    /** How TLS is configured. */
    public enum Tls {
        /** No certificate: StartTLS is answered with an error. */
        NONE,
        /** A certificate: StartTLS works, plaintext operations too. */
        OFFERED,
        /** A certificate and {@code security tls=1}: operations other than StartTLS need TLS. */
        REQUIRED
    }

    private final Peers.PeerDirectory dir;
    private final int port;
    private final Process process;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SlapdServer(Peers.PeerDirectory dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /**
     * Starts slapd. {@code chain}/{@code key}/{@code ca} are PEM files (ignored for {@link Tls#NONE}).
     *
     * @throws IllegalStateException when it does not come up (the message holds its log)
     */
    public static SlapdServer start(Tls tls, Path chain, Path key, Path ca) {
        Peers.requireRoot();
        Path slapd = Peers.requireCommand("slapd", "slapd");
        Peers.PeerDirectory dir = Peers.tempDir("slapd");
        int port = Peers.freePort();
        Path db = dir.mkdir("db");
        StringBuilder conf = new StringBuilder()
                .append("include /etc/ldap/schema/core.schema\n")
                .append("pidfile ")
                .append(dir.resolve("slapd.pid"))
                .append('\n')
                .append("argsfile ")
                .append(dir.resolve("slapd.args"))
                .append('\n')
                .append("modulepath /usr/lib/ldap\n")
                .append("moduleload back_mdb\n");
        if (tls != Tls.NONE) {
            conf.append("TLSCertificateFile ")
                    .append(chain)
                    .append('\n')
                    .append("TLSCertificateKeyFile ")
                    .append(key)
                    .append('\n')
                    .append("TLSCACertificateFile ")
                    .append(ca)
                    .append('\n');
        }
        if (tls == Tls.REQUIRED) {
            // slapd.conf(5): "security tls=1" demands TLS (security strength factor >= 1) for operations.
            conf.append("security tls=1\n");
        }
        conf.append("database mdb\n")
                .append("maxsize 10485760\n")
                .append("suffix \"" + SUFFIX + "\"\n")
                .append("rootdn \"" + ROOT_DN + "\"\n")
                .append("rootpw " + ROOT_PASSWORD + "\n")
                .append("directory ")
                .append(db)
                .append('\n');
        Path config = dir.write("slapd.conf", conf.toString());
        Path log = dir.resolve("slapd.log");
        Process process;
        try {
            process = new ProcessBuilder(List.of(
                            slapd.toString(),
                            "-h",
                            "ldap://" + Peers.LOOPBACK + ":" + port + "/",
                            "-f",
                            config.toString(),
                            "-d",
                            "256"))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            dir.close();
            throw new IllegalStateException("cannot start slapd: " + e.getMessage(), e);
        }
        SlapdServer server = new SlapdServer(dir, port, process);
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!Peers.accepts(Peers.LOOPBACK, port)) {
                if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("slapd did not come up on port " + port + ":\n" + server.log());
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.close();
            throw new IllegalStateException("interrupted while starting slapd", e);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    public int port() {
        return port;
    }

    String log() {
        try {
            return Files.readString(dir.resolve("slapd.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The {@code slapd -VV} version line, for assertion messages. */
    public static String version() {
        String out = Peers.run(Duration.ofSeconds(10), "slapd", "-VV").output();
        int at = out.indexOf("slapd ");
        return at < 0
                ? out.strip()
                : out.substring(at, out.indexOf('(', at) < 0 ? out.length() : out.indexOf('(', at))
                        .strip();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            Peers.killTree(process.toHandle());
            Peers.awaitPortClosed(Peers.LOOPBACK, port, Duration.ofSeconds(5));
        } finally {
            dir.close();
        }
    }
}
