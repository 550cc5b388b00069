package dev.optls.gateway;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
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
import io.netty.util.concurrent.Promise;
import java.util.Optional;

/** One client connection of a route, and its backend connection. */
final class Connection {
    private final Route route;
    private final SocketChannel client;
    private final Gateway.Events events;
    private final Transport transport;
    private final Promise<Channel> backendReady;
    private Channel backend;
    /** Set once the connection's fate is reported: later backend trouble is only its consequence. */
    private boolean reported;

    Connection(Route route, SocketChannel client, Gateway.Events events, Transport transport) {
        this.route = route;
        this.client = client;
        this.events = events;
        this.transport = transport;
        this.backendReady = client.eventLoop().newPromise();
    }

    void start() {
        boolean implicit = route.listenTls() == Route.ListenTls.IMPLICIT;
        // The backend connection is opened at once, in parallel with the client's plaintext phase and
        // handshake, so that relaying can start as soon as TLS is up.
        connectBackend(!implicit && Relaying.backend(route.protocol()) == Relaying.Backend.GREETING_THEN_CAPABILITIES);
        if (implicit) {
            client.pipeline()
                    .addLast(new AcceptTls(route.tls(), route.handshakeTimeout().toMillis()), new ImplicitHandshake());
            client.read();
        } else {
            client.pipeline()
                    .addLast(new StartTlsServerHandler(
                            route.protocol(),
                            ServerOptions.offering(route.hostname(), Capabilities.NONE)
                                    .withTlsRequired(true)
                                    .withGreeting("optls gateway ready"),
                            Optional.of(route.tls()),
                            Relaying.beforeTls(route.protocol()),
                            StartTlsServerHandler.Mode.UPGRADE,
                            new Upgrade(),
                            route.replyTimeout().toMillis(),
                            route.handshakeTimeout().toMillis()));
        }
    }

    private void connectBackend(boolean readGreeting) {
        Promise<ClientOutcome> preamble = client.eventLoop().newPromise();
        ChannelHandler handler = readGreeting
                ? new StartTlsClientHandler(
                        route.protocol(),
                        ClientOptions.of(SecurityLevel.NONE).withHelloName(route.hostname()),
                        Optional.empty(),
                        route.connect().host(),
                        route.connect().port(),
                        preamble,
                        route.replyTimeout().toMillis(),
                        route.handshakeTimeout().toMillis())
                : new ChannelInboundHandlerAdapter();
        ChannelFuture connect = new Bootstrap()
                .group(client.eventLoop())
                .channel(transport.channel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        route.replyTimeout().toMillis())
                .handler(handler)
                .connect(route.connect().host(), route.connect().port());
        backend = connect.channel();
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                backendFailed("cannot connect to the backend " + route.connect() + ": "
                        + f.cause().getMessage());
            } else if (!readGreeting) {
                backendReady.trySuccess(backend);
            }
        });
        preamble.addListener(f -> {
            ClientOutcome outcome = preamble.getNow();
            if (outcome.status() == ClientOutcome.Status.FAILED) {
                backendFailed("the backend " + route.connect() + " did not greet as a "
                        + route.protocol().scheme() + " server: "
                        + outcome.failure().map(Failure::detail).orElse("closed"));
            } else {
                backendReady.trySuccess(backend);
            }
        });
        client.closeFuture().addListener(f -> Relay.closeOnFlush(backend));
    }

    private void backendFailed(String detail) {
        if (backendReady.tryFailure(new IllegalStateException(detail)) && !reported) {
            reported = true;
            events.refused(
                    route,
                    client.remoteAddress(),
                    new Failure(Blame.NETWORK, FailureKind.CONNECT_FAILED, Phase.CONNECT, detail, true));
            Relay.closeOnFlush(client);
        }
    }

    /** TLS is up on the client side: relay both ways once the backend is ready. */
    private void relay(ChannelHandlerContext ctx, TlsSessionInfo tls) {
        reported = true;
        events.relaying(route, client.remoteAddress(), tls);
        Traffic traffic = Traffic.of(client);
        ctx.pipeline().addLast(new Relay(backendReady, traffic.fromClient()));
        backendReady.addListener(f -> {
            if (f.isSuccess()) {
                backend.pipeline()
                        .addLast(new Relay(client.eventLoop().newSucceededFuture(client), traffic.toClient()));
            }
        });
    }

    private final class Upgrade implements StartTlsServerHandler.Listener {
        @Override
        public void handedOff(ChannelHandlerContext ctx, Result result, Optional<TlsSessionInfo> tls) {
            if (tls.isEmpty()) {
                // A binary protocol's command before TLS: nothing crosses to the backend in plaintext.
                refuse(Failure.peer(
                        FailureKind.PROTOCOL_VIOLATION,
                        Phase.UPGRADE,
                        "client sent " + route.protocol().scheme() + " traffic without asking for TLS first; "
                                + "the gateway relays only over TLS"));
                ctx.close();
                return;
            }
            relay(ctx, tls.get());
        }

        @Override
        public void closed(Result result, Optional<TlsSessionInfo> tls) {
            // The client left before TLS (e.g. QUIT): nothing to report.
            reported = true;
            Relay.closeOnFlush(backend);
        }

        @Override
        public void failed(Failure failure, Optional<TlsSessionInfo> tls) {
            refuse(failure);
        }
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
                    relay(ctx, ServerTls.established(tls.engine()));
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
