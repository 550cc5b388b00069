package dev.optls.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsSessionInfo;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.contract.AdapterContract;
import dev.optls.tls.contract.BlockingPeer;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The Netty handlers (JDK engine) against the same adapter contract as the blocking adapter. */
class NettyAdapterTest extends AdapterContract {
    /** The server engines under test. */
    ServerEngines engines(ServerTls tls) {
        return ServerEngines.jdk(tls);
    }

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
            Protocol protocol,
            ServerOptions options,
            Optional<ServerTls> tls,
            CommandHandler handler,
            boolean implicit) {
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
                                .addLast(
                                        implicit
                                                ? StartTlsServerHandler.implicitTls(
                                                        protocol,
                                                        options,
                                                        engines(tls.orElseThrow()),
                                                        handler,
                                                        listener,
                                                        FAST.reply().toMillis(),
                                                        FAST.handshakeMillis())
                                                : new StartTlsServerHandler(
                                                        protocol,
                                                        options,
                                                        tls.map(NettyAdapterTest.this::engines),
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

    /** Each Netty side against the blocking adapter's opposite side, for every protocol. */
    @ParameterizedTest
    @EnumSource(Protocol.class)
    void nettyAndBlockingSidesInteroperate(Protocol protocol) throws Exception {
        Server blockingServer = BlockingPeer.serveOnce(
                protocol, options(protocol), Optional.of(serverTls(protocol)), handler(protocol), false, FAST);
        try (ClientView nettyClient = connect(
                protocol,
                ClientOptions.of(SecurityLevel.VERIFY),
                clientTls(protocol, SecurityLevel.VERIFY),
                blockingServer.port(),
                FAST)) {
            assertThat(nettyClient.failure()).isEmpty();
            assertThat(nettyClient.status()).isEqualTo(ClientSession.Status.TLS);
        }
        assertThat(blockingServer.outcome().get(10, TimeUnit.SECONDS).tls()).isTrue();

        Server nettyServer =
                serveOnce(protocol, options(protocol), Optional.of(serverTls(protocol)), handler(protocol), false);
        try (ClientView blockingClient = BlockingPeer.connect(
                protocol,
                ClientOptions.of(SecurityLevel.VERIFY),
                clientTls(protocol, SecurityLevel.VERIFY),
                nettyServer.port(),
                FAST)) {
            assertThat(blockingClient.failure()).isEmpty();
            assertThat(blockingClient.status()).isEqualTo(ClientSession.Status.TLS);
        }
        assertThat(nettyServer.outcome().get(10, TimeUnit.SECONDS).tls()).isTrue();
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
