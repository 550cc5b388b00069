package dev.optls.gateway;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.core.mysql.MysqlGreeting;
import dev.optls.core.mysql.MysqlServer;
import dev.optls.gateway.internal.Relay;
import dev.optls.gateway.internal.Traffic;
import dev.optls.gateway.internal.mysql.BackendGreeting;
import dev.optls.gateway.internal.mysql.ConnectionPhase;
import dev.optls.gateway.internal.mysql.PhaseRewriter;
import dev.optls.netty.StartTlsServerHandler;
import dev.optls.netty.Transport;
import dev.optls.tls.TlsSessionInfo;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * A MySQL client of a STARTTLS route and its plaintext backend (protocols.md §11). MySQL's client answers
 * the scramble in the server's greeting, so the gateway cannot greet on its own: it connects to the backend
 * first, reads its HandshakeV10 ({@link BackendGreeting}) and greets the client with it, {@code CLIENT_SSL}
 * added (the core's {@link MysqlServer} with a {@code handshake-v10} entry). The client's SSLRequest starts
 * TLS with the route's certificate; a HandshakeResponse41 in plaintext is refused by the core with ERR 3159
 * "Connections using insecure transport are prohibited" (MySQL's answer under {@code
 * require_secure_transport=ON}, sql_authentication.cc; MariaDB's acl_check_ssl() refuses the same after the
 * password check with 1045) and nothing of it reaches the backend. After TLS the client's
 * HandshakeResponse41 and the rest of the connection phase go through {@link ConnectionPhase}, which
 * renumbers the packets for a backend that never saw the SSLRequest; then bytes are relayed as they are.
 */
final class MysqlConnection {
    private final Route route;
    private final SocketChannel client;
    private final Gateway.Events events;
    private final Transport transport;
    private final InetSocketAddress realClient;
    private final Optional<GatewayConfig.ProxyHeader> proxyHeader;
    private Channel backend;
    /** Set once the connection's fate is reported (relayed or refused). */
    private boolean reported;
    /** Set once the backend's greeting was read and the client greeted with it. */
    private boolean greeted;
    /** The client's TLS, once up; the session is reported as relayed when the connection phase ends. */
    private Optional<TlsSessionInfo> clientTls = Optional.empty();

    MysqlConnection(
            Route route,
            SocketChannel client,
            Gateway.Events events,
            Transport transport,
            InetSocketAddress realClient,
            Optional<GatewayConfig.ProxyHeader> proxyHeader) {
        if (route.protocol() != Protocol.MYSQL || route.listenTls() != Route.ListenTls.STARTTLS) {
            throw new IllegalArgumentException("not a MySQL STARTTLS route: " + route.name());
        }
        this.route = route;
        this.client = client;
        this.events = events;
        this.transport = transport;
        this.realClient = realClient;
        this.proxyHeader = proxyHeader;
    }

