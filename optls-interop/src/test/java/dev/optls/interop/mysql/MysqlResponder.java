package dev.optls.interop.mysql;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * OUR MySQL server under test: an optls {@link StartTlsServer} on 127.0.0.1 whose application takes the
 * connection over at the HandshakeResponse41 ({@code AUTH}) and answers it with ERR 1045 "{@value #MESSAGE}".
 */
final class MysqlResponder implements AutoCloseable {
    /** The error message every login gets. */
    static final String MESSAGE = "optls test responder";

    /** The server version in the greeting. */
    static final String VERSION = "8.0.36-optls";

    /**
     * What happened on one connection.
     *
     * @param user the user of the HandshakeResponse41 the application saw, if any
     * @param authOverTls whether that response arrived over TLS
     * @param tlsEstablished whether a TLS handshake completed
     * @param failure why the negotiation failed, if it did
     */
    record Connection(Optional<String> user, boolean authOverTls, boolean tlsEstablished, Optional<Failure> failure) {}

    private final ServerSocket listener;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "optls-mysql-responder");
        t.setDaemon(true);
        return t;
    });
    private final BlockingQueue<Connection> connections = new LinkedBlockingQueue<>();
    private final boolean offersTls;

    private MysqlResponder(ServerSocket listener, StartTlsServer server, boolean offersTls) {
        this.listener = listener;
        this.offersTls = offersTls;
        pool.execute(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket accepted = listener.accept();
                    pool.execute(() -> serve(server, accepted));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    /** Starts a responder; with a credential it offers TLS (CLIENT_SSL), without it does not. */
    static MysqlResponder start(Optional<Credential> credential) {
        ServerOptions options = credential.isPresent()
                ? ServerOptions.offering("localhost", Capabilities.NONE)
                : ServerOptions.withoutTls("localhost", Capabilities.NONE);
        Optional<ServerTls> tls = credential.map(
                c -> ServerTls.create(c.chain(), c.privateKey(), Protocol.MYSQL.alpn(), TlsProfile.modern()));
        try {
            ServerSocket listener = new ServerSocket(0, 50, InetAddress.getByName(Peers.LOOPBACK));
            return new MysqlResponder(
                    listener,
                    new StartTlsServer(
                            Protocol.MYSQL, options.withGreeting(VERSION), tls, Timeouts.all(Duration.ofSeconds(10))),
                    credential.isPresent());
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + Peers.LOOPBACK, e);
        }
    }

    private void serve(StartTlsServer server, Socket accepted) {
        String[] user = {null};
        boolean[] overTls = {false};
        CommandHandler handler = (Command c) -> {
            user[0] = c.line();
            overTls[0] = c.tlsActive();
            return CommandHandler.HAND_OVER;
        };
        ServerSession session = server.serve(accepted, handler);
        try (session) {
            Optional<Result> result = session.result();
            if (result.isPresent()
                    && result.get().ending() == Result.Ending.HANDED_OVER
                    && session.socket().isPresent()) {
                ByteBuffer response = result.get().remaining();
                int sequence = response.get(3) & 0xff;
                // The application's answer: ERR 1045 (28000), sequence one above the HandshakeResponse41's.
                MysqlWire.write(
                        session.socket().get().getOutputStream(), sequence + 1, MysqlWire.err(1045, "28000", MESSAGE));
            }
        } catch (IOException | RuntimeException e) {
            // The client went away: what matters is recorded below.
        }
        connections.add(new Connection(
                Optional.ofNullable(user[0]), overTls[0], session.tls().isPresent(), session.failure()));
    }

    int port() {
        return listener.getLocalPort();
    }

    /** The next finished connection. */
    Connection awaitOne() throws InterruptedException {
        Connection c = connections.poll(15, TimeUnit.SECONDS);
        if (c == null) {
            throw new AssertionError("no connection finished on " + this + " within 15 s");
        }
        return c;
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
        pool.shutdownNow();
    }

    @Override
    public String toString() {
        return "optls MySQL responder on " + Peers.LOOPBACK + ":" + port()
                + (offersTls ? " (TLS offered)" : " (no TLS)");
    }
}
