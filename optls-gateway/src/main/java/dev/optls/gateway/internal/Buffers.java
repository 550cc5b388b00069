package dev.optls.gateway.internal;

import io.netty.bootstrap.AbstractBootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.RecvByteBufAllocator;

/**
 * The buffers of the gateway's connections, client and backend side alike. A relayed read is sized to what
 * the socket holds, from 2 KiB up to {@link #MAX_READ} (one TLS read can then complete up to 16 records, each
 * at most 16 KiB plus overhead, RFC 8446 §5.2, and the relay writes them with one system call); buffers come
 * from Netty's pooled allocator, which keeps buffers of that size in its pools where the adaptive default
 * allocates and zeroes a fresh direct buffer for each one above 64 KiB.
 */
public final class Buffers {
    /** The largest read of a relayed connection. */
    public static final int MAX_READ = 256 * 1024;

    private static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;
    private static final RecvByteBufAllocator READS = new AdaptiveRecvByteBufAllocator(64, 2048, MAX_READ);

    private Buffers() {}

    /** Applies the gateway's buffers to connections made by {@code bootstrap} (backend side). */
    public static <B extends AbstractBootstrap<B, ?>> B apply(B bootstrap) {
        return bootstrap.option(ChannelOption.ALLOCATOR, ALLOCATOR).option(ChannelOption.RECVBUF_ALLOCATOR, READS);
    }

    /** Applies the gateway's buffers to the connections {@code bootstrap} accepts (client side). */
    public static ServerBootstrap applyToAccepted(ServerBootstrap bootstrap) {
        return bootstrap
                .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, READS);
    }
}
