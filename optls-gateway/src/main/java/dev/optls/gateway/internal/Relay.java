package dev.optls.gateway.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * Copies one channel's bytes to its peer, one read at a time: what one read delivers (for a TLS channel,
 * every record that read completed) is written to the peer and flushed once, and the next read is requested
 * only when that write has gone out, so a fast sender cannot fill the gateway's memory (auto-read is off).
 * Bytes that arrive before the peer is ready are held (at most what was already read: no read is requested
 * meanwhile).
 */
public final class Relay extends ChannelInboundHandlerAdapter {
    /** Observes one direction of a relay (metrics, session logs); called on the channel's event loop. */
    public interface Meter {
        /** The peer is ready and relaying begins. */
        void started();

        /** {@code bytes} were read and passed on to the peer. */
        void relayed(int bytes);

        /** Observes nothing. */
        Meter NONE = new Meter() {
            @Override
            public void started() {}

            @Override
            public void relayed(int bytes) {}
        };
    }

    private final Future<Channel> peerReady;
    private final Meter meter;
    private final Queue<Object> early = new ArrayDeque<>();
    private Channel peer;
    /** The last write of the current read, not flushed yet; null when nothing is pending. */
    private ChannelFuture pending;

    /** @param peerReady completes with the peer channel when it may be written to */
    public Relay(Future<Channel> peerReady) {
        this(peerReady, Meter.NONE);
    }

    /**
     * @param peerReady completes with the peer channel when it may be written to
     * @param meter told when relaying starts and how many bytes go through
     */
    public Relay(Future<Channel> peerReady, Meter meter) {
        this.peerReady = peerReady;
        this.meter = meter;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        peerReady.addListener(f -> {
            if (!f.isSuccess()) {
                closeOnFlush(ctx.channel());
                return;
            }
            ctx.executor().execute(() -> start(ctx, peerReady.getNow()));
        });
    }

    private void start(ChannelHandlerContext ctx, Channel ready) {
        peer = ready;
        meter.started();
        Object msg;
        while ((msg = early.poll()) != null) {
            count(msg);
            peer.write(msg);
        }
        peer.flush();
        if (!ctx.channel().isActive()) {
            closeOnFlush(peer);
            return;
        }
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (peer == null) {
            early.add(msg);
            return;
        }
        count(msg);
        pending = peer.write(msg);
    }

    /** The read is complete: one flush for everything it delivered, and the next read once that went out. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ChannelFuture last = pending;
        if (last == null) {
            return;
        }
        pending = null;
        peer.flush();
        last.addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                ctx.read();
            } else {
                ctx.close();
                f.channel().close();
            }
        });
    }

    private void count(Object msg) {
        if (msg instanceof ByteBuf bytes) {
            meter.relayed(bytes.readableBytes());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (peer != null) {
            closeOnFlush(peer);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Object msg;
        while ((msg = early.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        closeOnFlush(ctx.channel());
        if (peer != null) {
            closeOnFlush(peer);
        }
    }

    /** Closes {@code channel} once what was written to it has gone out. */
    public static void closeOnFlush(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }
}
