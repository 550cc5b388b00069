package dev.optls.cli;

import dev.optls.core.Failure;
import dev.optls.gateway.ConfigException;
import dev.optls.gateway.ConfigLoader;
import dev.optls.gateway.Gateway;
import dev.optls.gateway.GatewayConfig;
import dev.optls.gateway.GatewayException;
import dev.optls.gateway.Reasons;
import dev.optls.gateway.Route;
import dev.optls.tls.TlsSessionInfo;
import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code optls gateway}: TLS termination in front of plaintext servers, TLS origination towards upstreams. */
@Command(
        name = "gateway",
        mixinStandardHelpOptions = true,
        description = {
            "Put STARTTLS or implicit TLS in front of plaintext servers (clients get TLS from the gateway), or "
                    + "force TLS towards an upstream for plaintext clients (the gateway does STARTTLS or implicit "
                    + "TLS itself, at level may, encrypt or verify), or translate between the two. Sessions are "
                    + "relayed only once TLS is up; at encrypt and verify a failed upstream TLS closes the "
                    + "client's connection (SMTP 421, IMAP BYE, POP3 -ERR, NNTP 400), never plaintext.",
            "",
            "Configuration (TOML), one [[route]] table per listener:",
            "  [[route]]",
            "  name = \"submission\"",
            "  protocol = \"submission\"     # smtp submission lmtp imap pop3 nntp sieve irc ldap postgres mysql xmpp ftp",
            "  listen = \"0.0.0.0:587\"",
            "  listen-tls = \"starttls\"     # or \"implicit\" (465, 993, 995, 563, 636, 6697, 990), or \"none\"",
            "  connect = \"127.0.0.1:10587\" # the backend",
            "  connect-tls = \"none\"        # or \"starttls\" / \"implicit\": TLS from the gateway to the backend",
            "                               # (smtp submission lmtp imap pop3 nntp); needs listen-tls or connect-tls",
            "  certificate = \"chain.pem\"   # leaf first; relative to the file; not with listen-tls = \"none\"",
            "  key = \"key.pem\"",
            "  level = \"verify\"            # with connect-tls: may | encrypt | verify (default)",
            "  ca = \"ca.pem\"               # with connect-tls: trust anchors (default: the JDK's)",
            "  server-name = \"mx.example\"  # with connect-tls: name checked in the certificate (default: host)",
            "  hostname = \"mail.example.org\"  # optional; reply-timeout, handshake-timeout too",
            "  max-connections = 20000        # optional; more are closed at accept (reason=connection-limit)",
            "  max-connections-per-client = 1000",
            "  certificates = [ { certificate = \"imap.pem\", key = \"imap.key\" } ]  # optional: chosen by SNI",
            "  ticket-keys = \"tickets.keys\"  # optional: ticket keys shared by instances (BoringSSL engine)",
            "",
            "  [gateway]                      # optional global settings",
            "  drain-timeout = \"30s\"         # SIGTERM/SIGINT: stop accepting, let sessions finish, then cut",
            "  metrics = \"127.0.0.1:9187\"    # Prometheus metrics at http://127.0.0.1:9187/metrics",
            "  certificate-check = \"5s\"      # certificate/key files re-read when they change, and on SIGHUP",
            ""
        },
        footer = ExitCodes.HELP)
