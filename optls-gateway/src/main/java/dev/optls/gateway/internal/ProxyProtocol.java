package dev.optls.gateway.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The PROXY protocol (HAProxy, versions 1 and 2): read from a load balancer in front of the gateway, so that
 * logs, limits and the backend see the real client; and written towards backends that expect it (Postfix
 * {@code smtpd_upstream_proxy_protocol}, Dovecot {@code haproxy_trusted_networks}).
 */
public final class ProxyProtocol {
    private ProxyProtocol() {}

    /** Which header to send to a backend. */
    public enum Version {
        /** The text header, {@code PROXY TCP4 …\r\n}. */
        V1,
        /** The binary header. */
        V2
    }

    /**
     * Puts a PROXY header reader at the front of {@code pipeline}. Nothing else runs until a valid header
     * has been read: then {@code onHeader} gets the real client address (empty for a {@code LOCAL} header,
     * e.g. a load balancer's health check) and the bytes after the header go on to the handlers it adds. A
     * missing, invalid or late header closes the connection and calls {@code onFailure} with the reason.
     *
     * @param timeoutMillis how long the load balancer may take to send the header
     */
    public static void expectHeader(
            ChannelPipeline pipeline,
            long timeoutMillis,
            BiConsumer<ChannelHandlerContext, Optional<InetSocketAddress>> onHeader,
            Consumer<String> onFailure) {
        pipeline.addFirst(new HeaderReader(timeoutMillis, onHeader, onFailure));
        // The decoder goes before the reader and removes itself after one header.
        pipeline.addFirst(new HAProxyMessageDecoder());
    }

    /**
     * A handler for a backend connection that sends {@code header} before anything else happens on it, then
     * gives way to {@code next} (which sees the connection become active only after the header is written).
     */
    public static ChannelHandler sendingHeader(HAProxyMessage header, ChannelHandler next) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(HAProxyMessageEncoder.INSTANCE, new HeaderWriter(header), next);
            }
        };
    }

    private static final class HeaderWriter extends ChannelInboundHandlerAdapter {
        private final HAProxyMessage header;

        HeaderWriter(HAProxyMessage header) {
            this.header = header;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(header);
            ctx.pipeline().remove(HAProxyMessageEncoder.INSTANCE);
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
        }
    }

    /** The header announcing {@code client} connecting to {@code server} through the gateway. */
    public static HAProxyMessage header(Version version, InetSocketAddress client, InetSocketAddress server) {
        boolean v4 = client.getAddress() instanceof Inet4Address && server.getAddress() instanceof Inet4Address;
        return new HAProxyMessage(
                version == Version.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2,
                HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                client.getAddress().getHostAddress(),
                server.getAddress().getHostAddress(),
                client.getPort(),
                server.getPort());
    }

    private static final class HeaderReader extends ChannelInboundHandlerAdapter {
        private final long timeoutMillis;
        private final BiConsumer<ChannelHandlerContext, Optional<InetSocketAddress>> onHeader;
        private final Consumer<String> onFailure;
        private ScheduledFuture<?> timer;
        private boolean done;

        HeaderReader(
                long timeoutMillis,
                BiConsumer<ChannelHandlerContext, Optional<InetSocketAddress>> onHeader,
                Consumer<String> onFailure) {
            this.timeoutMillis = timeoutMillis;
            this.onHeader = onHeader;
            this.onFailure = onFailure;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive()) {
                arm(ctx);
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            arm(ctx);
            ctx.fireChannelActive();
        }

        private void arm(ChannelHandlerContext ctx) {
            if (timer == null) {
                timer = ctx.executor()
                        .schedule(
                                () -> fail(ctx, "no PROXY protocol header within " + timeoutMillis + " ms"),
                                timeoutMillis,
                                TimeUnit.MILLISECONDS);
                ctx.read();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (done) {
                ctx.fireChannelRead(msg);
                return;
            }
            if (!(msg instanceof HAProxyMessage header)) {
                ReferenceCountUtil.release(msg);
                fail(ctx, "expected a PROXY protocol header first");
                return;
            }
            Optional<InetSocketAddress> client;
            try {
                client = header.command() == HAProxyCommand.LOCAL
                                || header.proxiedProtocol() == HAProxyProxiedProtocol.UNKNOWN
                        ? Optional.empty()
                        : Optional.of(new InetSocketAddress(header.sourceAddress(), header.sourcePort()));
            } finally {
                header.release();
            }
            done = true;
            timer.cancel(false);
            // The handlers that take over are added after this one; bytes after the header reach them.
            onHeader.accept(ctx, client);
            ctx.pipeline().remove(this);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!done) {
                ctx.read();
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (done) {
                ctx.fireExceptionCaught(cause);
                return;
            }
            fail(ctx, "invalid PROXY protocol header: " + cause.getMessage());
        }

        private void fail(ChannelHandlerContext ctx, String reason) {
            if (!done) {
                done = true;
                if (timer != null) {
                    timer.cancel(false);
                }
                onFailure.accept(reason);
                ctx.close();
            }
        }
    }
}
