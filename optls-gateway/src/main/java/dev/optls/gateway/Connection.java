package dev.optls.gateway;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.gateway.internal.Buffers;
import dev.optls.gateway.internal.ProxyProtocol;
import dev.optls.gateway.internal.Relay;
import dev.optls.gateway.internal.Traffic;
import dev.optls.netty.AcceptTls;
import dev.optls.netty.ClientOutcome;
import dev.optls.netty.StartTlsClientHandler;
import dev.optls.netty.StartTlsServerHandler;
import dev.optls.netty.Transport;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsSessionInfo;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** One client connection of a route, and its backend connection. */
final class Connection {
    /** How long a refused client may keep sending after its final reply before the gateway closes. */
    private static final long LINGER_MILLIS = 2000;

    private final Route route;
    private final SocketChannel client;
    private final Gateway.Events events;
    private final Transport transport;
    private final InetSocketAddress realClient;
    private final Optional<GatewayConfig.ProxyHeader> proxyHeader;
    private final Promise<Channel> backendReady;
    private Channel backend;
    /** Whether the gateway greets the client itself (the upstream's greeting was read by its negotiation). */
    private boolean gatewayGreets;
    /** The upstream's greeting, as the gateway's client negotiation read it. */
    private String greeting = "";
    /** The client's TLS, once its implicit handshake completed on a route where the gateway greets. */
    private Optional<TlsSessionInfo> clientTls = Optional.empty();
    /** Set once the connection's fate is reported: later backend trouble is only its consequence. */
    private boolean reported;

    /**
     * @param realClient the client's address: the socket's, or the one a load balancer's PROXY header named
     * @param proxyHeader the PROXY protocol header to send the backend first, if the route asks for one
     */
    Connection(
            Route route,
            SocketChannel client,
            Gateway.Events events,
            Transport transport,
            InetSocketAddress realClient,
            Optional<GatewayConfig.ProxyHeader> proxyHeader) {
        this.route = route;
        this.client = client;
        this.events = events;
        this.transport = transport;
        this.realClient = realClient;
        this.proxyHeader = proxyHeader;
        this.backendReady = client.eventLoop().newPromise();
    }

    void start() {
        if (Relaying.backend(route.protocol()) == Relaying.Backend.GREETING_FIRST) {
            // MySQL: the backend greets first and the client gets that greeting (MysqlConnection).
            new MysqlConnection(route, client, events, transport, realClient, proxyHeader).start();
            return;
        }
        Route.ListenTls listen = route.listenTls();
        boolean originating = route.upstream().mode() != Route.ConnectTls.NONE;
        // The gateway greets the client itself when its client negotiation read the upstream's greeting and
        // the client gets no greeting from the gateway's own STARTTLS dialogue (plaintext or implicit TLS).
        gatewayGreets = originating && listen != Route.ListenTls.STARTTLS;
        // The backend connection is opened at once, in parallel with the client's plaintext phase and
        // handshake, so that relaying can start as soon as TLS is up.
        connectBackend(originating
                || listen == Route.ListenTls.STARTTLS
                        && Relaying.backend(route.protocol()) == Relaying.Backend.GREETING);
        switch (listen) {
            case IMPLICIT -> {
                client.pipeline()
                        .addLast(
                                new AcceptTls(
                                        route.certificates(),
                                        route.handshakeTimeout().toMillis()),
                                new ImplicitHandshake());
                client.read();
            }
            case STARTTLS ->
                client.pipeline()
                        .addLast(new StartTlsServerHandler(
                                route.protocol(),
                                ServerOptions.offering(route.hostname(), Capabilities.NONE)
                                        .withTlsRequired(true)
                                        .withGreeting("optls gateway ready"),
                                route.certificates(),
                                Relaying.beforeTls(route.protocol()),
                                StartTlsServerHandler.Mode.UPGRADE,
                                new Upgrade(
                                        "client sent " + route.protocol().scheme() + " traffic without asking for TLS"
                                                + " first; the gateway relays only over TLS",
                                        this::relay,
                                        this::refuse,
                                        this::leftBeforeTls),
                                route.replyTimeout().toMillis(),
                                route.handshakeTimeout().toMillis()));
            // A plaintext client: nothing is read from it until the upstream's TLS is up (then the gateway
            // greets it), so no byte of it can reach the upstream before TLS.
            case NONE -> greetThenRelay();
        }
    }

