package dev.optls.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.optls.netty.load.LatencyHistogram;
import dev.optls.policy.postfix.Netstrings;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code optls bench socketmap}: queries per second and latency of a Postfix socketmap service (optls policy
 * serve, postfix-mta-sts-resolver, any other), the way Postfix asks: one persistent connection per client, one
 * netstring request {@code "name key"} at a time (socketmap_table(5)).
 */
@Command(
        name = "socketmap",
        mixinStandardHelpOptions = true,
        description = {
            "Load a Postfix socketmap service (socketmap_table(5)) the way Postfix's smtp processes do: N persistent"
                    + " connections, each sending one netstring request 'NAME KEY' and waiting for the reply.",
            "Reports queries/s, latency (p50/p90/p99/max) and the replies by kind (OK, NOTFOUND, TEMP, TIMEOUT,"
                    + " PERM). Point it only at services you run."
        })
final class SocketmapBench implements Callable<Integer> {

    /** The longest reply read (Postfix's own limit for socketmap replies is 100000 bytes). */
    static final int MAX_REPLY = Netstrings.POSTFIX_MAX_REPLY;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ADDRESS:PORT", description = "e.g. 127.0.0.1:8461")
    String address;

    @Option(
            names = "--name",
            defaultValue = "postfix",
            paramLabel = "NAME",
            description = "the map name sent before each key (default: ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--keys", split = ",", paramLabel = "KEY", description = "keys (domains) to ask for, in turn")
    List<String> keys = new ArrayList<>();

    @Option(names = "--keys-file", paramLabel = "FILE", description = "a file with one key per line, asked for in turn")
    Path keysFile;

    @Option(
            names = "--connections",
            defaultValue = "8",
            paramLabel = "N",
            description = "persistent connections, one request in flight on each (default: ${DEFAULT-VALUE})")
    int connections;

    @Option(
            names = "--duration",
            defaultValue = "20s",
            paramLabel = "DURATION",
            description = "e.g. 20s, 2m (default: ${DEFAULT-VALUE})")
    String duration;

    @Option(
            names = "--warmup",
            defaultValue = "0s",
            paramLabel = "DURATION",
            description = "queries sent first and not counted (default: ${DEFAULT-VALUE})")
    String warmup;

