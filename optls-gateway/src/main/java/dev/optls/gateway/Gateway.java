package dev.optls.gateway;

import dev.optls.core.Failure;
import dev.optls.netty.Transport;
import dev.optls.tls.TlsSessionInfo;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A running gateway: one listener per route. Clients get TLS from the gateway (STARTTLS or implicit), or
 * the gateway gets TLS from the upstream (STARTTLS or implicit, at a security level), or both; the session is
 * relayed once TLS is up, never before, and a route whose TLS fails closes the client's connection.
 */
public final class Gateway implements AutoCloseable {
    /** What happens to connections; called on event-loop threads, so keep it quick. */
    public interface Events {
        /** A client's TLS is up and its session is being relayed to the backend. */
        default void relaying(Route route, SocketAddress client, TlsSessionInfo tls) {}

        /**
         * The gateway's TLS towards the upstream is up (origination and translation routes); the session is
         * relayed from here.
         */
        default void upstreamTls(Route route, SocketAddress client, TlsSessionInfo upstreamTls) {}

        /**
         * Level {@code may} only: the upstream did not give TLS and the session is relayed in plaintext
         * (RFC 7435 opportunistic security); {@code reason} says why.
         */
        default void upstreamPlaintext(Route route, SocketAddress client, Failure reason) {}

        /** A client's connection was refused or aborted before relaying started. */
        default void refused(Route route, SocketAddress client, Failure failure) {}
    }

    private final EventLoopGroup group;
    private final List<Channel> listeners;
    private final Map<String, InetSocketAddress> bound;

    private Gateway(EventLoopGroup group, List<Channel> listeners, Map<String, InetSocketAddress> bound) {
        this.group = group;
        this.listeners = listeners;
        this.bound = bound;
    }

    /**
     * Binds every route's listener and starts serving.
     *
     * @throws GatewayException if a listener cannot be bound (nothing is left running then)
     */
    public static Gateway start(GatewayConfig config, Events events) {
        return start(config, events, Transport.best(), 0);
    }

    /**
     * Binds every route's listener on {@code transport} with {@code threads} event loops (0: Netty's default).
     *
     * @throws GatewayException if a listener cannot be bound (nothing is left running then)
     */
    public static Gateway start(GatewayConfig config, Events events, Transport transport, int threads) {
        EventLoopGroup group = transport.group(threads);
        List<Channel> listeners = new ArrayList<>();
        Map<String, InetSocketAddress> bound = new LinkedHashMap<>();
        for (Route route : config.routes()) {
            ChannelFuture bind = new ServerBootstrap()
                    .group(group)
                    .channel(transport.serverChannel())
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            new Connection(route, ch, events, transport).start();
                        }
                    })
                    .bind(route.listen().host(), route.listen().port())
                    .awaitUninterruptibly();
            if (!bind.isSuccess()) {
                listeners.forEach(Channel::close);
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
                throw new GatewayException("route \"" + route.name() + "\": cannot listen on " + route.listen() + ": "
                        + bind.cause().getMessage() + " (is another program using the port, or does it need root?)");
            }
            listeners.add(bind.channel());
            bound.put(route.name(), (InetSocketAddress) bind.channel().localAddress());
        }
        return new Gateway(group, listeners, bound);
    }

    /** The address each route listens on, by route name (useful with port 0). */
    public Map<String, InetSocketAddress> boundAddresses() {
        return Map.copyOf(bound);
    }

    /** Stops listening and closes every connection. */
    @Override
    public void close() {
        listeners.forEach(c -> c.close().syncUninterruptibly());
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