    private void connectBackend(boolean negotiate) {
        Promise<ClientOutcome> preamble = client.eventLoop().newPromise();
        Route.Upstream upstream = route.upstream();
        ClientOptions options = ClientOptions.of(upstream.level())
                .withHelloName(route.hostname())
                .withImplicitTls(upstream.mode() == Route.ConnectTls.IMPLICIT);
        if (upstream.mode() == Route.ConnectTls.NONE) {
            // A plaintext backend: only its greeting is consumed, so that the client's own capability query
            // after STARTTLS is the first command it answers (one command and one round trip fewer).
            options = options.withGreetingOnly();
        }
        ChannelHandler handler = negotiate
                ? new StartTlsClientHandler(
                        route.protocol(),
                        options,
                        upstream.tls(),
                        route.connect().host(),
                        route.connect().port(),
                        preamble,
                        route.replyTimeout().toMillis(),
                        route.handshakeTimeout().toMillis())
                : new ChannelInboundHandlerAdapter();
        ChannelFuture connect = openBackend(route, client, transport, realClient, proxyHeader, handler);
        backend = connect.channel();
        connect.addListener(f -> {
            if (!f.isSuccess() && !client.isActive()) {
                // The client left while the backend was being reached (the attempt was cancelled): its own
                // end is what gets reported, not a backend that is down.
                backendReady.tryFailure(f.cause());
            } else if (!f.isSuccess()) {
                backendFailed(connectFailed(route, f.cause()));
            } else if (!negotiate) {
                backendReady.trySuccess(backend);
            }
        });
        preamble.addListener(f -> upstreamNegotiated(preamble.getNow()));
        client.closeFuture().addListener(f -> Relay.closeOnFlush(backend));
    }

    /**
     * Opens {@code route}'s backend connection for {@code client} on the client's event loop, with the
     * gateway's buffers and reads off; where the route sends a PROXY header, it goes first and {@code handler}
     * sees the connection after it.
     */
    static ChannelFuture openBackend(
            Route route,
            SocketChannel client,
            Transport transport,
            InetSocketAddress realClient,
            Optional<GatewayConfig.ProxyHeader> proxyHeader,
            ChannelHandler handler) {
        ChannelHandler first = proxyHeader
                .map(version -> ProxyProtocol.sendingHeader(
                        ProxyProtocol.header(
                                version == GatewayConfig.ProxyHeader.V1
                                        ? ProxyProtocol.Version.V1
                                        : ProxyProtocol.Version.V2,
                                realClient,
                                client.localAddress()),
                        handler))
                .orElse(handler);
        return Buffers.apply(new Bootstrap())
                .group(client.eventLoop())
                .channel(transport.channel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        route.replyTimeout().toMillis())
                .handler(first)
                .connect(route.connect().host(), route.connect().port());
    }

    /** The failure of a backend connection that could not be opened. */
    static Failure connectFailed(Route route, Throwable cause) {
        return new Failure(
                Blame.NETWORK,
                FailureKind.CONNECT_FAILED,
                Phase.CONNECT,
                "cannot connect to the backend " + route.connect() + ": "
                        + Objects.requireNonNullElse(
                                cause.getMessage(), cause.getClass().getSimpleName()),
                true);
    }

    private void upstreamNegotiated(ClientOutcome outcome) {
        Route.Upstream upstream = route.upstream();
        if (outcome.status() == ClientOutcome.Status.FAILED) {
            Failure failure = outcome.failure()
                    .orElse(new Failure(
                            Blame.NETWORK, FailureKind.UNEXPECTED_EOF, Phase.SESSION, "connection closed", true));
            if (upstream.mode() == Route.ConnectTls.NONE) {
                // Reason backend-down, as for a backend that cannot be reached.
                backendFailed(new Failure(
                        failure.blame(),
                        FailureKind.CONNECT_FAILED,
                        failure.phase(),
                        "the backend " + route.connect() + " did not greet as a "
                                + route.protocol().scheme() + " server: " + failure.detail(),
                        true));
            } else {
                // Fail closed (RFC 7435 §3: above opportunistic, no TLS means no session).
                backendFailed(detailed(
                        failure,
                        "TLS towards the upstream " + route.connect() + " at level "
                                + upstream.level().name().toLowerCase(Locale.ROOT) + " failed, the client's session is "
                                + "closed, not relayed in plaintext: " + failure.detail()));
            }
            return;
        }
        greeting = outcome.result().map(Result::greeting).orElse("");
        if (outcome.status() == ClientOutcome.Status.TLS) {
            outcome.tls().ifPresent(tls -> events.upstreamTls(route, client.remoteAddress(), tls));
        } else if (upstream.mode() != Route.ConnectTls.NONE) {
            // Level MAY only: the client negotiation never continues in plaintext at ENCRYPT or above.
            events.upstreamPlaintext(
                    route,
                    client.remoteAddress(),
                    outcome.failure()
                            .orElse(Failure.peer(
                                    FailureKind.STARTTLS_NOT_OFFERED,
                                    Phase.CAPABILITIES,
                                    "the upstream did not offer TLS")));
        }
        backendReady.trySuccess(backend);
    }

