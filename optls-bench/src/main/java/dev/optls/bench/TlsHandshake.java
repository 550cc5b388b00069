package dev.optls.bench;

import dev.optls.core.ClientOptions;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Real TLS 1.3 handshakes over loopback TCP, with and without an optls STARTTLS negotiation in front.
 *
 * <p>Both benchmarks do the same TLS work: a new TCP connection to a server thread on 127.0.0.1, a full
 * TLS 1.3 handshake (no resumption: each client uses a new {@code SSLContext}, as {@link ClientTls} does)
 * with the same EC P-256 certificate from {@link TestPki}, the same suites, the chain and the name
 * {@code localhost} checked; then the client closes. One op is one connection, client side; the server
 * thread serves connections one at a time. Both sides set TCP_NODELAY (see {@link #connect(int)}); the
 * optls client gets its connected socket through {@link StartTlsClient#negotiate}.
 *
 * <ul>
 *   <li>{@link #bareTls}: plain JSSE {@code SSLSocket}s on both sides, no optls code at all.
 *   <li>{@link #optlsSmtpStartTls}: {@link StartTlsClient} against {@link StartTlsServer#serve}: greeting,
 *       EHLO, STARTTLS, 220, the handshake, EHLO over TLS and its reply. Besides the core's work this
 *       includes the four extra request/reply round trips SMTP needs (greeting, EHLO, STARTTLS, EHLO after
 *       TLS), optls's own certificate check and the handshake deadline timer.
 * </ul>
 *
 * The ratio {@code optlsSmtpStartTls / bareTls} is what STARTTLS through optls costs over the handshake
 * alone; the in-memory {@link InMemoryNegotiation#smtp()} is the core's share of the difference.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TlsHandshake {
    static final String SERVER_NAME = "localhost";
    static final String[] PROTOCOLS = {"TLSv1.3"};
    // The suites of TlsProfile.tls13Only(), in its order, so both benchmarks negotiate the same suite.
    static final String[] SUITES = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"};
    static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));
    private static final int SO_TIMEOUT_MILLIS = 10_000;

    /** One CA and one EC P-256 server certificate for {@code localhost}, shared by both servers. */
    static final class Pki {
        static final TestPki CA = TestPki.create();
        static final Credential SERVER = CA.issue(SERVER_NAME);

        private Pki() {}
    }

    /** A loopback listener whose thread serves one connection at a time until closed. */
    abstract static class LoopbackServer {
        final AtomicInteger handshakes = new AtomicInteger();
        final AtomicInteger failures = new AtomicInteger();
        final AtomicReference<String> lastFailure = new AtomicReference<>("");
        ServerSocket listener;
        Thread thread;

        void start(String name) throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            thread = new Thread(this::acceptLoop, name);
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        private void acceptLoop() {
            while (true) {
                Socket accepted;
                try {
                    accepted = listener.accept();
                } catch (IOException closed) {
                    return;
                }
                try (Socket socket = accepted) {
                    socket.setSoTimeout(SO_TIMEOUT_MILLIS);
                    socket.setTcpNoDelay(true);
                    serve(socket);
                } catch (IOException | RuntimeException e) {
                    failures.incrementAndGet();
                    lastFailure.set(e.toString());
                }
            }
        }

        /** Serves one accepted connection; counts a completed handshake in {@link #handshakes}. */
        abstract void serve(Socket accepted) throws IOException;

        void stop() throws IOException, InterruptedException {
            listener.close();
            thread.join(5_000);
        }

        void checkHealthy() {
            if (failures.get() > 0) {
                throw new IllegalStateException(failures.get() + " server-side failure(s), last: " + lastFailure.get());
            }
        }
    }

    /** Plain JSSE server: handshake, then read until the client closes. */
    @State(Scope.Benchmark)
    public static class BareServer extends LoopbackServer {
        private SSLSocketFactory factory;
        private TrustManager[] trust;

        /** Starts the listener and runs one handshake to check the setup. */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            factory = Pki.SERVER.serverContext().getSocketFactory();
            trust = Pki.CA.trustManagerFactory().getTrustManagers();
            start("bare-tls-server");
            SSLSession session = handshake(this);
            if (!session.getProtocol().equals("TLSv1.3")
                    || !session.getCipherSuite().equals(SUITES[0])) {
                throw new IllegalStateException(
                        "bare handshake negotiated " + session.getProtocol() + " " + session.getCipherSuite());
            }
        }

        @Override
        void serve(Socket accepted) throws IOException {
            // A server-mode socket layered over the accepted one, as a STARTTLS server would do.
            try (SSLSocket tls = (SSLSocket) factory.createSocket(accepted, null, true)) {
                tls.setUseClientMode(false);
                SSLParameters parameters = tls.getSSLParameters();
                parameters.setProtocols(PROTOCOLS);
                parameters.setCipherSuites(SUITES);
                parameters.setUseCipherSuitesOrder(true);
                tls.setSSLParameters(parameters);
                tls.startHandshake();
                handshakes.incrementAndGet();
                InputStream in = tls.getInputStream();
                while (in.read() >= 0) {
                    // The client sends nothing; wait for its close_notify.
                }
            }
        }

        /** Stops the listener; fails the trial if the server saw errors. */
        @TearDown(Level.Trial)
        public void tearDown() throws IOException, InterruptedException {
            stop();
            checkHealthy();
        }
    }

    /** optls SMTP server: {@link StartTlsServer#serve} until the client closes. */
    @State(Scope.Benchmark)
    public static class OptlsServer extends LoopbackServer {
        private StartTlsServer server;
        private StartTlsClient client;

        /** Starts the listener and runs one negotiation to check the setup. */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            ServerTls tls = ServerTls.create(
                    Pki.SERVER.chain(), Pki.SERVER.privateKey(), Optional.empty(), TlsProfile.tls13Only());
            server = new StartTlsServer(Protocol.SMTP, Fixtures.SMTP_SERVER, Optional.of(tls), TIMEOUTS);
            client = new StartTlsClient(
                    Protocol.SMTP,
                    ClientOptions.of(SecurityLevel.VERIFY),
                    ClientTls.create(
                            SecurityLevel.VERIFY,
                            TrustAnchors.of(Pki.CA.trustStore()),
                            ReferenceIdentity.of(SERVER_NAME),
                            Optional.empty(),
                            TlsProfile.tls13Only()),
                    TIMEOUTS);
            start("optls-smtp-server");
            ClientSession session = negotiate(this);
            var tls13 = session.tls().orElseThrow();
            if (!tls13.protocolVersion().equals("TLSv1.3")
                    || !tls13.cipherSuite().equals(SUITES[0])
                    || !session.result().orElseThrow().after().has("AUTH")) {
                throw new IllegalStateException("optls negotiation ended with " + session);
            }
        }

        @Override
        void serve(Socket accepted) {
            ServerSession session = server.serve(accepted, command -> "502 5.5.1 Error: command not implemented");
            if (session.tls().isPresent()) {
                handshakes.incrementAndGet();
            }
            // The client closes after its EHLO over TLS: the session then ends with UNEXPECTED_EOF, which
            // is how serve() reports a client that goes away without QUIT. Anything else is a failure.
            if (session.failure().isPresent()
                    && session.failure().get().kind() != dev.optls.core.FailureKind.UNEXPECTED_EOF) {
                failures.incrementAndGet();
                lastFailure.set(session.failure().get().toString());
            }
        }

        /** Stops the listener; fails the trial if the server saw errors. */
        @TearDown(Level.Trial)
        public void tearDown() throws IOException, InterruptedException {
            stop();
            checkHealthy();
        }
    }

    /** TCP connect, TLS 1.3 handshake with plain JSSE, close. */
    @Benchmark
    public String bareTls(BareServer server) throws IOException {
        SSLSession session = handshake(server);
        return session.getCipherSuite();
    }

    /** TCP connect, SMTP greeting/EHLO/STARTTLS, TLS 1.3 handshake, EHLO over TLS, close, all via optls. */
    @Benchmark
    public String optlsSmtpStartTls(OptlsServer server) throws IOException {
        ClientSession session = negotiate(server);
        return session.tls().orElseThrow().cipherSuite();
    }

    /**
     * A TCP connection to the loopback server with Nagle's algorithm off. Without TCP_NODELAY a TLS flight
     * written as several small records waits for the peer's delayed ACK (40 ms on Linux): the benchmarks
     * would measure that timer, not the handshake. Both benchmarks and both servers set it.
     */
    static Socket connect(int port) throws IOException {
        Socket plain = new Socket();
        plain.setTcpNoDelay(true);
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), SO_TIMEOUT_MILLIS);
        plain.setSoTimeout(SO_TIMEOUT_MILLIS);
        return plain;
    }

    static SSLSession handshake(BareServer server) throws IOException {
        SSLContext context;
        try {
            // A new context per connection, as ClientTls does: a full handshake every time, no resumption.
            context = SSLContext.getInstance("TLS");
            context.init(null, server.trust, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        Socket plain = connect(server.port());
        try (SSLSocket tls =
                (SSLSocket) context.getSocketFactory().createSocket(plain, SERVER_NAME, server.port(), true)) {
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setProtocols(PROTOCOLS);
            parameters.setCipherSuites(SUITES);
            parameters.setServerNames(List.<SNIServerName>of(new SNIHostName(SERVER_NAME)));
            // JSSE's own host name check, so the bare client checks the name as optls's VERIFY does.
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(parameters);
            tls.startHandshake();
            return tls.getSession();
        }
    }

    static ClientSession negotiate(OptlsServer server) throws IOException {
        Socket plain = connect(server.port());
        ClientSession session = server.client.negotiate(plain, SERVER_NAME, server.port());
        try (session) {
            if (session.status() != ClientSession.Status.TLS) {
                throw new IllegalStateException("optls negotiation failed: " + session.failure());
            }
            return session;
        }
    }
}
