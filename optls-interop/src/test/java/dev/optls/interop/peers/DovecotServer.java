package dev.optls.interop.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A private Dovecot ({@code dovecot -F -c <conf>} as a child process) on 127.0.0.1 with IMAP and POP3 on free
 * high ports and, when TLS is enabled, implicit-TLS IMAPS and POP3S ports. One test user ({@link #user()} /
 * {@link #password()}) with a Maildir in the temporary directory can log in. Must run as root; Dovecot drops
 * privileges itself (mail as user {@code nobody}).
 *
 * <pre>{@code
 * try (var dir = Peers.tempDir("certs");
 *         var dovecot = DovecotServer.start(PeerTls.REQUIRED, Peers.selfSignedLocalhost(dir.path()))) {
 *     connect(dovecot.host(), dovecot.imapPort());
 * }
 * }</pre>
 */
public final class DovecotServer implements AutoCloseable {

    /** The test user's name. */
    public static final String USER = "optls";

    /** The test user's password. */
    public static final String PASSWORD = "optls-secret";

    private static final String MAIL_USER = "nobody";
    private static final String MAIL_GROUP = "nogroup";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static volatile String version;

    private final Peers.PeerDirectory dir;
    private final PeerTls tls;
    private final boolean plaintextAuth;
    private final int imapPort;
    private final int pop3Port;
    private final int imapsPort;
    private final int pop3sPort;
    private final Path logFile;
    private final Path outFile;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Process process;

    private DovecotServer(Peers.PeerDirectory dir, PeerTls tls, boolean plaintextAuth) {
        this.dir = dir;
        this.tls = tls;
        this.plaintextAuth = plaintextAuth;
        this.imapPort = Peers.freePort();
        this.pop3Port = Peers.freePort();
        this.imapsPort = tls.enabled() ? Peers.freePort() : -1;
        this.pop3sPort = tls.enabled() ? Peers.freePort() : -1;
        this.logFile = dir.resolve("dovecot.log");
        this.outFile = dir.resolve("dovecot.out");
    }

    /** Starts an instance in mode {@code tls} with certificate chain and key {@code pem} (may be null for NONE). */
    public static DovecotServer start(PeerTls tls, Peers.PemFiles pem) {
        Builder builder = builder().tls(tls);
        if (pem != null) {
            builder.certificate(pem.chain(), pem.key());
        }
        return builder.start();
    }

    /** A builder; defaults: {@link PeerTls#NONE}, plaintext authentication allowed unless TLS is REQUIRED. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds and starts a {@link DovecotServer}. */
    public static final class Builder {
        private PeerTls tls = PeerTls.NONE;
        private Path chain;
        private Path key;
        private Boolean plaintextAuth;
        private final StringBuilder extra = new StringBuilder();

        private Builder() {}

        /** NONE ({@code ssl = no}), OPTIONAL ({@code ssl = yes}) or REQUIRED ({@code ssl = required}). */
        public Builder tls(PeerTls tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /** PEM files of the server certificate chain (leaf first) and its private key; copied at start. */
        public Builder certificate(Path chain, Path key) {
            this.chain = Objects.requireNonNull(chain, "chain");
            this.key = Objects.requireNonNull(key, "key");
            return this;
        }

        /**
         * Whether LOGIN / AUTH PLAIN work without TLS ({@code disable_plaintext_auth = no}). Default: allowed
         * for NONE and OPTIONAL, refused for REQUIRED. Refusing it in OPTIONAL mode makes IMAP advertise
         * {@code LOGINDISABLED} before STARTTLS (Debian's packaged default).
         */
        public Builder plaintextAuth(boolean allowed) {
            this.plaintextAuth = allowed;
            return this;
        }

        /** Raw dovecot.conf text appended after the generated configuration (later settings win). */
        public Builder config(String text) {
            extra.append(Objects.requireNonNull(text, "text")).append('\n');
            return this;
        }

        /**
         * Starts Dovecot and waits until all its ports accept connections.
         *
         * @throws IllegalStateException if it does not start (the message holds its log)
         */
        public DovecotServer start() {
            if (tls.enabled() && (chain == null || key == null)) {
                throw new IllegalArgumentException(
                        "PeerTls." + tls + " needs certificate(chain, key); only PeerTls.NONE runs without one");
            }
            boolean plain = plaintextAuth != null ? plaintextAuth : tls != PeerTls.REQUIRED;
            if (!tls.enabled() && !plain) {
                throw new IllegalArgumentException("without TLS, plaintextAuth(false) would make login impossible");
            }
            Peers.requireRoot();
            Peers.requireCommand("dovecot", "dovecot-core");
            Peers.requireCommand("setsid", "util-linux");
            Peers.require(Files.isExecutable(Path.of("/usr/lib/dovecot/imap")), "Dovecot IMAP", "dovecot-imapd");
            Peers.require(Files.isExecutable(Path.of("/usr/lib/dovecot/pop3")), "Dovecot POP3", "dovecot-pop3d");
            DovecotServer server = new DovecotServer(Peers.tempDir("dovecot"), tls, plain);
            Peers.closeAtExit(server);
            try {
                server.configure(chain, key, extra.toString());
                server.launch();
                return server;
            } catch (RuntimeException | Error e) {
                server.close();
                throw e;
            }
        }
    }

    private void configure(Path chain, Path key, String extra) {
        Path base = dir.mkdir("run");
        Path state = dir.mkdir("state");
        Path mail = dir.mkdir("mail");
        Path home = dir.mkdir("mail/" + USER);
        chownToMailUser(mail);
        chownToMailUser(home);
        int uid = attribute(home, "unix:uid");
        int gid = attribute(home, "unix:gid");
        Path users = dir.write("users", USER + ":{PLAIN}" + PASSWORD + ":" + uid + ":" + gid + "::" + home + "::\n");

        StringBuilder conf = new StringBuilder("# written by optls-interop DovecotServer\n");
        conf.append("base_dir = ").append(base).append('\n');
        conf.append("state_dir = ").append(state).append('\n');
        conf.append("instance_name = ").append(dir.path().getFileName()).append('\n');
        conf.append("log_path = ").append(logFile).append('\n');
        conf.append("info_log_path = ").append(logFile).append('\n');
        conf.append("listen = ").append(Peers.LOOPBACK).append('\n');
        conf.append("protocols = imap pop3\n");
        conf.append("auth_mechanisms = plain login\n");
        conf.append("auth_verbose = yes\n");
        conf.append("disable_plaintext_auth = ")
                .append(plaintextAuth ? "no" : "yes")
                .append('\n');
        conf.append("mail_location = maildir:").append(mail).append("/%u\n");
        conf.append("first_valid_uid = 1\n");
        conf.append("ssl = ")
                .append(
                        switch (tls) {
                            case NONE -> "no";
                            case OPTIONAL -> "yes";
                            case REQUIRED -> "required";
                        })
                .append('\n');
        if (tls.enabled()) {
            Path tlsDir = dir.mkdir("tls");
            Path chainCopy = Peers.copy(chain, tlsDir.resolve("chain.pem"), "rw-r--r--");
            Path keyCopy = Peers.copy(key, tlsDir.resolve("key.pem"), "rw-------");
            conf.append("ssl_cert = <").append(chainCopy).append('\n');
            conf.append("ssl_key = <").append(keyCopy).append('\n');
        }
        conf.append("passdb {\n  driver = passwd-file\n  args = ").append(users).append("\n}\n");
        conf.append("userdb {\n  driver = passwd-file\n  args = ").append(users).append("\n}\n");
        // Port 0 disables a built-in listener (imaps 993 and pop3s 995 exist by default).
        conf.append("service imap-login {\n")
                .append(listener("imap", imapPort, false))
                .append(listener("imaps", Math.max(imapsPort, 0), true))
                .append("}\n");
        conf.append("service pop3-login {\n")
                .append(listener("pop3", pop3Port, false))
                .append(listener("pop3s", Math.max(pop3sPort, 0), true))
                .append("}\n");
        conf.append(extra);
        dir.write("dovecot.conf", conf.toString());
    }

    private static String listener(String name, int port, boolean implicitTls) {
        return "  inet_listener " + name + " {\n    address = " + Peers.LOOPBACK + "\n    port = " + port + "\n"
                + (implicitTls ? "    ssl = yes\n" : "") + "  }\n";
    }

    private void launch() {
        // setsid: Dovecot and every process it forks form their own process group, killed as one in close().
        ProcessBuilder builder = new ProcessBuilder(
                        "setsid",
                        "dovecot",
                        "-F",
                        "-c",
                        dir.resolve("dovecot.conf").toString())
                .redirectErrorStream(true)
                .redirectOutput(outFile.toFile());
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start dovecot: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        for (int port : ports()) {
            while (!Peers.accepts(host(), port)) {
                if (!process.isAlive()) {
                    throw new IllegalStateException(
                            "Dovecot exited with " + process.exitValue() + " while starting" + diagnostics());
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("Dovecot does not accept connections on " + host() + ":" + port
                            + " after " + START_TIMEOUT + diagnostics());
                }
                Peers.sleep(Duration.ofMillis(50));
            }
        }
    }

    private List<Integer> ports() {
        return tls.enabled() ? List.of(imapPort, pop3Port, imapsPort, pop3sPort) : List.of(imapPort, pop3Port);
    }

    private String diagnostics() {
        return "\n--- " + outFile + " ---\n" + Peers.readIfExists(outFile) + "--- " + logFile + " ---\n" + log()
                + "--- " + dir.resolve("dovecot.conf") + " ---\n"
                + Peers.readIfExists(dir.resolve("dovecot.conf"));
    }

    /** The address Dovecot listens on: always {@value Peers#LOOPBACK}. */
    public String host() {
        return Peers.LOOPBACK;
    }

    /** The IMAP port (STARTTLS offered unless the mode is NONE). */
    public int imapPort() {
        return imapPort;
    }

    /** The POP3 port (STLS offered unless the mode is NONE). */
    public int pop3Port() {
        return pop3Port;
    }

    /**
     * The implicit-TLS IMAP port (like 993).
     *
     * @throws IllegalStateException if this instance runs without TLS
     */
    public int imapsPort() {
        return requireTlsPort(imapsPort, "IMAPS");
    }

    /**
     * The implicit-TLS POP3 port (like 995).
     *
     * @throws IllegalStateException if this instance runs without TLS
     */
    public int pop3sPort() {
        return requireTlsPort(pop3sPort, "POP3S");
    }

    private int requireTlsPort(int port, String what) {
        if (port < 0) {
            throw new IllegalStateException("a PeerTls.NONE Dovecot has no " + what + " port; start it with TLS");
        }
        return port;
    }

    /** The TLS mode this instance was started with. */
    public PeerTls tls() {
        return tls;
    }

    /** Whether plaintext authentication is allowed without TLS ({@code disable_plaintext_auth = no}). */
    public boolean plaintextAuth() {
        return plaintextAuth;
    }

    /**
     * The test user's Maildir ({@code mail_location = maildir:…/%u}), owned by the mail user: a Postfix
     * {@code virtual} delivery into it lands in this mailbox.
     */
    public Path mailbox() {
        return dir.resolve("mail/" + USER);
    }

    /** The test user's name ({@value #USER}). */
    public String user() {
        return USER;
    }

    /** The test user's password ({@value #PASSWORD}). */
    public String password() {
        return PASSWORD;
    }

    /** The installed Dovecot version ({@code dovecot --version}), e.g. {@code 2.3.19.1 (9b53102964)}. */
    public static String version() {
        String v = version;
        if (v == null) {
            Peers.requireCommand("dovecot", "dovecot-core");
            v = Peers.run(Duration.ofSeconds(30), "dovecot", "--version")
                    .orThrow()
                    .output()
                    .trim();
            version = v;
        }
        return v;
    }

    /** Everything this instance has logged so far (its {@code log_path}). */
    public String log() {
        return Peers.readIfExists(logFile);
    }

    /**
     * Waits until the log contains {@code text} and returns the log.
     *
     * @throws AssertionError if it does not within {@code timeout}; the message holds the log
     */
    public String awaitLog(String text, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String log = log();
            if (log.contains(text)) {
                return log;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("Dovecot log has no '" + text + "' after " + timeout + ":\n" + log);
            }
            Peers.sleep(Duration.ofMillis(50));
        }
    }

    /** Stops Dovecot (SIGKILL to its process group) and deletes the temporary directory. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            Process p = process;
            if (p != null) {
                // Dovecot takes about 6 s to shut down on SIGTERM (login processes linger) and may fork new
                // login processes meanwhile; a test instance has nothing worth a clean shutdown, so its whole
                // process group gets SIGKILL at once.
                Peers.killProcessGroup(p.pid());
                Peers.killTree(p.toHandle(), Duration.ofMillis(300));
                for (int port : ports()) {
                    Peers.awaitPortClosed(host(), port, Duration.ofSeconds(3));
                }
            }
        } finally {
            dir.close();
            Peers.closed(this);
        }
    }

    @Override
    public String toString() {
        return "DovecotServer[" + tls + ", imap " + imapPort + ", pop3 " + pop3Port
                + (tls.enabled() ? ", imaps " + imapsPort + ", pop3s " + pop3sPort : "") + ", " + dir + "]";
    }

    private static void chownToMailUser(Path path) {
        Peers.chown(path, MAIL_USER, MAIL_GROUP);
    }

    private static int attribute(Path path, String name) {
        try {
            return (Integer) Files.getAttribute(path, name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name + " of " + path, e);
        }
    }
}
