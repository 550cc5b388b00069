package dev.optls.interop.policy;

import dev.optls.interop.peers.Peers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * {@code optls policy serve} as an operator runs it — a separate JVM on this test's class path — pointed at a {@link
 * MailPolicyWorld}'s validating resolver and MTA-STS servers, logging one line per answer.
 */
final class PolicyServeProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final List<String> log;

    private PolicyServeProcess(Process process, int port, List<String> log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts the service on a free loopback port with the MTA-STS cache {@code mtaStsCache} ({@code memory}, {@code
     * sqlite:PATH}) and the further options {@code extra}, and waits until it listens.
     */
    static PolicyServeProcess start(MailPolicyWorld world, String mtaStsCache, String... extra) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.optls.cli.Main",
                "policy",
                "serve",
                "--listen",
                Peers.LOOPBACK + ":0",
                "--dns",
                world.resolver().getAddress().getHostAddress() + ":"
                        + world.resolver().getPort(),
                "--dns-trust-ad",
                "--dns-timeout",
                "5",
                "--mta-sts-ca",
                world.caPem().toString(),
                "--mta-sts-cache",
                mtaStsCache,
                "--log-level",
                "debug"));
        // With the world's server on 443, the service resolves mta-sts.<domain> through the world's resolver and
        // connects to port 443 as in production; otherwise the policies come from the world's per-domain HTTPS
        // servers (the test hook connects by port).
        if (!world.servesPoliciesOn443()) {
            world.httpsPorts()
                    .forEach((host, port) -> command.addAll(List.of("--testing-mta-sts-port", host + "=" + port)));
        }
        command.addAll(List.of(extra));
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start optls policy serve: " + command, e);
        }
        List<String> out = new CopyOnWriteArrayList<>();
        List<String> log = new CopyOnWriteArrayList<>();
        pump(process.getInputStream(), out);
        pump(process.getErrorStream(), log);
        String listening = await(out, "listening: socketmap on ");
        return new PolicyServeProcess(process, Integer.parseInt(listening.replaceAll(".*:(\\d+) maps .*", "$1")), log);
    }

    /** The port it listens on (127.0.0.1). */
    int port() {
        return port;
    }

    /** What it logged so far (stderr). */
    List<String> log() {
        return log;
    }

    /** The first log line containing {@code text}, waiting up to 60 seconds for it. */
    String awaitLog(String text) {
        return await(log, text);
    }

    /** SIGTERM, as an operator stops it. */
    @Override
    public void close() {
        stop(process);
    }

    /** Stops {@code p} with SIGTERM, then by force if it has not ended within 15 seconds. */
    static void stop(Process p) {
        try {
            // kill(1): Process.destroy() may send nothing in containers (see GatewaySignalsTest).
            new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            p.destroyForcibly();
        }
    }

    private static void pump(InputStream in, List<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // The process ended.
            }
        });
        t.setDaemon(true);
        t.start();
    }

    private static String await(List<String> lines, String text) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                if (line.contains(text)) {
                    return line;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
        throw new AssertionError("no line with '" + text + "' in " + lines);
    }
}
