package dev.optls.netty;

import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsSessionInfo;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.contract.AdapterContract;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The Netty handlers against the same adapter contract as the blocking adapter. */
class NettyAdapterTest extends AdapterContract {
    private static EventLoopGroup group;

    @BeforeAll
    static void loop() {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    @AfterAll
    static void shutdown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Override
    protected Server serveOnce(
            Protocol protocol, ServerOptions options, Optional<ServerTls> tls, CommandHandler handler) {
        CompletableFuture<ServerView> outcome = new CompletableFuture<>();
        StartTlsServerHandler.Listener listener = new StartTlsServerHandler.Listener() {
            @Override
            public void handedOff(ChannelHandlerContext ctx, Result result, Optional<TlsSessionInfo> info) {
                outcome.complete(new ServerView(info.isPresent(), Optional.empty(), Optional.of(result)));
                ctx.close();
            }

            @Override
            public void closed(Result result, Optional<TlsSessionInfo> info) {
                outcome.complete(new ServerView(info.isPresent(), Optional.empty(), Optional.of(result)));
            }

            @Override
            public void failed(Failure failure, Optional<TlsSessionInfo> info) {
                outcome.complete(new ServerView(info.isPresent(), Optional.of(failure), Optional.empty()));
            }
        };
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new StartTlsServerHandler(
                                        protocol,
                                        options,
                                        tls,
                                        handler,
                                        StartTlsServerHandler.Mode.SERVE,
                                        listener,
                                        FAST.reply().toMillis(),
                                        FAST.handshakeMillis()));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .syncUninterruptibly()
                .channel();
        outcome.whenComplete((v, e) -> server.close());
        return new Server(((InetSocketAddress) server.localAddress()).getPort(), outcome);
    }

    @Override
    protected ClientView connect(Protocol protocol, ClientOptions options, ClientTls tls, int port, Timeouts timeouts)
            throws Exception {
        Promise<ClientOutcome> promise = group.next().newPromise();
        new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new StartTlsClientHandler(
                        protocol,
                        options,
                        Optional.of(tls),
                        "127.0.0.1",
                        port,
                        promise,
                        timeouts.reply().toMillis(),
                        timeouts.handshakeMillis()))
                .connect(new InetSocketAddress("127.0.0.1", port));
        ClientOutcome outcome = promise.get(20, TimeUnit.SECONDS);
        Optional<Channel> channel = outcome.channel();
        return new ClientView(
                switch (outcome.status()) {
                    case TLS -> ClientSession.Status.TLS;
                    case PLAINTEXT -> ClientSession.Status.PLAINTEXT;
                    case FAILED -> ClientSession.Status.FAILED;
                },
                channel.map(Channel::isOpen).orElse(false),
                channel.map(c -> c.pipeline().get(SslHandler.class) != null).orElse(false),
                outcome.failure(),
                outcome.result(),
                outcome.tls().map(TlsSessionInfo::protocolVersion),
                outcome.tls().map(TlsSessionInfo::applicationProtocol),
                outcome.verification(),
                outcome.peerChain(),
                () -> channel.ifPresent(c -> c.close().syncUninterruptibly()));
    }
}
