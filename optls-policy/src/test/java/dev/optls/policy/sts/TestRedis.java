package dev.optls.policy.sts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Debian {@code redis-server} on a loopback ephemeral port, started from a temporary directory with no
 * persistence ({@code --save '' --appendonly no}) and a password. Skips the test when redis-server is not installed
 * (fails it under {@code CI=true}, where scripts/install-peers.sh must have installed it).
 */
final class TestRedis implements AutoCloseable {

    static final String HOST = "127.0.0.1";
    static final String PASSWORD = "optls-test-secret";

    private static final List<Path> SEARCH_DIRS =
            List.of(Path.of("/usr/local/bin"), Path.of("/usr/bin"), Path.of("/usr/sbin"));

    private final Path dir;
    private final Process process;
    private final int port;

    private TestRedis(Path dir, Process process, int port) {
        this.dir = dir;
        this.process = process;
        this.port = port;
    }

    /** Starts redis-server; skips (fails under CI=true) when it is not installed. */
    static TestRedis start() throws IOException, InterruptedException {
        Path server = requireRedisServer();
        Path dir = Files.createTempDirectory("optls-redis-");
        int port = freePort();
        Path log = dir.resolve("redis.log");
        Process process = new ProcessBuilder(
                        server.toString(),
                        "--port",
                        Integer.toString(port),
                        "--bind",
                        HOST,
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        dir.toString(),
                        "--requirepass",
                        PASSWORD,
                        "--daemonize",
                        "no")
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String output = Files.readString(log, StandardCharsets.UTF_8);
                delete(dir);
                throw new IllegalStateException("redis-server exited with " + process.exitValue() + ":\n" + output);
            }
            if (accepts(port)) {
                return new TestRedis(dir, process, port);
            }
            Thread.sleep(50);
        }
        process.destroyForcibly();
        throw new IllegalStateException(
                "redis-server did not start within 20 s:\n" + Files.readString(log, StandardCharsets.UTF_8));
    }

    int port() {
        return port;
    }

    /** Settings for this server: its port, the password, the given database. */
    RedisSettings settings(int database) {
        return RedisSettings.of(HOST, port).withPassword(PASSWORD).withDatabase(database);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        delete(dir);
    }

    private static Path requireRedisServer() {
        for (Path d : SEARCH_DIRS) {
            Path candidate = d.resolve("redis-server");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        String message = "command 'redis-server' is missing: install the Debian package 'redis-server'"
                + " (apt-get install redis-server), or run scripts/install-peers.sh";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(message + " [CI=true: test peers must be installed on CI]");
        }
        Assumptions.abort(message);
        throw new AssertionError("unreachable");
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A loopback TCP port nothing listens on at the moment. */
    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind a port on " + HOST, e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Best effort: a temporary directory left behind is harmless.
        }
    }
}
