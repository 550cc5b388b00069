package dev.optls.cli;

import dev.optls.policy.postfix.PolicyService;
import dev.optls.policy.postfix.PostfixPolicy;
import dev.optls.policy.postfix.SocketmapReply;
import dev.optls.policy.postfix.SocketmapServer;
import dev.optls.policy.sts.RefreshListener;
import dev.optls.policy.sts.RefreshRun;
import dev.optls.policy.sts.RefreshSchedule;
import dev.optls.policy.sts.StsRefresh;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code optls policy serve}: the TLS policy service for Postfix's {@code smtp_tls_policy_maps} (socketmap). */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Answer Postfix's smtp_tls_policy_maps over the socketmap protocol, per next-hop domain: dane-only or"
                    + " dane when DANE applies (DANE ranks above MTA-STS), 'secure match=… servername=hostname' for an"
                    + " MTA-STS policy in enforce mode, encrypt/secure for local rules, NOTFOUND otherwise (Postfix"
                    + " then uses its smtp_tls_security_level), TEMP when the policy cannot be decided or no MX host"
                    + " may be used (Postfix defers the mail).",
            "",
            "main.cf:",
            "  smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8462:postfix",
            "  smtp_dns_support_level = dnssec   # Postfix does DANE itself",
            "  smtp_tls_security_level = may     # for NOTFOUND answers (or dane)",
            "",
            "Logs go to stderr: one line per answer with --log-level debug, a summary every --summary-interval"
                    + " at info. SIGTERM or SIGINT: stop accepting, finish the answers in progress, exit 0."
        },
        footer = ExitCodes.HELP)
final class PolicyServeCommand implements Callable<Integer> {

    /** The default listen address: next to postfix-mta-sts-resolver's 8461, so both can run side by side. */
    static final String DEFAULT_LISTEN = "127.0.0.1:8462";

    /** The default SQLite file of the MTA-STS cache. */
    static final String DEFAULT_SQLITE = "/var/lib/optls/mta-sts.sqlite";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @Mixin
    PolicyEngineOptions engineOptions = new PolicyEngineOptions();

    @Option(
            names = "--listen",
            paramLabel = "ADDRESS:PORT",
            defaultValue = DEFAULT_LISTEN,
            description = "address to listen on (default: ${DEFAULT-VALUE}); port 0 picks a free one")
    String listen;

    @Option(
            names = "--map-name",
            paramLabel = "NAME",
            description = "socketmap name answered (the last field of socketmap:inet:HOST:PORT:NAME), repeatable"
                    + " (default: postfix)")
    List<String> mapNames = new ArrayList<>();

    @Option(
            names = "--tlsrpt-attributes",
            description = "add Postfix 3.10's TLSRPT attributes to MTA-STS answers (policy_type=sts, policy_domain,"
                    + " policy_ttl, policy_string, mx_host_pattern); Postfix before 3.10 refuses them")
    boolean tlsrptAttributes;

    @Option(
            names = "--default-level",
            paramLabel = "LEVEL",
            description = "answer OK LEVEL instead of NOTFOUND when no policy applies: none, may, encrypt, dane or"
                    + " dane-only")
    String defaultLevel;

    @Option(
            names = "--answer-ttl",
            paramLabel = "SECONDS",
            defaultValue = "60",
            description = "how long an OK answer is reused per domain (also policy_ttl; default: ${DEFAULT-VALUE})")
    int answerTtl;

    @Option(
            names = "--negative-ttl",
            paramLabel = "SECONDS",
            defaultValue = "10",
            description = "how long NOTFOUND and TEMP answers are reused (default: ${DEFAULT-VALUE})")
    int negativeTtl;

    @Option(
            names = "--max-domains",
            paramLabel = "N",
            defaultValue = "10000",
            description = "answers kept, least recently used dropped first (default: ${DEFAULT-VALUE})")
    int maxDomains;

    @Option(
            names = "--max-connections",
            paramLabel = "N",
            defaultValue = "512",
            description = "connections served at once, one per Postfix smtp process; more get TEMP (default:"
                    + " ${DEFAULT-VALUE})")
    int maxConnections;

    @Option(
            names = "--log-level",
            paramLabel = "LEVEL",
            defaultValue = "info",
            description =
                    "debug (a line per answer), info (start, summaries, stop) or warn (default: ${DEFAULT-VALUE})")
    String logLevel;