final class GatewayCommand implements Callable<Integer> {
    private static final String LEAK_DETECTION = "io.netty.leakDetection.level";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "the gateway configuration (TOML)")
    Path config;

    @Option(names = "--check", description = "only load and check the configuration, print the routes, and exit")
    boolean check;

    @Override
    public Integer call() throws InterruptedException {
        // Netty tracks 1 in 128 buffers for leaks with a stack trace each (about 1.4 % of a loaded gateway's
        // CPU in a profile); a debugging aid, off unless asked for (-Dio.netty.leakDetection.level=simple).
        if (System.getProperty(LEAK_DETECTION) == null) {
            System.setProperty(LEAK_DETECTION, "disabled");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GatewayConfig loaded;
        try {
            loaded = ConfigLoader.load(config);
        } catch (ConfigException e) {
            for (ConfigException.Problem p : e.problems()) {
                err.println("optls: " + p);
            }
            err.println("optls: the gateway did not start (" + e.problems().size() + " problem"
                    + (e.problems().size() == 1 ? "" : "s") + " in " + config + ")");
            return ExitCodes.USAGE;
        }
        for (Route r : loaded.routes()) {
            out.println("route " + r.name() + ": " + r.protocol().scheme() + " "
                    + r.listenTls().name().toLowerCase(java.util.Locale.ROOT) + " on " + r.listen() + " -> "
                    + (r.upstream().mode() == Route.ConnectTls.NONE
                            ? "plaintext"
                            : r.upstream().mode().name().toLowerCase(java.util.Locale.ROOT) + " (level "
                                    + r.upstream().level().name().toLowerCase(java.util.Locale.ROOT) + ")")
                    + " " + r.connect());
        }
        out.flush();
        if (check) {
            out.println("configuration ok: " + loaded.routes().size() + " route"
                    + (loaded.routes().size() == 1 ? "" : "s"));
            return ExitCodes.OK;
        }
        // Event lines are buffered and written out every FLUSH_MILLIS (and at shutdown): one write per line
        // would cost a system call per connection event on the event loop.
        LogLines log = new LogLines(new PrintWriter(new BufferedWriter(err, 1 << 16), false));
        ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "optls-gateway-log");
            t.setDaemon(true);
            return t;
        });
        flusher.scheduleWithFixedDelay(log::flush, FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
        Gateway gateway;
        try {
            gateway = Gateway.start(loaded, log);
        } catch (GatewayException e) {
            log.flush();
            err.println("optls: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            // SIGTERM / SIGINT: stop accepting, let open sessions finish until the deadline.
                            log.line("event=draining open=" + gateway.openConnections() + " drain_timeout_ms="
                                    + loaded.settings().drainTimeout().toMillis());
                            Gateway.Drained drained = gateway.closeGracefully();
                            log.line("event=stopped finished=" + (drained.open() - drained.cut()) + " cut="
                                    + drained.cut());
                            log.flush();
                            stopped.countDown();
                        },
                        "optls-gateway-shutdown"));
        boolean hup = Hangup.onSignal(() -> {
            log.line("event=reload signal=HUP");
            gateway.reloadCertificates();
        });
        gateway.boundAddresses().forEach((name, address) -> out.println("listening: route " + name + " on " + address));
        gateway.metricsAddress()
                .ifPresent(a -> out.println(
                        "metrics: http://" + a.getAddress().getHostAddress() + ":" + a.getPort() + "/metrics"));
        if (!hup) {
            out.println("note: SIGHUP is not available on this JVM; certificates are still re-read when their files "
                    + "change");
        }
        out.flush();
        stopped.await();
        return ExitCodes.OK;
    }

    /**
     * SIGHUP through {@code sun.misc.Signal} (module jdk.unsupported), looked up reflectively so that the
     * build does not depend on an internal API; where it is missing, reloads still happen on file change.
     */
    static final class Hangup {
        private Hangup() {}

        /** Runs {@code action} on each SIGHUP, on a thread of its own; false if signals are not available. */
        static boolean onSignal(Runnable action) {
            try {
                Class<?> signal = Class.forName("sun.misc.Signal");
                Class<?> handler = Class.forName("sun.misc.SignalHandler");
                Object hup = signal.getConstructor(String.class).newInstance("HUP");
                Object proxy = java.lang.reflect.Proxy.newProxyInstance(
                        handler.getClassLoader(), new Class<?>[] {handler}, (p, method, args) -> {
                            if (method.getName().equals("handle")) {
                                Thread t = new Thread(action, "optls-gateway-sighup");
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
                            return "optls SIGHUP handler";
                        });
                signal.getMethod("handle", signal, handler).invoke(null, hup, proxy);
                return true;
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return false;
            }
        }
    }

    /** How often buffered event lines are written out. */
    private static final long FLUSH_MILLIS = 200;

    /** One logfmt line per event on stderr; {@link #flush} writes out what is buffered. */
    record LogLines(PrintWriter err) implements Gateway.Events {
        @Override
        public void relaying(Route route, SocketAddress client, TlsSessionInfo tls) {
            line("event=relaying route=" + route.name() + " client=" + client + " tls=" + tls.protocolVersion()
                    + " cipher=" + tls.cipherSuite() + " sni="
                    + tls.serverName().orElse("-"));
        }

        @Override
        public void upstreamTls(Route route, SocketAddress client, TlsSessionInfo tls) {
            line("event=upstream-tls route=" + route.name() + " client=" + client + " tls=" + tls.protocolVersion()
                    + " cipher=" + tls.cipherSuite());
        }

        @Override
        public void upstreamPlaintext(Route route, SocketAddress client, Failure reason) {
            line("event=upstream-plaintext route=" + route.name() + " client=" + client + " reason="
                    + reason.kind().wireName() + " detail=\"" + reason.detail().replace("\"", "'") + "\"");
        }

        @Override
        public void refused(Route route, SocketAddress client, Failure failure) {
            line("event=refused route=" + route.name() + " client=" + client + " reason=" + Reasons.of(failure)
                    + " kind=" + failure.kind().wireName()
                    + " blame=" + failure.blame().name().toLowerCase(java.util.Locale.ROOT) + " detail="
                    + quoted(failure.detail()));
        }

        @Override
        public void ftpRefused(Route route, SocketAddress client, String reason, String detail) {
            line("event=ftp-refused route=" + route.name() + " client=" + client + " reason=" + reason + " detail="
                    + quoted(detail));
        }

        @Override
        public void closed(Route route, SocketAddress client, Gateway.Closed session) {
            line("event=closed route=" + route.name() + " client=" + client + " duration_ms="
                    + session.duration().toMillis() + " bytes_from_client=" + session.bytesFromClient()
                    + " bytes_to_client=" + session.bytesToClient()
                    + session.reason().map(r -> " reason=" + r).orElse(""));
        }

        @Override
        public void reloaded(Route route, Path certificate) {
            line("event=reloaded route=" + route.name() + " certificate=" + quoted(certificate.toString())
                    + " detail=\"new connections get the new certificate; open ones keep theirs\"");
        }

        @Override
        public void reloadFailed(Route route, Path certificate, String problem) {
            line("event=reload-failed route=" + route.name() + " certificate=" + quoted(certificate.toString())
                    + " detail="
                    + quoted("kept the old certificate: " + problem
                            + "; fix the files (they are checked again when they change, or on SIGHUP)"));
        }

        private static String quoted(String text) {
            return "\"" + text.replace("\\", "\\\\").replace("\"", "'").replace("\n", " ") + "\"";
        }

        void line(String text) {
            err.println("time=" + Instant.now() + " " + text);
        }

        void flush() {
            err.flush();
        }
    }
}