    /**
     * The client has no greeting yet (plaintext, or implicit TLS just established): once the upstream is
     * ready, greet it with the gateway's greeting and relay; if the upstream failed, send the protocol's
     * temporary-failure reply and close.
     */
    private void greetThenRelay() {
        backendReady.addListener(f -> {
            if (!f.isSuccess()) {
                client.writeAndFlush(line(Relaying.unavailable(route.protocol(), route.hostname())))
                        .addListener(w -> lingeringClose());
                return;
            }
            client.writeAndFlush(line(Relaying.greeting(route.protocol(), greeting, route.hostname())));
            reported = true;
            clientTls.ifPresent(tls -> events.relaying(route, client.remoteAddress(), tls));
            Traffic traffic = Traffic.of(client);
            client.pipeline().addLast(new Relay(backendReady, traffic.fromClient()));
            backend.pipeline().addLast(new Relay(client.eventLoop().newSucceededFuture(client), traffic.toClient()));
        });
    }

    /**
     * Closes the client after a final reply without destroying it: closing a socket with unread input sends
     * a reset, which can discard the reply before the client reads it (the "lingering close" of RFC 9112
     * §9.6). The gateway half-closes, discards what the client still sends, and closes on its end of input
     * or after {@link #LINGER_MILLIS}.
     */
    private void lingeringClose() {
        if (!client.isActive()) {
            return;
        }
        client.shutdownOutput();
        client.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        });
        client.config().setAutoRead(true);
        client.eventLoop().schedule(() -> client.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    private static Failure detailed(Failure f, String detail) {
        return new Failure(f.blame(), f.kind(), f.phase(), detail, f.temporary());
    }

    private static ByteBuf line(String text) {
        return Unpooled.copiedBuffer(text + "\r\n", StandardCharsets.US_ASCII);
    }

    private void backendFailed(Failure failure) {
        if (backendReady.isDone()) {
            return;
        }
        // Reported before the promise fails: its listeners may already answer and close the client.
        if (!reported) {
            reported = true;
            events.refused(route, client.remoteAddress(), failure);
            // The client gets the temporary-failure reply where it expects the next reply, over its TLS once
            // it is up (greetThenRelay, or relay), then the connection is closed.
        }
        backendReady.tryFailure(new IllegalStateException(failure.detail()));
    }

    /** TLS is up on the client side: relay both ways once the backend is ready. */
    private void relay(ChannelHandlerContext ctx, TlsSessionInfo tls) {
        if (route.protocol() == Protocol.FTP) {
            // The control connection command by command, and its passive data connections (RFC 4217).
            reported = true;
            events.relaying(route, client.remoteAddress(), tls);
            Relaying.relayFtp(route, transport, client, backendReady, events);
            return;
        }
        // The backend (termination) or the upstream's TLS (translation) may still be under way, or have failed.
        // The relay holds what the client sends meanwhile; if the backend is down or the upstream's TLS
        // failed, the client gets the protocol's temporary failure over its TLS, where it waits for a reply
        // (421 may answer any command, RFC 5321 §3.8; BYE may come at any time, RFC 9051 §7.1.5), then the
        // connection is closed.
        Promise<Channel> upstreamReady = client.eventLoop().newPromise();
        Traffic traffic = Traffic.of(client);
        Relay clientRelay = new Relay(upstreamReady, traffic.fromClient());
        ctx.pipeline().addLast(clientRelay);
        backendReady.addListener(f -> {
            if (f.isSuccess()) {
                reported = true;
                events.relaying(route, client.remoteAddress(), tls);
                backend.pipeline()
                        .addLast(new Relay(client.eventLoop().newSucceededFuture(client), traffic.toClient()));
                upstreamReady.trySuccess(backend);
            } else if (client.pipeline().context(clientRelay) != null) {
                client.pipeline().remove(clientRelay);
                ByteBuf reply = route.upstream().mode() == Route.ConnectTls.NONE
                        ? Unpooled.wrappedBuffer(Relaying.backendDown(route.protocol(), route.hostname()))
                        : line(Relaying.unavailable(route.protocol(), route.hostname()));
                client.writeAndFlush(reply).addListener(w -> lingeringClose());
            }
        });
    }

    /** The client left before TLS (e.g. QUIT): nothing to report. */
    private void leftBeforeTls() {
        reported = true;
        Relay.closeOnFlush(backend);
    }

    private void refuse(Failure failure) {
        if (!reported) {
            reported = true;
            events.refused(route, client.remoteAddress(), failure);
        }
        Relay.closeOnFlush(backend);
    }

    /** Implicit TLS: relaying starts when the handshake completes. */
    private final class ImplicitHandshake extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent done) {
                if (done.isSuccess()) {
                    SslHandler tls = ctx.pipeline().get(SslHandler.class);
                    if (gatewayGreets) {
                        clientTls = Optional.of(ServerTls.established(tls.engine()));
                        greetThenRelay();
                    } else {
                        relay(ctx, ServerTls.established(tls.engine()));
                    }
                    ctx.pipeline().remove(this);
                } else {
                    refuse(ServerTls.handshakeFailure(
                            done.cause(),
                            done.cause() instanceof SslHandshakeTimeoutException,
                            String.valueOf(client.remoteAddress()),
                            route.handshakeTimeout().toMillis()));
                    ctx.close();
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // The handshake's failure arrives as the completion event as well; that one is reported.
            ctx.close();
        }
    }
}
