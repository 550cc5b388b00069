package dev.optls.interop.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Utilities for starting real daemons on loopback in tests: free ports, waiting for a listener, running a
 * command with a timeout, per-peer temporary directories and "is this peer installed?" checks.
 */
public final class Peers {

    /** The only address a peer may listen on or a test may connect to. */
    public static final String LOOPBACK = "127.0.0.1";

    /**
     * A second loopback address to connect <em>from</em>. Dovecot treats a connection whose remote IP equals its
     * local IP (127.0.0.1 to 127.0.0.1) as secured: it allows plaintext login and never says
     * {@code LOGINDISABLED}. A client bound to this address looks like an ordinary untrusted client.
     */
    public static final String OTHER_LOOPBACK = "127.0.0.2";

    /** Set this system property to {@code true} to keep the peers' temporary directories for debugging. */
    public static final String KEEP_PROPERTY = "optls.interop.keep";

    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private static final Set<AutoCloseable> LIVE = new LinkedHashSet<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Peers::closeLeftovers, "optls-interop-peer-cleanup"));
    }

    private static final List<Path> SEARCH_DIRS = List.of(
            Path.of("/usr/local/sbin"),
            Path.of("/usr/local/bin"),
            Path.of("/usr/sbin"),
            Path.of("/usr/bin"),
            Path.of("/sbin"),
            Path.of("/bin"));

    private Peers() {}

    /** The output and exit code of a finished command; {@code output} is stdout and stderr merged. */
    public record CommandResult(List<String> command, int exitCode, String output) {
        /** Whether the command exited with status 0. */
        public boolean succeeded() {
            return exitCode == 0;
        }

        /** Returns this result, or throws an {@link IllegalStateException} showing the output if it failed. */
        public CommandResult orThrow() {
            if (!succeeded()) {
                throw new IllegalStateException(
                        "command " + String.join(" ", command) + " exited with " + exitCode + ":\n" + output);
            }
            return this;
        }
    }

    /** A PEM certificate chain file (leaf first) and the PEM private key file that goes with it. */
    public record PemFiles(Path chain, Path key) {}

    /**
     * Returns a TCP port on 127.0.0.1 that was free a moment ago and has not been handed out before in this
     * JVM.
     */
    public static synchronized int freePort() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(false);
                socket.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0));
                int port = socket.getLocalPort();
                if (port >= 1024 && HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind a free port on " + LOOPBACK, e);
            }
        }
        throw new IllegalStateException("no fresh free port on " + LOOPBACK + " after 50 attempts");
    }

    /** Whether something accepts TCP connections on {@code host:port} right now. */
    public static boolean accepts(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Waits until {@code host:port} accepts TCP connections.
     *
     * @throws IllegalStateException if it does not within {@code timeout}
     */
    public static void awaitPort(String host, int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!accepts(host, port)) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(
                        "nothing accepts connections on " + host + ":" + port + " after " + timeout);
            }
            sleep(Duration.ofMillis(50));
        }
    }

    /** Waits until nothing accepts TCP connections on {@code host:port} any more; returns whether it stopped. */
    public static boolean awaitPortClosed(String host, int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (accepts(host, port)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            sleep(Duration.ofMillis(50));
        }
        return true;
    }

    /** Runs {@code command} with stdin closed; see {@link #run(Duration, String, List)}. */
    public static CommandResult run(Duration timeout, String... command) {
        return run(timeout, null, List.of(command));
    }

    /**
     * Runs {@code command}, writes {@code stdin} (if not null) to it and closes its input, and waits for it to
     * exit, capturing stdout and stderr merged.
     *
     * @throws IllegalStateException if it does not exit within {@code timeout} (it is killed, with its
     *     descendants), or cannot be started
     */
    public static CommandResult run(Duration timeout, String stdin, List<String> command) {
        // Output goes to a file, not a pipe: a daemon the command starts inherits it and would hold a pipe open.
        Path output;
        try {
            output = Files.createTempFile("optls-command-", ".out");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary file for command output", e);
        }
        try {
            Process process;
            try {
                process = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(output.toFile())
                        .start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
            }
            try (var in = process.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // The command may exit without reading its input (e.g. openssl s_client on a refused connection).
            }
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    killTree(process.toHandle());
                    throw new IllegalStateException("command " + String.join(" ", command) + " did not finish within "
                            + timeout + "; killed it. Output so far:\n" + readIfExists(output));
                }
            } catch (InterruptedException e) {
                killTree(process.toHandle());
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
            }
            return new CommandResult(List.copyOf(command), process.exitValue(), readIfExists(output));
        } finally {
            try {
                Files.deleteIfExists(output);
            } catch (IOException e) {
                // A leftover file in the temporary directory is harmless.
            }
        }
    }

    /**
     * Kills a process and all its descendants: SIGTERM first, SIGKILL to whatever is still running after 3
     * seconds. Returns as soon as all of them are gone.
     */
    public static void killTree(ProcessHandle root) {
        killTree(root, Duration.ofSeconds(3));
    }

    /**
     * Kills a process and all its descendants: SIGTERM first, SIGKILL to whatever is still running after
     * {@code grace}. Returns as soon as all of them are gone.
     */
    public static void killTree(ProcessHandle root, Duration grace) {
        List<ProcessHandle> all = new ArrayList<>();
        root.descendants().forEach(all::add);
        all.add(root);
        all.forEach(ProcessHandle::destroy);
        if (!awaitGone(all, grace)) {
            all.stream().filter(Peers::running).forEach(ProcessHandle::destroyForcibly);
            awaitGone(all, Duration.ofSeconds(2));
        }
    }

    /** Sends SIGKILL to the process group {@code pgid} (a process started with {@code setsid}); best effort. */
    public static void killProcessGroup(long pgid) {
        try {
            run(Duration.ofSeconds(10), null, List.of("kill", "-s", "KILL", "--", "-" + pgid));
        } catch (IllegalStateException e) {
            // The group may be gone already; callers kill the known processes individually as well.
        }
    }

    /** Waits until none of {@code processes} is {@linkplain #running(ProcessHandle) running}. */
    public static boolean awaitGone(List<ProcessHandle> processes, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (processes.stream().anyMatch(Peers::running)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            sleep(Duration.ofMillis(20));
        }
        return true;
    }

    /**
     * Whether a process still runs. Unlike {@link ProcessHandle#isAlive()} a zombie counts as gone: daemons'
     * children are re-parented to PID 1 when they exit after their master, and in containers PID 1 may never
     * reap them.
     */
    public static boolean running(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
            int close = stat.lastIndexOf(')');
            char state = close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Creates a fresh temporary directory for one peer, readable (not writable) by other users so that a daemon
     * dropping privileges can reach the files below it. Deleted by {@link PeerDirectory#close()}.
     */
    public static PeerDirectory tempDir(String prefix) {
        try {
            Path dir = Files.createTempDirectory("optls-" + prefix + "-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return new PeerDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for " + prefix, e);
        }
    }

    /** A peer's temporary directory; {@link #close()} deletes it recursively (unless {@value #KEEP_PROPERTY}). */
    public static final class PeerDirectory implements AutoCloseable {
        private final Path path;

        private PeerDirectory(Path path) {
            this.path = path;
        }

        /** The directory. */
        public Path path() {
            return path;
        }

        /** {@code path().resolve(other)}. */
        public Path resolve(String other) {
            return path.resolve(other);
        }

        /** Creates (with parents) the sub directory {@code name} with mode 755 and returns it. */
        public Path mkdir(String name) {
            try {
                Path dir = Files.createDirectories(path.resolve(name));
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                return dir;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + path.resolve(name), e);
            }
        }

        /** Writes {@code content} to {@code name} with mode 644 and returns the file. */
        public Path write(String name, String content) {
            try {
                Path file = path.resolve(name);
                Files.createDirectories(file.getParent());
                Files.writeString(file, content, StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
                return file;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + path.resolve(name), e);
            }
        }

        /** Deletes the directory and everything below it; retries briefly while daemons finish writing. */
        @Override
        public void close() {
            if (Boolean.getBoolean(KEEP_PROPERTY)) {
                System.err.println("optls-interop: keeping " + path + " (-D" + KEEP_PROPERTY + "=true)");
                return;
            }
            for (int attempt = 0; attempt < 5 && Files.exists(path); attempt++) {
                try (Stream<Path> walk = Files.walk(path)) {
                    walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                        try {
                            Files.deleteIfExists(p);
                        } catch (IOException e) {
                            // A daemon may still be writing: the next attempt removes it.
                        }
                    });
                } catch (IOException | UncheckedIOException e) {
                    // Entries vanished while walking: try again.
                }
                if (Files.exists(path)) {
                    sleep(Duration.ofMillis(100));
                }
            }
        }

        @Override
        public String toString() {
            return path.toString();
        }
    }

    /**
     * Requires {@code command} to be installed (on the PATH or in an sbin directory) and returns its path. If
     * it is missing, the test fails under {@code CI=true} and is skipped otherwise, with a message naming the
     * Debian package to install.
     */
    public static Path requireCommand(String command) {
        return requireCommand(command, debianPackageOf(command));
    }

    /** Like {@link #requireCommand(String)} with an explicit Debian package name for the message. */
    public static Path requireCommand(String command, String debianPackage) {
        Path found = findCommand(command);
        require(found != null, "command '" + command + "'", debianPackage);
        return found;
    }

    /**
     * Requires {@code condition}: if false, the test fails under {@code CI=true} and is skipped otherwise, with
     * a message saying that {@code what} is missing and comes from the Debian package {@code debianPackage}.
     */
    public static void require(boolean condition, String what, String debianPackage) {
        require(condition, what, debianPackage, onCi());
    }

    static void require(boolean condition, String what, String debianPackage, boolean ci) {
        if (condition) {
            return;
        }
        String message = what + " is missing: install the Debian package '" + debianPackage + "' (apt-get install "
                + debianPackage + "), or run scripts/install-peers.sh";
        if (ci) {
            throw new AssertionError(message + " [CI=true: interop peers must be installed on CI]");
        }
        Assumptions.abort(message);
    }

    /**
     * Requires the JVM to run as root (daemons such as Postfix's master must start as root and drop
     * privileges); fails under {@code CI=true}, skips otherwise.
     */
    public static void requireRoot() {
        boolean root = "root".equals(System.getProperty("user.name"));
        String message = "starting real daemons needs root (they drop privileges themselves); run the interop"
                + " tests as root, e.g. in a container";
        if (root) {
            return;
        }
        if (onCi()) {
            throw new AssertionError(message + " [CI=true]");
        }
        Assumptions.abort(message);
    }

    /** Whether the environment says we run on CI ({@code CI=true}), where missing peers are failures. */
    public static boolean onCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** The path of {@code command} on the PATH or in the usual sbin/bin directories, or null. */
    public static Path findCommand(String command) {
        List<Path> dirs = new ArrayList<>();
        String pathEnv = System.getenv("PATH");
        if (pathEnv != null) {
            Arrays.stream(pathEnv.split(":"))
                    .filter(s -> !s.isEmpty())
                    .map(Path::of)
                    .forEach(dirs::add);
        }
        dirs.addAll(SEARCH_DIRS);
        for (Path dir : dirs) {
            Path candidate = dir.resolve(command);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** The Debian package that provides {@code command}, as installed by scripts/install-peers.sh. */
    static String debianPackageOf(String command) {
        return switch (command) {
            case "postfix", "postconf", "postqueue", "sendmail" -> "postfix";
            case "dovecot", "doveconf", "doveadm" -> "dovecot-core";
            case "openssl" -> "openssl";
            case "swaks" -> "swaks";
            case "curl" -> "curl";
            case "python3" -> "python3";
            default -> command;
        };
    }

    /**
     * Creates a self-signed P-256 certificate for {@code localhost} (valid 2 days) with openssl in {@code dir}
     * as {@code cert.pem} and {@code key.pem}. For smoke tests; real tests use the test PKI.
     */
    public static PemFiles selfSignedLocalhost(Path dir) {
        requireCommand("openssl");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        run(
                        Duration.ofSeconds(30),
                        null,
                        List.of(
                                "openssl",
                                "req",
                                "-x509",
                                "-newkey",
                                "ec",
                                "-pkeyopt",
                                "ec_paramgen_curve:P-256",
                                "-nodes",
                                "-subj",
                                "/CN=localhost",
                                "-addext",
                                "subjectAltName=DNS:localhost",
                                "-days",
                                "2",
                                "-keyout",
                                key.toString(),
                                "-out",
                                cert.toString()))
                .orThrow();
        return new PemFiles(cert, key);
    }

    /** Reads a file as UTF-8 (malformed bytes replaced), or returns "" if it does not exist. */
    public static String readIfExists(Path file) {
        try {
            return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /** Registers a started peer so that it is closed when the JVM exits, should a test forget to. */
    static synchronized void closeAtExit(AutoCloseable peer) {
        LIVE.add(peer);
    }

    /**
     * {@code command} run in a private mount namespace where {@code resolvConf} is bind-mounted over /etc/resolv.conf
     * (needs root): the peer and everything it starts resolve through the test's DNS, and the host's file is untouched.
     */
    public static List<String> withResolvConf(Path resolvConf, List<String> command) {
        List<String> wrapped = new ArrayList<>(List.of(
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                "mount --bind \"$1\" /etc/resolv.conf && shift && exec \"$@\"",
                "sh",
                resolvConf.toString()));
        wrapped.addAll(command);
        return List.copyOf(wrapped);
    }

    /**
     * Closes each of {@code peers} that is not null, in order, going on after a failure (printed): for a test's
     * {@code @AfterAll}, where one peer that fails to stop must not leave the others running.
     */
    public static void closeAll(AutoCloseable... peers) {
        for (AutoCloseable c : peers) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("cannot close " + c + ": " + e);
                }
            }
        }
    }

    /** Forgets a peer registered with {@link #closeAtExit(AutoCloseable)}, once it is closed. */
    static synchronized void closed(AutoCloseable peer) {
        LIVE.remove(peer);
    }

    private static void closeLeftovers() {
        List<AutoCloseable> left;
        synchronized (Peers.class) {
            left = new ArrayList<>(LIVE);
        }
        for (AutoCloseable peer : left) {
            try {
                peer.close();
            } catch (Exception e) {
                System.err.println("optls-interop: cannot close " + peer + " at exit: " + e);
            }
        }
    }

    static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Copies {@code from} to {@code to} with POSIX {@code mode} (e.g. {@code rw-------}). */
    static Path copy(Path from, Path to, String mode) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString(mode));
            return to;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
        }
    }

    /** Gives {@code path} to the system user {@code user}. */
    static void chown(Path path, String user) {
        try {
            UserPrincipal owner =
                    path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
            Files.setOwner(path, owner);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot give " + path + " to user " + user, e);
        }
    }

    /** Gives {@code path} to the system user {@code user} and group {@code group}. */
    static void chown(Path path, String user, String group) {
        chown(path, user);
        try {
            GroupPrincipal owner =
                    path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
            Files.getFileAttributeView(path, PosixFileAttributeView.class).setGroup(owner);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot give " + path + " to group " + group, e);
        }
    }
}
