package dev.optls.cli;

import dev.optls.core.ClientOptions;
import dev.optls.core.SecurityLevel;
import dev.optls.netty.ClientEngines;
import dev.optls.netty.Transport;
import dev.optls.netty.load.BenchReport;
import dev.optls.netty.load.LoadGenerator;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsConfigException;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import io.netty.handler.ssl.OpenSsl;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code optls bench sessions|bulk|idle URI}: a load generator for STARTTLS servers and gateways. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Load a STARTTLS (or implicit-TLS) server: full sessions per second with latency percentiles,"
                    + " bulk MB/s through an SMTP transaction, or N idle upgraded connections.",
            "Every session is connect, greeting, capability query, upgrade, full TLS handshake, capability"
                    + " query over TLS, close. Progress goes to stderr once a second; the report to stdout.",
            "Point it only at servers you run: it opens connections as fast as the server accepts them."
        },
        subcommands = {
            BenchCommand.Sessions.class,
            BenchCommand.Bulk.class,
            BenchCommand.Idle.class,
            SocketmapBench.class
        },
        footer = "%nExit codes: 0 at least one session/transfer/connection succeeded, 2 usage error,"
                + " 3 nothing succeeded (see the errors in the report)%n")
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The options every bench mode shares. */
    static final class Common {
        @Parameters(index = "0", paramLabel = "URI", description = "e.g. smtp://127.0.0.1:2525 or imaps://[::1]:993")
        String uri;

        @Option(
                names = "--level",
                defaultValue = "encrypt",
                paramLabel = "LEVEL",
                description = "may | encrypt | verify (default: ${DEFAULT-VALUE}: TLS required, certificate"
                        + " not checked)")
        String level;

        @Option(names = "--ca", paramLabel = "FILE", description = "PEM file of trusted CA certificates (verify)")
        Path ca;

        @Option(
                names = "--servername",
                paramLabel = "NAME",
                description = "name checked in the certificate and sent as SNI (default: the URI host)")
        String serverName;

        @Option(
                names = "--threads",
                defaultValue = "1",
                paramLabel = "N",
                description = "event loops of the generator (default: ${DEFAULT-VALUE})")
        int threads;

        @Option(
                names = "--timeout",
                defaultValue = "10s",
                paramLabel = "DURATION",
                description = "limit for connect, each reply and the handshake (default: ${DEFAULT-VALUE})")
        String timeout;

        @Option(
                names = "--engine",
                defaultValue = "auto",
                paramLabel = "ENGINE",
                description = "the generator's TLS engine: boringssl | jdk | auto (default: ${DEFAULT-VALUE}:"
                        + " BoringSSL where it loads; it costs a fraction of the JDK's per handshake)")
        String engine;

        @Option(
                names = "--groups",
                split = ",",
                paramLabel = "GROUP",
                description = "key-exchange groups the generator offers, in order (BoringSSL names: X25519,"
                        + " X25519MLKEM768, P-256...; default: BoringSSL's list). E.g. X25519 to compare with a"
                        + " server whose TLS library has no ML-KEM")
        List<String> groups;

        @Option(names = "--json", description = "print the report as one JSON object")
        boolean json;

        LoadGenerator generator() {
            Target target;
            try {
                target = Target.parse(uri);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            SecurityLevel securityLevel = ProbeCommand.parseLevel(level);
            if (securityLevel == SecurityLevel.NONE) {
                throw new Main.UsageException("--level none measures no TLS: use may, encrypt or verify");
            }
            if (threads < 1) {
                throw new Main.UsageException("--threads must be at least 1");
            }
            TrustAnchors trust;
            try {
                trust = ca == null ? TrustAnchors.jdkDefault() : TrustAnchors.fromPemFile(ca);
            } catch (TlsConfigException e) {
                throw new Main.UsageException(e.getMessage());
            }
            String name = serverName == null ? target.host() : serverName;
            ClientTls tls = ClientTls.create(
                    securityLevel,
                    trust,
                    ReferenceIdentity.forProtocol(target.protocol(), name),
                    target.protocol().alpn(),
                    TlsProfile.modern());
            List<String> offered = groups == null ? List.of() : groups;
            Optional<ClientTls.EngineSource> engines;
            try {
                engines = switch (engine.toLowerCase(Locale.ROOT)) {
                    case "jdk" -> {
                        if (!offered.isEmpty()) {
                            throw new Main.UsageException(
                                    "--groups needs the BoringSSL engine: use --engine boringssl");
                        }
                        yield Optional.empty();
                    }
                    case "auto" ->
                        OpenSsl.isAvailable()
                                ? Optional.of(ClientEngines.boringSsl(
                                        target.protocol().alpn(), TlsProfile.modern(), offered))
                                : Optional.empty();
                    case "boringssl" ->
                        Optional.of(ClientEngines.boringSsl(target.protocol().alpn(), TlsProfile.modern(), offered));
                    default ->
                        throw new Main.UsageException("unknown --engine '" + engine + "': use boringssl, jdk or auto");
                };
            } catch (TlsConfigException e) {
                throw new Main.UsageException(e.getMessage());
            }
            return new LoadGenerator(
                    new LoadGenerator.Endpoint(
                            target.uri(), target.protocol(), target.implicitTls(), target.host(), target.port()),
                    ClientOptions.of(securityLevel).withHelloName("localhost"),
                    tls,
                    engines,
                    Transport.best(),
                    threads,
                    duration("--timeout", timeout));
        }

        int print(CommandLine.Model.CommandSpec spec, BenchReport report) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(json ? report.json() + System.lineSeparator() : report.text());
            out.flush();
            return report.completed() > 0 ? ExitCodes.OK : ExitCodes.CONNECT_FAILED;
        }

        PrintWriter err(CommandLine.Model.CommandSpec spec) {
            return spec.commandLine().getErr();
        }
    }

    /** {@code optls bench sessions}. */
    @Command(
            name = "sessions",
            mixinStandardHelpOptions = true,
            description = "Full STARTTLS sessions, N in flight, for a duration: sessions/s and the latency from"
                    + " connect to the capability reply over TLS (p50/p90/p99/max), errors by kind."
                    + " Implicit-TLS schemes (smtps, imaps...) handshake first.")
    static final class Sessions implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Common common;

        @Option(
                names = "--concurrency",
                defaultValue = "8",
                paramLabel = "N",
                description = "sessions in flight (default: ${DEFAULT-VALUE})")
        int concurrency;

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
                description = "sessions run first and not counted, so that this JVM's compiler has done its"
                        + " work before the measurement (default: ${DEFAULT-VALUE})")
        String warmup;

        @Override
        public Integer call() throws InterruptedException {
            Duration d = duration("--duration", duration);
            Duration w = warmup.trim().matches("0+(ms|s|m|h)?") ? Duration.ZERO : duration("--warmup", warmup);
            if (concurrency < 1) {
                throw new Main.UsageException("--concurrency must be at least 1");
            }
            try (LoadGenerator g = common.generator()) {
                PrintWriter err = common.err(spec);
                if (!w.isZero()) {
                    g.sessions(concurrency, w, line -> progress(err, "warm-up: " + line));
                }
                return common.print(spec, g.sessions(concurrency, d, line -> progress(err, line)));
            }
        }
    }

    /** {@code optls bench bulk}. */
    @Command(
            name = "bulk",
            mixinStandardHelpOptions = true,
            description = "SMTP only: one mail transaction of --size bytes (1000-byte lines) per connection over"
                    + " TLS; MB/s from the first payload byte to the server's reply to the final dot.")
    static final class Bulk implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Common common;

        @Option(
                names = "--size",
                defaultValue = "100MB",
                paramLabel = "SIZE",
                description = "e.g. 100MB, 1GB, 64KiB (default: ${DEFAULT-VALUE})")
        String size;

        @Option(
                names = "--concurrency",
                defaultValue = "1",
                paramLabel = "N",
                description = "parallel transfers (default: ${DEFAULT-VALUE})")
        int concurrency;

        @Override
        public Integer call() throws InterruptedException {
            long bytes = bytes(size);
            if (concurrency < 1) {
                throw new Main.UsageException("--concurrency must be at least 1");
            }
            try (LoadGenerator g = common.generator()) {
                PrintWriter err = common.err(spec);
                return common.print(spec, g.bulk(bytes, concurrency, line -> progress(err, line)));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
        }
    }

    /** {@code optls bench idle}. */
    @Command(
            name = "idle",
            mixinStandardHelpOptions = true,
            description = {
                "Open N upgraded sessions, hold them open for --hold, close them; report how many were held."
                        + " Prints 'holding N upgraded connections' on stderr once all are set up.",
                "Each connection needs a file descriptor here (and two in a gateway): raise 'ulimit -n'"
                        + " above N first."
            })
    static final class Idle implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Common common;

        @Option(
                names = "--connections",
                defaultValue = "1000",
                paramLabel = "N",
                description = "connections (default: ${DEFAULT-VALUE})")
        int connections;

        @Option(
                names = "--parallel",
                defaultValue = "32",
                paramLabel = "N",
                description = "sessions being set up at a time (default: ${DEFAULT-VALUE})")
        int parallel;

        @Option(
                names = "--hold",
                defaultValue = "30s",
                paramLabel = "DURATION",
                description = "how long to hold (default: ${DEFAULT-VALUE})")
        String hold;

        @Override
        public Integer call() throws InterruptedException {
            Duration h = duration("--hold", hold);
            if (connections < 1 || parallel < 1) {
                throw new Main.UsageException("--connections and --parallel must be at least 1");
            }
            try (LoadGenerator g = common.generator()) {
                PrintWriter err = common.err(spec);
                return common.print(spec, g.idle(connections, parallel, h, line -> progress(err, line)));
            }
        }
    }

    private static void progress(PrintWriter err, String line) {
        synchronized (err) {
            err.println("bench: " + line);
            err.flush();
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|MB|GB|KIB|MIB|GIB)?");

    /** {@code 500ms}, {@code 20s} (the default unit), {@code 2m}, {@code 1h}. */
    static Duration duration(String option, String text) {
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new Main.UsageException(
                    option + " '" + text + "' is not a positive duration: write e.g. 500ms, 20s, 2m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }

    /** {@code 100MB} (10<sup>6</sup>), {@code 64KiB} (2<sup>10</sup>), {@code 1GB}; plain digits are bytes. */
    static long bytes(String text) {
        Matcher m = SIZE.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new Main.UsageException("--size '" + text + "' is not a positive size: write e.g. 100MB, 1GB, 64KiB");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2);
        long factor = switch (unit) {
            case "KB" -> 1_000L;
            case "MB" -> 1_000_000L;
            case "GB" -> 1_000_000_000L;
            case "KIB" -> 1L << 10;
            case "MIB" -> 1L << 20;
            case "GIB" -> 1L << 30;
            default -> 1L;
        };
        return Math.multiplyExact(n, factor);
    }
}