    @Option(
            names = "--summary-interval",
            paramLabel = "SECONDS",
            defaultValue = "60",
            description = "seconds between summary lines at info (default: ${DEFAULT-VALUE})")
    int summaryInterval;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Level level = parseLevel(logLevel);
        check(answerTtl >= 1 && answerTtl <= 86_400, "--answer-ttl must be 1..86400 seconds, got " + answerTtl);
        check(negativeTtl >= 0 && negativeTtl <= 3600, "--negative-ttl must be 0..3600 seconds, got " + negativeTtl);
        check(maxDomains >= 0 && maxDomains <= 10_000_000, "--max-domains must be 0..10000000, got " + maxDomains);
        check(
                maxConnections >= 1 && maxConnections <= 10_000,
                "--max-connections must be 1..10000, got " + maxConnections);
        check(summaryInterval >= 1, "--summary-interval must be at least 1 second, got " + summaryInterval);
        InetSocketAddress address = parseListen(listen);
        Set<String> names = new LinkedHashSet<>(mapNames.isEmpty() ? List.of("postfix") : mapNames);
        for (String name : names) {
            check(
                    name.matches("[A-Za-z0-9_.-]{1,64}"),
                    "--map-name '" + name + "': letters, digits, '_', '.', '-' only (it is one word of main.cf)");
        }
        PostfixPolicy.Options options;
        try {
            options = new PostfixPolicy.Options(tlsrptAttributes, answerTtl, Optional.ofNullable(defaultLevel));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--default-level: " + e.getMessage());
        }

        PolicyEngineOptions.Setup setup = engineOptions.build(policyOptions, "sqlite:" + DEFAULT_SQLITE);
        PolicyService service = new PolicyService(
                setup.engine(),
                names,
                options,
                Duration.ofSeconds(answerTtl),
                Duration.ofSeconds(negativeTtl),
                maxDomains,
                Clock.systemUTC());
        Log log = new Log(err, level);
        SocketmapServer server;
        try {
            server = SocketmapServer.start(
                    address, service, new SocketmapServer.Settings(1024, maxConnections, Duration.ofMinutes(5)), log);
        } catch (IOException e) {
            setup.close();
            throw new Main.UsageException(e.getMessage() + "; choose another --listen address or stop what uses it");
        }
        InetSocketAddress bound = server.address();
        out.println("listening: socketmap on " + bound.getAddress().getHostAddress() + ":" + bound.getPort() + " maps "
                + String.join(",", names));
        out.println("main.cf: smtp_tls_policy_maps = socketmap:inet:"
                + bound.getAddress().getHostAddress() + ":" + bound.getPort() + ":"
                + names.iterator().next());
        out.flush();
        log.info("event=started listen=" + bound.getAddress().getHostAddress() + ":" + bound.getPort() + " maps="
                + String.join(",", names) + " mta_sts_cache=" + setup.cacheDescription() + " answer_ttl="
                + answerTtl + " negative_ttl=" + negativeTtl + " max_domains=" + maxDomains + " tlsrpt_attributes="
                + tlsrptAttributes);

        // RFC 8461 §5.1: refresh cached policies before they expire, daily, so that a policy does not lapse between
        // deliveries; failed refreshes of policies still in force are logged as warnings.
        Optional<RefreshSchedule> refresh = setup.mtaSts()
                .map(resolver -> RefreshSchedule.builder(resolver)
                        .listener(new RefreshListener() {
                            @Override
                            public void alert(StsRefresh r, Instant nextAttempt) {
                                log.warn("event=mta-sts-refresh-failed domain=" + Log.quote(r.policyDomain())
                                        + " outcome="
                                        + r.outcome() + " reason=" + Log.quote(r.reason()) + " cached_until="
                                        + r.entry().expiresAt() + " next_attempt=" + nextAttempt);
                            }

                            @Override
                            public void finished(RefreshRun run) {
                                log.info("event=mta-sts-refresh due=" + run.due() + " refreshed="
                                        + run.refreshes().stream()
                                                .filter(r -> r.outcome() == StsRefresh.Outcome.REFRESHED)
                                                .count()
                                        + " backing_off=" + run.backingOff() + " next_run=" + run.nextRun());
                            }
                        })
                        .build());
        refresh.ifPresent(RefreshSchedule::start);

