package dev.optls.interop.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A private Postfix instance on 127.0.0.1 with its own configuration, queue and data directories in a
 * temporary directory: an smtpd on a free high port ({@link #port()}) and, when TLS is enabled, an
 * implicit-TLS ({@code smtpd_tls_wrappermode}) smtpd on another ({@link #implicitPort()}). Accepted mail is
 * discarded (no local delivery, no relaying anywhere). Must run as root; Postfix drops to user {@code postfix}.
 *
 * <pre>{@code
 * try (var dir = Peers.tempDir("certs");
 *         var postfix = PostfixServer.start(PeerTls.OPTIONAL, Peers.selfSignedLocalhost(dir.path()))) {
 *     connect(postfix.host(), postfix.port());
 * }
 * }</pre>
 */
public final class PostfixServer implements AutoCloseable {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration PORT_TIMEOUT = Duration.ofSeconds(15);
    private static volatile String version;

    private final Peers.PeerDirectory dir;
    private final PeerTls tls;
    private final int port;
    private final int implicitPort;
    private final Path configDirectory;
    private final Path maillog;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile ProcessHandle master;

    private volatile Path resolvConf;

    private PostfixServer(Peers.PeerDirectory dir, PeerTls tls, int port, int implicitPort) {
        this.dir = dir;
        this.tls = tls;
        this.port = port;
        this.implicitPort = implicitPort;
        this.configDirectory = dir.resolve("conf");
        this.maillog = dir.resolve("maillog");
    }

    /** Starts an instance in mode {@code tls} with certificate chain and key {@code pem} (may be null for NONE). */
    public static PostfixServer start(PeerTls tls, Peers.PemFiles pem) {
        Builder builder = builder().tls(tls);
        if (pem != null) {
            builder.certificate(pem.chain(), pem.key());
        }
        return builder.start();
    }

    /** A builder for an instance; defaults: {@link PeerTls#NONE}, no extra main.cf parameters. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds and starts a {@link PostfixServer}. */
    public static final class Builder {
        private PeerTls tls = PeerTls.NONE;
        private Path chain;
        private Path key;
        private final Map<String, String> mainCf = new LinkedHashMap<>();
        private Path resolvConf;

        private Builder() {}

        /**
         * Runs Postfix in a private mount namespace ({@code unshare --mount}) where {@code file} is bind-mounted over
         * {@code /etc/resolv.conf}: its smtp client then resolves MX, A and TLSA records through the resolver the file
         * names (port 53 on a loopback address), not the system's. Needs root and util-linux's {@code unshare}; nothing
         * is chrooted, so no copy of resolv.conf in the queue directory shadows it.
         */
        public Builder resolvConf(Path file) {
            this.resolvConf = Objects.requireNonNull(file, "file");
            return this;
        }

        /** How smtpd offers TLS: NONE (no STARTTLS, no implicit port), OPTIONAL (may), REQUIRED (encrypt). */
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

        /** An extra main.cf parameter, written after (and so overriding) the defaults of this class. */
        public Builder mainCf(String name, String value) {
            mainCf.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Starts the instance and waits until its ports accept connections.
         *
         * @throws IllegalStateException if Postfix does not start (the message holds its log)
         */
        public PostfixServer start() {
            if (tls.enabled() && (chain == null || key == null)) {
                throw new IllegalArgumentException(
                        "PeerTls." + tls + " needs certificate(chain, key); only PeerTls.NONE runs without one");
            }
            Peers.requireRoot();
            Peers.requireCommand("postfix");
            Peers.requireCommand("postconf");
            Peers.PeerDirectory dir = Peers.tempDir("postfix");
            PostfixServer server = new PostfixServer(dir, tls, Peers.freePort(), tls.enabled() ? Peers.freePort() : -1);
            server.resolvConf = resolvConf;
            if (resolvConf != null) {
                Peers.requireCommand("unshare", "util-linux");
            }
            Peers.closeAtExit(server);
            try {
                server.configure(chain, key, mainCf);
                server.launch();
                return server;
            } catch (RuntimeException | Error e) {
                server.close();
                throw e;
            }
        }
    }

    private void configure(Path chain, Path key, Map<String, String> extra) {
        Path queue = dir.mkdir("queue");
        Path data = dir.mkdir("data");
        dir.mkdir("conf");
        Peers.chown(data, "postfix");
        createQueue(queue);
        Map<String, String> main = new LinkedHashMap<>();
        main.put("compatibility_level", "3.6");
        main.put("queue_directory", queue.toString());
        main.put("data_directory", data.toString());
        main.put("mail_owner", "postfix");
        main.put("setgid_group", "postdrop");
        main.put("inet_interfaces", Peers.LOOPBACK);
        main.put("inet_protocols", "ipv4");
        main.put("myhostname", "localhost");
        main.put("mydomain", "localdomain");
        main.put("mydestination", "");
        main.put("relayhost", "");
        main.put("mynetworks", "127.0.0.0/8");
        main.put("smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination");
        // Nothing leaves this instance: every accepted message is discarded and logged as sent.
        main.put("default_transport", "discard:optls-interop test instance");
        main.put("local_transport", "discard:optls-interop test instance");
        main.put("alias_maps", "");
        main.put("alias_database", "");
        main.put("biff", "no");
        main.put("smtpd_peername_lookup", "no");
        main.put("smtpd_banner", "$myhostname ESMTP optls-interop");
        main.put("maillog_file", maillog.toString());
        main.put("maillog_file_prefixes", dir.path().toString());
        if (tls.enabled()) {
            Path tlsDir = dir.mkdir("tls");
            Path chainCopy = Peers.copy(chain, tlsDir.resolve("chain.pem"), "rw-r--r--");
            Path keyCopy = Peers.copy(key, tlsDir.resolve("key.pem"), "rw-------");
            main.put("smtpd_tls_chain_files", keyCopy + ", " + chainCopy);
            main.put("smtpd_tls_security_level", tls == PeerTls.REQUIRED ? "encrypt" : "may");
            main.put("smtpd_tls_loglevel", "1");
            main.put("smtpd_tls_received_header", "yes");
        } else {
            main.put("smtpd_tls_security_level", "none");
        }
        main.putAll(extra);
        StringBuilder mainCf = new StringBuilder("# written by optls-interop PostfixServer\n");
        main.forEach((k, v) -> mainCf.append(k).append(" = ").append(v).append('\n'));
        dir.write("conf/main.cf", mainCf.toString());

        StringBuilder masterCf = new StringBuilder("# written by optls-interop PostfixServer; nothing chrooted\n");
        masterCf.append(Peers.LOOPBACK + ":" + port + " inet n - n - - smtpd\n");
        if (tls.enabled()) {
            masterCf.append(Peers.LOOPBACK + ":" + implicitPort + " inet n - n - - smtpd")
                    .append(" -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt\n");
        }
        masterCf.append("""
                pickup    unix  n - n 60    1 pickup
                cleanup   unix  n - n -     0 cleanup
                qmgr      unix  n - n 300   1 qmgr
                tlsmgr    unix  - - n 1000? 1 tlsmgr
                rewrite   unix  - - n -     - trivial-rewrite
                bounce    unix  - - n -     0 bounce
                defer     unix  - - n -     0 bounce
                trace     unix  - - n -     0 bounce
                verify    unix  - - n -     1 verify
                flush     unix  n - n 1000? 0 flush
                proxymap  unix  - - n -     - proxymap
                proxywrite unix - - n -     1 proxymap
                smtp      unix  - - n -     - smtp
                relay     unix  - - n -     - smtp
                showq     unix  n - n -     - showq
                error     unix  - - n -     - error
                retry     unix  - - n -     - error
                discard   unix  - - n -     - discard
                virtual   unix  - n n -     - virtual
                anvil     unix  - - n -     1 anvil
                scache    unix  - - n -     1 scache
                postlog   unix-dgram n - n - 1 postlogd
                """);
        dir.write("conf/master.cf", masterCf.toString());
        // Postfix re-reads a main.cf modified within the last second every 300 ms until it is a second old
        // (a guard against half-written files): back-dating the files saves about 2 s per start.
        backdate(configDirectory.resolve("main.cf"));
        backdate(configDirectory.resolve("master.cf"));
    }

    private static void backdate(Path file) {
        try {
            Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(60)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set the modification time of " + file, e);
        }
    }

    /**
     * Creates the queue layout that {@code postfix check} would create (as in Postfix's postfix-files) and
     * marks it {@code quick-start}, so that {@code postfix start} skips its integrity checks: they take about
     * 2 seconds on a fresh queue, ten times the rest of the start.
     */
    private static void createQueue(Path queue) {
        for (String name : List.of(
                "active",
                "bounce",
                "corrupt",
                "defer",
                "deferred",
                "flush",
                "hold",
                "incoming",
                "private",
                "saved",
                "trace")) {
            queueDir(queue.resolve(name), "postfix", "root", "rwx------");
        }
        queueDir(queue.resolve("maildrop"), "postfix", "postdrop", "rwx-wx---");
        queueDir(queue.resolve("public"), "postfix", "postdrop", "rwx--x---");
        queueDir(queue.resolve("pid"), "root", "root", "rwxr-xr-x");
        try {
            Files.createFile(queue.resolve("quick-start"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot mark " + queue + " quick-start", e);
        }
    }

    private static void queueDir(Path dir, String user, String group, String mode) {
        try {
            Files.createDirectory(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
            Peers.chown(dir, user, group);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create queue directory " + dir, e);
        }
    }

    private void launch() {
        List<String> start = postfix("start");
        if (resolvConf != null) {
            // The master (and every daemon it starts) stays in the new mount namespace; the host's file is untouched.
            start = Peers.withResolvConf(resolvConf, start);
        }
        Peers.CommandResult result = Peers.run(COMMAND_TIMEOUT, null, start);
        if (!result.succeeded()) {
            throw new IllegalStateException(
                    "Postfix did not start (exit " + result.exitCode() + "):\n" + result.output() + diagnostics());
        }
        master = readMasterPid().flatMap(ProcessHandle::of).orElse(null);
        try {
            Peers.awaitPort(host(), port, PORT_TIMEOUT);
            if (implicitPort > 0) {
                Peers.awaitPort(host(), implicitPort, PORT_TIMEOUT);
            }
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + diagnostics(), e);
        }
    }

    /** The maillog, and what {@code postfix check} prints: Postfix shows fatal errors only on a terminal. */
    private String diagnostics() {
        StringBuilder text = new StringBuilder("\n--- maillog ").append(maillog).append(" ---\n");
        text.append(log());
        if (Peers.findCommand("script") != null) {
            Peers.CommandResult check = Peers.run(
                    COMMAND_TIMEOUT,
                    null,
                    List.of("script", "-qec", "postfix -c " + configDirectory + " check", "/dev/null"));
            text.append("--- postfix -c ").append(configDirectory).append(" check (via script) ---\n");
            text.append(check.output());
        }
        return text.toString();
    }

    private List<String> postfix(String command) {
        return List.of("postfix", "-c", configDirectory.toString(), command);
    }

    private Optional<Long> readMasterPid() {
        Path pidFile = dir.resolve("queue/pid/master.pid");
        String text = Peers.readIfExists(pidFile).trim();
        try {
            return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The address smtpd listens on: always {@value Peers#LOOPBACK}. */
    public String host() {
        return Peers.LOOPBACK;
    }

    /** The plaintext SMTP port (STARTTLS offered unless the mode is NONE). */
    public int port() {
        return port;
    }

    /**
     * The implicit-TLS SMTP port ({@code smtpd_tls_wrappermode=yes}, like port 465).
     *
     * @throws IllegalStateException if this instance runs without TLS
     */
    public int implicitPort() {
        if (implicitPort < 0) {
            throw new IllegalStateException("a PeerTls.NONE Postfix has no implicit-TLS port; start it with TLS");
        }
        return implicitPort;
    }

    /** The TLS mode this instance was started with. */
    public PeerTls tls() {
        return tls;
    }

    /** The instance's configuration directory (main.cf, master.cf); {@code postfix -c} takes it. */
    public Path configDirectory() {
        return configDirectory;
    }

    /** The installed Postfix version ({@code postconf -d mail_version}), e.g. {@code 3.7.11}. */
    public static String version() {
        String v = version;
        if (v == null) {
            Peers.requireCommand("postconf");
            String out = Peers.run(Duration.ofSeconds(30), "postconf", "-d", "mail_version")
                    .orThrow()
                    .output()
                    .trim();
            int eq = out.indexOf('=');
            v = eq < 0 ? out : out.substring(eq + 1).trim();
            version = v;
        }
        return v;
    }

    /** The queue listing ({@code postqueue -p}): "Mail queue is empty" or one entry per queued message with its reason. */
    public String queue() {
        return Peers.run(COMMAND_TIMEOUT, null, List.of("postqueue", "-c", configDirectory.toString(), "-p"))
                .output();
    }

    /** Everything this instance has logged so far (its {@code maillog_file}). */
    public String log() {
        return Peers.readIfExists(maillog);
    }

    /**
     * Waits until the log contains {@code text} (postlogd writes asynchronously) and returns the log.
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
                throw new AssertionError("Postfix log has no '" + text + "' after " + timeout + ":\n" + log);
            }
            Peers.sleep(Duration.ofMillis(50));
        }
    }

    /** Stops Postfix ({@code postfix stop}, then kills what is left), and deletes the temporary directory. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            List<ProcessHandle> tree = new ArrayList<>();
            ProcessHandle m = master != null
                    ? master
                    : readMasterPid().flatMap(ProcessHandle::of).orElse(null);
            if (m != null) {
                m.descendants().forEach(tree::add);
                tree.add(m);
            }
            if (Files.exists(configDirectory.resolve("main.cf"))) {
                try {
                    Peers.run(COMMAND_TIMEOUT, null, postfix("stop"));
                } catch (IllegalStateException e) {
                    // Killed below.
                }
            }
            if (!Peers.awaitGone(tree, Duration.ofSeconds(5))) {
                tree.stream().filter(Peers::running).forEach(Peers::killTree);
            }
            Peers.awaitPortClosed(host(), port, Duration.ofSeconds(3));
        } finally {
            dir.close();
            Peers.closed(this);
        }
    }

    @Override
    public String toString() {
        return "PostfixServer[" + tls + ", " + host() + ":" + port
                + (implicitPort > 0 ? ", implicit " + implicitPort : "") + ", " + dir + "]";
    }
}
