package dev.optls.interop.sieve;

import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/**
 * A private Dovecot with only ManageSieve ({@code protocols = sieve}, Debian {@code dovecot-managesieved}
 * and {@code dovecot-sieve}) on 127.0.0.1 and a free high port, with {@code ssl = no/yes/required}. One
 * user ({@link #USER} / {@link #PASSWORD}) can log in; plaintext authentication is allowed unless TLS is
 * required. Runs as root ({@code setsid dovecot -F -c <conf>}); {@link #close()} kills its process group.
 */
final class ManageSieveDovecot implements AutoCloseable {
    static final String USER = "optls";
    static final String PASSWORD = "optls-secret";

    private static volatile String version;

    private final Peers.PeerDirectory dir;
    private final PeerTls tls;
    private final int port;
    private final Path log;
    private Process process;

    private ManageSieveDovecot(PeerTls tls) {
        this.dir = Peers.tempDir("managesieve");
        this.tls = tls;
        this.port = Peers.freePort();
        this.log = dir.resolve("dovecot.log");
    }

    /** Starts Dovecot's ManageSieve in mode {@code tls}; {@code pem} is required unless the mode is NONE. */
    static ManageSieveDovecot start(PeerTls tls, Peers.PemFiles pem) {
        Peers.requireRoot();
        Peers.requireCommand("dovecot", "dovecot-core");
        Peers.requireCommand("setsid", "util-linux");
        Peers.require(
                Files.isExecutable(Path.of("/usr/lib/dovecot/managesieve-login")),
                "Dovecot ManageSieve",
                "dovecot-managesieved");
        ManageSieveDovecot d = new ManageSieveDovecot(tls);
        try {
            d.configure(pem);
            d.launch();
            return d;
        } catch (RuntimeException | Error e) {
            d.close();
            throw e;
        }
    }

    private void configure(Peers.PemFiles pem) {
        Path home = dir.mkdir("home");
        Peers.run(Duration.ofSeconds(10), "chown", "nobody:nogroup", home.toString())
                .orThrow();
        Path users = dir.write("users", USER + ":{PLAIN}" + PASSWORD + ":65534:65534::" + home + "::\n");
        StringBuilder c = new StringBuilder("# written by optls-interop ManageSieveDovecot\n");
        c.append("base_dir = ").append(dir.mkdir("run")).append('\n');
        c.append("state_dir = ").append(dir.mkdir("state")).append('\n');
        c.append("instance_name = ").append(dir.path().getFileName()).append('\n');
        c.append("log_path = ").append(log).append('\n');
        c.append("info_log_path = ").append(log).append('\n');
        c.append("listen = ").append(Peers.LOOPBACK).append('\n');
        c.append("protocols = sieve\n");
        c.append("auth_mechanisms = plain login\n");
        c.append("disable_plaintext_auth = ")
                .append(tls == PeerTls.REQUIRED ? "yes" : "no")
                .append('\n');
        c.append("mail_location = maildir:").append(home).append("/Maildir\n");
        c.append("first_valid_uid = 1\n");
        c.append("login_log_format_elements = user=<%u> method=%m rip=%r rport=%{rport} lip=%l %c\n");
        c.append("ssl = ")
                .append(
                        switch (tls) {
                            case NONE -> "no";
                            case OPTIONAL -> "yes";
                            case REQUIRED -> "required";
                        })
                .append('\n');
        if (tls.enabled()) {
            Path tlsDir = dir.mkdir("tls");
            c.append("ssl_cert = <")
                    .append(copy(pem.chain(), tlsDir.resolve("chain.pem"), "rw-r--r--"))
                    .append('\n');
            c.append("ssl_key = <")
                    .append(copy(pem.key(), tlsDir.resolve("key.pem"), "rw-------"))
                    .append('\n');
        }
        c.append("passdb {\n  driver = passwd-file\n  args = ").append(users).append("\n}\n");
        c.append("userdb {\n  driver = passwd-file\n  args = ").append(users).append("\n}\n");
        c.append("plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n");
        c.append("service managesieve-login {\n  inet_listener sieve {\n    address = ")
                .append(Peers.LOOPBACK)
                .append("\n    port = ")
                .append(port)
                .append("\n  }\n}\n");
        dir.write("dovecot.conf", c.toString());
    }

    private static Path copy(Path from, Path to, String mode) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString(mode));
            return to;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
        }
    }

    private void launch() {
        Path out = dir.resolve("dovecot.out");
        try {
            process = new ProcessBuilder(
                            "setsid",
                            "dovecot",
                            "-F",
                            "-c",
                            dir.resolve("dovecot.conf").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start dovecot: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Peers.accepts(Peers.LOOPBACK, port)) {
            if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("Dovecot ManageSieve did not start on port " + port + "\n"
                        + Peers.readIfExists(out) + Peers.readIfExists(log)
                        + Peers.readIfExists(dir.resolve("dovecot.conf")));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting Dovecot", e);
            }
        }
    }

    int port() {
        return port;
    }

    String log() {
        return Peers.readIfExists(log);
    }

    /** {@code dovecot --version} plus the Pigeonhole package version, for assertion messages. */
    static String version() {
        String v = version;
        if (v == null) {
            String dovecot = Peers.run(Duration.ofSeconds(20), "dovecot", "--version")
                    .orThrow()
                    .output()
                    .trim();
            String pigeonhole = Peers.run(
                            Duration.ofSeconds(20), "dpkg-query", "-W", "-f=${Version}", "dovecot-managesieved")
                    .output()
                    .trim();
            v = "Dovecot " + dovecot + " / dovecot-managesieved " + pigeonhole;
            version = v;
        }
        return v;
    }

    @Override
    public void close() {
        try {
            if (process != null) {
                Peers.killProcessGroup(process.pid());
                Peers.killTree(process.toHandle(), Duration.ofMillis(300));
                Peers.awaitPortClosed(Peers.LOOPBACK, port, Duration.ofSeconds(3));
            }
        } finally {
            dir.close();
        }
    }

    @Override
    public String toString() {
        return "ManageSieveDovecot[" + tls + ", port " + port + ", " + dir + "]";
    }
}