        ScheduledExecutorService summaries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "optls-policy-summary");
            t.setDaemon(true);
            return t;
        });
        summaries.scheduleAtFixedRate(
                () -> log.info(summary("summary", server, service)),
                summaryInterval,
                summaryInterval,
                TimeUnit.SECONDS);
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Runnable stop = () -> {
            if (!stopping.compareAndSet(false, true)) {
                return;
            }
            // SIGTERM / SIGINT: stop accepting, let answers in progress finish.
            log.info("event=stopping open=" + server.openConnections());
            summaries.shutdownNow();
            refresh.ifPresent(RefreshSchedule::close);
            server.close(Duration.ofSeconds(5));
            setup.close();
            log.info(summary("stopped", server, service));
            stopped.countDown();
        };
        // With the signals handled here the command returns and exits 0; the shutdown hook covers JVMs without
        // sun.misc.Signal (the exit status is then 143).
        boolean handled = Signals.on("TERM", stop) & Signals.on("INT", stop);
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "optls-policy-shutdown"));
        if (!handled) {
            log.info("event=note reason=\"signals not available on this JVM: SIGTERM exits with status 143\"");
        }
        stopped.await();
        return ExitCodes.OK;
    }

    private static String summary(String event, SocketmapServer server, PolicyService service) {
        return "event=" + event + " requests=" + server.requests() + " connections=" + server.connections()
                + " open=" + server.openConnections() + " cache_hits="
                + service.cache().hits() + " cache_misses="
                + service.cache().misses() + " lookups=" + service.cache().lookups() + " cached_domains="
                + service.cache().size();
    }

    /** {@code address:port} or {@code [v6]:port}; the port is required (0: any free one). */
    static InetSocketAddress parseListen(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || text.endsWith("]") || !text.substring(colon + 1).matches("[0-9]{1,5}")) {
            throw new Main.UsageException(
                    "--listen wants ADDRESS:PORT, e.g. " + DEFAULT_LISTEN + " or [::1]:8462; got '" + text + "'");
        }
        int port = Integer.parseInt(text.substring(colon + 1));
        if (port > 65_535) {
            throw new Main.UsageException("--listen " + text + ": the port must be 0..65535");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        InetSocketAddress parsed = PolicyOptions.parseServer(host.contains(":") ? "[" + host + "]" : host, "--listen");
        return new InetSocketAddress(parsed.getAddress(), port);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new Main.UsageException(message);
        }
    }

    private static Level parseLevel(String text) {
        try {
            return Level.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--log-level must be debug, info or warn; got '" + text + "'");
        }
    }

    /**
     * Signal handlers through {@code sun.misc.Signal} (module jdk.unsupported), looked up reflectively as {@link
     * GatewayCommand.Hangup} does, so that the build does not depend on an internal API.
     */
    static final class Signals {
        private Signals() {}

        /** Runs {@code action} on a thread of its own at each signal {@code name}; false if signals are missing. */
        static boolean on(String name, Runnable action) {
            try {
                Class<?> signal = Class.forName("sun.misc.Signal");
                Class<?> handler = Class.forName("sun.misc.SignalHandler");
                Object sig = signal.getConstructor(String.class).newInstance(name);
                Object proxy = java.lang.reflect.Proxy.newProxyInstance(
                        handler.getClassLoader(), new Class<?>[] {handler}, (p, method, args) -> {
                            if (method.getName().equals("handle")) {
                                Thread t = new Thread(action, "optls-policy-sig" + name.toLowerCase(Locale.ROOT));
                                t.setDaemon(true);
                                t.start();
                                return null;
                            }
                            if (method.getName().equals("hashCode")) {
                                return System.identityHashCode(p);
                            }
                            if (method.getName().equals("equals")) {
                                return p == args[0];
                            }
                            return "optls policy SIG" + name + " handler";
                        });
                signal.getMethod("handle", signal, handler).invoke(null, sig, proxy);
                return true;
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return false;
            }
        }
    }

    /** Log levels. */
    enum Level {
        DEBUG,
        INFO,
        WARN
    }

    /** logfmt lines on stderr. */
    static final class Log implements SocketmapServer.Listener {
        private final PrintWriter err;
        private final Level level;

        Log(PrintWriter err, Level level) {
            this.err = err;
            this.level = level;
        }

        void info(String line) {
            if (level.compareTo(Level.INFO) <= 0) {
                write(line);
            }
        }

        void warn(String line) {
            write(line);
        }

        private void write(String line) {
            synchronized (err) {
                err.println(line);
                err.flush();
            }
        }

        @Override
        public void answered(SocketAddress client, String mapName, String key, SocketmapReply reply, long nanos) {
            if (level == Level.DEBUG) {
                write("event=answer client=" + client + " map=" + quote(mapName) + " key=" + quote(key) + " reply="
                        + quote(reply.wire()) + " micros=" + nanos / 1000);
            }
        }

        @Override
        public void protocolError(SocketAddress client, String reason) {
            warn("event=protocol_error client=" + client + " reason=" + quote(reason));
        }

        @Override
        public void refused(SocketAddress client) {
            warn("event=refused client=" + client + " reason=connection-limit");
        }

        static String quote(String value) {
            StringBuilder q = new StringBuilder("\"");
            for (int i = 0; i < value.length() && i < 300; i++) {
                char c = value.charAt(i);
                if (c == '"' || c == '\\') {
                    q.append('\\').append(c);
                } else {
                    q.append(c < 0x20 || c == 0x7f ? '?' : c);
                }
            }
            return q.append('"').toString();
        }
    }
}