    @Option(
            names = "--timeout",
            defaultValue = "10s",
            paramLabel = "DURATION",
            description = "limit for connect and each reply (default: ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--json", description = "print the report as one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress target = parseTarget(address);
        List<String> all = new ArrayList<>(keys);
        if (keysFile != null) {
            try {
                Files.readAllLines(keysFile, StandardCharsets.UTF_8).stream()
                        .map(String::trim)
                        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                        .forEach(all::add);
            } catch (IOException e) {
                throw new Main.UsageException("--keys-file " + keysFile + ": " + e.getMessage());
            }
        }
        if (all.isEmpty()) {
            throw new Main.UsageException("nothing to ask: give --keys a.example,b.example or --keys-file FILE");
        }
        for (String key : all) {
            if (key.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
                throw new Main.UsageException("key '" + key + "' has spaces or control characters");
            }
        }
        if (connections < 1 || connections > 1000) {
            throw new Main.UsageException("--connections must be 1..1000");
        }
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new Main.UsageException("--name '" + name + "' must be letters, digits, '_', '.' or '-'");
        }
        Duration d = BenchCommand.duration("--duration", duration);
        Duration t = BenchCommand.duration("--timeout", timeout);
        Duration w = warmup.trim().matches("0+(ms|s|m|h)?") ? Duration.ZERO : BenchCommand.duration("--warmup", warmup);
        PrintWriter err = spec.commandLine().getErr();
        if (!w.isZero()) {
            run(target, all, w, t, line -> progress(err, "warm-up: " + line));
        }
        Run result = run(target, all, d, t, line -> progress(err, line));
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? result.json(target) : result.text(target));
        out.flush();
        return result.queries() > 0 ? 0 : 3;
    }

    private Run run(
            InetSocketAddress target,
            List<String> all,
            Duration d,
            Duration t,
            java.util.function.Consumer<String> progress)
            throws InterruptedException {
        LatencyHistogram latency = new LatencyHistogram();
        Map<String, LongAdder> replies = new ConcurrentHashMap<>();
        Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        AtomicLong next = new AtomicLong();
        long start = System.nanoTime();
        long end = start + d.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Thread thread = new Thread(
                    () -> client(target, all, next, end, (int) t.toMillis(), latency, replies, errors),
                    "socketmap-bench-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
        long lastCount = 0;
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(1000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            long count = latency.count();
            progress.accept((count - lastCount) + " queries in the last second, " + count + " in all, "
                    + errors.values().stream().mapToLong(LongAdder::sum).sum() + " errors");
            lastCount = count;
        }
        for (Thread thread : threads) {
            thread.join(t.toMillis() + 1000);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Run(latency.summary(), seconds, snapshot(replies), snapshot(errors));
    }

    private void client(
            InetSocketAddress target,
            List<String> all,
            AtomicLong next,
            long end,
            int timeoutMillis,
            LatencyHistogram latency,
            Map<String, LongAdder> replies,
            Map<String, LongAdder> errors) {
        while (System.nanoTime() < end) {
            try (Socket socket = new Socket()) {
                socket.connect(target, timeoutMillis);
                socket.setSoTimeout(timeoutMillis);
                socket.setTcpNoDelay(true);
                OutputStream out = socket.getOutputStream();
                InputStream in = new BufferedInputStream(socket.getInputStream());
                while (System.nanoTime() < end) {
                    String key = all.get((int) (next.getAndIncrement() % all.size()));
                    byte[] request = Netstrings.encode(name + " " + key);
                    long t0 = System.nanoTime();
                    out.write(request);
                    out.flush();
                    String reply = new String(Netstrings.readRequired(in, MAX_REPLY), StandardCharsets.UTF_8);
                    latency.record((System.nanoTime() - t0) / 1000);
                    int space = reply.indexOf(' ');
                    String kind = space < 0 ? reply : reply.substring(0, space);
                    replies.computeIfAbsent(kind, k -> new LongAdder()).increment();
                }
            } catch (IOException | RuntimeException e) {
                String kind = e.getClass().getSimpleName() + ": " + e.getMessage();
                errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
                if (System.nanoTime() < end) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    static InetSocketAddress parseTarget(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new Main.UsageException("'" + text + "' is not ADDRESS:PORT, e.g. 127.0.0.1:8461");
        }
        String host = text.substring(0, colon).replace("[", "").replace("]", "");
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(host, port);
        } catch (NumberFormatException e) {
            throw new Main.UsageException("'" + text + "': the port must be 1..65535");
        }
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> counters) {
        Map<String, Long> copy = new TreeMap<>();
        counters.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    private static void progress(PrintWriter err, String line) {
        synchronized (err) {
            err.println("bench: " + line);
            err.flush();
        }
    }

    private record Run(
            LatencyHistogram.Latency latency, double seconds, Map<String, Long> replies, Map<String, Long> errors) {
        long queries() {
            return latency.count();
        }

        double perSecond() {
            return seconds > 0 ? queries() / seconds : 0;
        }

        String text(InetSocketAddress target) {
            StringBuilder b = new StringBuilder();
            b.append(String.format(
                    Locale.ROOT,
                    "socketmap %s: %d queries in %.1f s = %.0f/s%n",
                    target,
                    queries(),
                    seconds,
                    perSecond()));
            b.append(String.format(
                    Locale.ROOT,
                    "latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f%n",
                    latency.p50() / 1000.0,
                    latency.p90() / 1000.0,
                    latency.p99() / 1000.0,
                    latency.max() / 1000.0));
            b.append("replies: ").append(replies.isEmpty() ? "none" : replies).append(System.lineSeparator());
            b.append("errors: ").append(errors.isEmpty() ? "none" : errors);
            return b.toString();
        }

        String json(InetSocketAddress target) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode root = mapper.createObjectNode();
            root.put("target", target.toString());
            root.put("queries", queries());
            root.put("seconds", seconds);
            root.put("perSecond", perSecond());
            ObjectNode lat = root.putObject("latencyMicros");
            lat.put("p50", latency.p50());
            lat.put("p90", latency.p90());
            lat.put("p99", latency.p99());
            lat.put("max", latency.max());
            lat.put("mean", latency.mean());
            ObjectNode r = root.putObject("replies");
            replies.forEach(r::put);
            ObjectNode e = root.putObject("errors");
            errors.forEach(e::put);
            return root.toString();
        }
    }
}
