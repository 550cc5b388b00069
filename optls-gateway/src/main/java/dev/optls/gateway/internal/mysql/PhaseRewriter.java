package dev.optls.gateway.internal.mysql;

import dev.optls.core.Failure;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.Optional;

/**
 * One direction of a {@link ConnectionPhase} in a Netty pipeline, just before the relay: rewrites each
 * buffer in place and passes it on, until the phase is over; then it leaves the pipeline. Both directions'
 * handlers share the phase and must run on the same event loop.
 */
public final class PhaseRewriter extends ChannelInboundHandlerAdapter {
    /** Hears how the connection phase ended; called on the event loop. */
    public interface Listener {
        /** The backend's OK or ERR is being passed to the client: the connection phase is over. */
        void ended();

        /** The bytes broke the protocol and were dropped; both connections must be closed. */
        void failed(Failure failure);
    }

    private final ConnectionPhase phase;
    private final boolean fromClient;
    private final Listener listener;

    /** @param fromClient whether this handler reads the client (else the backend) */
    public PhaseRewriter(ConnectionPhase phase, boolean fromClient, Listener listener) {
        this.phase = phase;
        this.fromClient = fromClient;
        this.listener = listener;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase.done() || !(msg instanceof ByteBuf buf)) {
            leave(ctx);
            ctx.fireChannelRead(msg);
            return;
        }
        if (phase.failure().isPresent()) {
            buf.release();
            return;
        }
        ConnectionPhase.Bytes bytes = view(buf);
        Optional<Failure> failure = fromClient ? phase.fromClient(bytes) : phase.fromBackend(bytes);
        if (failure.isPresent()) {
            buf.release();
            listener.failed(failure.get());
            return;
        }
        if (phase.done()) {
            listener.ended();
            ctx.fireChannelRead(buf);
            leave(ctx);
            return;
        }
        ctx.fireChannelRead(buf);
    }

    private void leave(ChannelHandlerContext ctx) {
        if (ctx.pipeline().context(this) != null) {
            ctx.pipeline().remove(this);
        }
    }

    private static ConnectionPhase.Bytes view(ByteBuf buf) {
        int from = buf.readerIndex();
        int size = buf.readableBytes();
        return new ConnectionPhase.Bytes() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public int get(int index) {
                return buf.getUnsignedByte(from + index);
            }

            @Override
            public void set(int index, int value) {
                buf.setByte(from + index, value);
            }
        };
    }
}