    /** Connects to the backend; the client is greeted once the backend has greeted the gateway. */
    void start() {
        ChannelHandler handler = new BackendGreeting(
                route.replyTimeout().toMillis(), route.connect().toString(), this::backendGreeted);
        ChannelFuture connect = Connection.openBackend(route, client, transport, realClient, proxyHeader, handler);
        backend = connect.channel();
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                refuse(Connection.connectFailed(route, f.cause()));
            }
        });
        client.closeFuture().addListener(f -> {
            if (clientTls.isPresent()) {
                report(Failure.peer(
                        FailureKind.UNEXPECTED_EOF,
                        Phase.SESSION,
                        "the client closed the connection during the MySQL connection phase (login) over TLS"));
            }
            Relay.closeOnFlush(backend);
        });
        backend.closeFuture().addListener(f -> {
            if (clientTls.isPresent()) {
                report(new Failure(
                        Blame.PEER,
                        FailureKind.UNEXPECTED_EOF,
                        Phase.SESSION,
                        "the backend " + route.connect() + " closed the connection during the MySQL connection phase"
                                + " (login) without an OK or ERR packet",
                        true));
            }
            if (!greeted) {
                // BackendGreeting reports it (and closes the client) with what went wrong.
                return;
            }
            if (!reported && client.isActive()) {
                // Before the client's TLS was up (e.g. during its handshake): there is nothing to relay to.
                report(new Failure(
                        Blame.PEER,
                        FailureKind.CONNECT_FAILED,
                        Phase.UPGRADE,
                        "the backend " + route.connect() + " closed the connection before the client's login",
                        true));
            }
            Relay.closeOnFlush(client);
        });
    }

    private void backendGreeted(BackendGreeting.Outcome outcome) {
        if (!client.isActive()) {
            backend.close();
            return;
        }
        if (outcome instanceof BackendGreeting.Failed failed) {
            refuse(failed.failure());
        } else if (outcome instanceof BackendGreeting.Refused refused) {
            // The backend's own ERR packet (sequence 0, where the client waits for the greeting).
            report(new Failure(
                    Blame.PEER,
                    FailureKind.CONNECT_FAILED,
                    Phase.GREETING,
                    "the backend " + route.connect() + " refused the connection: " + refused.text()
                            + "; the client got its ERR packet",
                    true));
            backend.close();
            client.writeAndFlush(Unpooled.wrappedBuffer(refused.packet())).addListener(ChannelFutureListener.CLOSE);
        } else if (outcome instanceof BackendGreeting.Greeted greeted) {
            greet(greeted.greeting());
        }
    }

    private void greet(MysqlGreeting greeting) {
        greeted = true;
        ServerOptions options = ServerOptions.offering(
                        route.hostname(), Capabilities.of(MysqlServer.greetingEntry(greeting)))
                .withGreeting(greeting.serverVersion())
                .withTlsRequired(true);
        client.pipeline()
                .addLast(new StartTlsServerHandler(
                        Protocol.MYSQL,
                        options,
                        Optional.of(route.tls()),
                        Relaying.beforeTls(Protocol.MYSQL),
                        StartTlsServerHandler.Mode.UPGRADE,
                        // The core refuses a plaintext HandshakeResponse41 itself (tlsRequired): the refusal is not
                        // reached.
                        new Upgrade(
                                "client sent a MySQL login without asking for TLS first; the gateway relays only over TLS",
                                this::relay,
                                this::refuse,
                                () -> {
                                    reported = true;
                                    Relay.closeOnFlush(backend);
                                }),
                        route.replyTimeout().toMillis(),
                        route.handshakeTimeout().toMillis()));
    }

    /**
     * TLS is up and the backend greeted: the connection phase is renumbered, then bytes go as they are. The
     * session counts as relayed once the backend answered the login (OK or ERR, e.g. a wrong password): a
     * connection phase that breaks the protocol, or is cut, is reported as refused with its reason.
     */
    private void relay(ChannelHandlerContext ctx, TlsSessionInfo tls) {
        clientTls = Optional.of(tls);
        ConnectionPhase phase = new ConnectionPhase();
        PhaseRewriter.Listener listener = new PhaseRewriter.Listener() {
            @Override
            public void ended() {
                if (!reported) {
                    reported = true;
                    events.relaying(route, client.remoteAddress(), tls);
                }
            }

            @Override
            public void failed(Failure failure) {
                report(failure);
                client.close();
                backend.close();
            }
        };
        Traffic traffic = Traffic.of(client);
        ctx.pipeline()
                .addLast(
                        new PhaseRewriter(phase, true, listener),
                        new Relay(client.eventLoop().newSucceededFuture(backend), traffic.fromClient()));
        backend.pipeline()
                .addLast(
                        new PhaseRewriter(phase, false, listener),
                        new Relay(client.eventLoop().newSucceededFuture(client), traffic.toClient()));
    }

    private void report(Failure failure) {
        if (!reported) {
            reported = true;
            events.refused(route, client.remoteAddress(), failure);
        }
    }

    private void refuse(Failure failure) {
        report(failure);
        Relay.closeOnFlush(backend);
        Relay.closeOnFlush(client);
    }
}
