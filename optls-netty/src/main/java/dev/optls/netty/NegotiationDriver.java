package dev.optls.netty;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Negotiation;
import dev.optls.core.Phase;
import dev.optls.core.Step;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;

/**
 * The part both handlers share: feeds inbound bytes to a {@link Negotiation}, writes its output, and
 * inserts an {@link SslHandler} at the head of the pipeline when the negotiation asks for TLS.
 *
 * <p>The channel must not auto-read: a read is requested only when the negotiation needs input, so
 * nothing is read (let alone decoded as plaintext) while a command is being answered or TLS is being
 * inserted (Apache James CVE-2021-38542 / CVE-2022-28220 were reads that raced the upgrade).
 */
abstract class NegotiationDriver extends ChannelInboundHandlerAdapter {
    /** Name of the TLS handler in the pipeline. */
    static final String TLS_HANDLER = "optls-tls";

    private static final int DRAIN_CHUNK = 4096;

    private final long replyTimeoutMillis;
    private final long handshakeTimeoutMillis;
    private Negotiation negotiation;
    private CompositeByteBuf pending;
    private CompositeByteBuf held;
    private ScheduledFuture<?> replyTimer;
    private boolean handshaking;
    private boolean finished;
    private boolean began;

    /** @param replyTimeoutMillis and {@code handshakeTimeoutMillis}: positive, checked by the subclasses */
    NegotiationDriver(long replyTimeoutMillis, long handshakeTimeoutMillis) {
        this.replyTimeoutMillis = replyTimeoutMillis;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /** The negotiation to drive; called when the channel becomes active (and after an implicit handshake). */
    final void start(ChannelHandlerContext ctx, Negotiation first) {
        ctx.channel().config().setAutoRead(false);
        negotiation = first;
        pump(ctx);
    }

    /**
     * Implicit TLS: the handshake comes first, then {@link #afterImplicitHandshake()} gives the negotiation,
     * which starts with TLS already active.
     */
    final void startImplicit(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(false);
        insertTls(ctx, ByteBuffer.allocate(0));
    }

    /** Replaces the negotiation (server: a fresh one after the upgrade) and drives it. */
    final void restart(ChannelHandlerContext ctx, Negotiation next) {
        negotiation = next;
        pump(ctx);
    }

    /** Checks the timeouts given to a subclass constructor. */
    static void checkTimeouts(long replyTimeoutMillis, long handshakeTimeoutMillis) {
        if (replyTimeoutMillis <= 0 || handshakeTimeoutMillis <= 0) {
            throw new IllegalArgumentException("timeouts must be positive, got reply " + replyTimeoutMillis
                    + " ms and handshake " + handshakeTimeoutMillis + " ms");
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        pending = ctx.alloc().compositeBuffer();
        held = ctx.alloc().compositeBuffer();
        // Added to a channel that is already connected (e.g. after a PROXY protocol header): start now.
        if (ctx.channel().isActive()) {
            beginOnce(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        beginOnce(ctx);
        ctx.fireChannelActive();
    }

    private void beginOnce(ChannelHandlerContext ctx) {
        if (!began) {
            began = true;
            begin(ctx);
        }
    }

    /** Starts the negotiation (or the implicit-TLS handshake) once the channel is connected. */
    abstract void begin(ChannelHandlerContext ctx);

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
        if (pending != null) {
            pending.release();
            pending = null;
        }
        if (held != null) {
            held.release();
            held = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (finished || negotiation == null) {
            // After the hand-over the application's handlers get the bytes.
            ctx.fireChannelRead(msg);
            return;
        }
        if (handshaking) {
            // Decrypted bytes that the SslHandler passes on with the end of the handshake belong to the
            // negotiation that follows it (or to the application), never to the one before TLS.
            held.addComponent(true, (ByteBuf) msg);
            return;
        }
        ByteBuf buf = (ByteBuf) msg;
        try {
            cancelTimer();
            negotiation.receive(buf.nioBuffer());
        } finally {
            buf.release();
        }
        pump(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!finished && negotiation != null && !handshaking) {
            cancelTimer();
            negotiation.receiveEof();
            pump(ctx);
        } else if (!finished && handshaking) {
            fail(
                    ctx,
                    new Failure(
                            Blame.NETWORK,
                            FailureKind.UNEXPECTED_EOF,
                            Phase.HANDSHAKE,
                            "connection closed during the TLS handshake",
                            true));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && handshaking && !finished) {
            handshaking = false;
            if (done.isSuccess()) {
                handshakeSucceeded(ctx, ctx.pipeline().get(SslHandler.class).engine());
            } else {
                handshakeFailed(ctx, done.cause());
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (finished) {
            // Only a failed session is still in the pipeline once finished, and its channel is closing.
            return;
        }
        if (handshaking) {
            // The SslHandler reports its failure as a completion event too; that one carries the verdict.
            return;
        }
        fail(
                ctx,
                new Failure(
                        Blame.NETWORK,
                        FailureKind.UNEXPECTED_EOF,
                        Phase.SESSION,
                        "connection broken: " + cause.getMessage(),
                        true));
    }

    /** Runs the negotiation until it needs input, waits for the application, or ends. */
    final void pump(ChannelHandlerContext ctx) {
        while (!finished) {
            Step step = negotiation.poll();
            if (step instanceof Step.WriteOutput) {
                drainInto(ctx);
            } else if (step instanceof Step.NeedInput && held.isReadable()) {
                negotiation.receive(held.nioBuffer());
                held.release();
                held = ctx.alloc().compositeBuffer();
            } else if (step instanceof Step.NeedInput) {
                flush(ctx);
                armTimer(ctx);
                ctx.read();
                return;
            } else if (step instanceof Step.Deliver d) {
                flush(ctx);
                onDeliver(ctx, negotiation, d);
            } else if (step instanceof Step.BeginHandshake begin) {
                insertTls(ctx, begin.tlsInput());
                return;
            } else if (step instanceof Step.Completed c) {
                flush(ctx);
                onCompleted(ctx, c);
                return;
            } else if (step instanceof Step.UpgradeUnavailable u) {
                flush(ctx);
                onUpgradeUnavailable(ctx, u);
                return;
            } else if (step instanceof Step.Failed f) {
                flush(ctx);
                fail(ctx, f.failure());
                return;
            } else {
                throw new IllegalStateException("unknown step " + step);
            }
        }
    }

    private void insertTls(ChannelHandlerContext ctx, ByteBuffer tlsInput) {
        handshaking = true;
        // The plaintext that ends the phase (server: the go-ahead; client: the upgrade request) is queued on
        // the channel before the TLS handler exists, so it can never be encrypted nor follow a ClientHello.
        // Reads are off and we are on the event loop: nothing is read until the TLS handler is in place
        // (Netty's SslHandler javadoc, "Implementing StartTLS", without the race its startTls flag covers).
        flush(ctx);
        ctx.pipeline().addFirst(TLS_HANDLER, newTlsHandler(ctx, handshakeTimeoutMillis));
        if (tlsInput.hasRemaining()) {
            // RFC 3207 §4.2 / CVE-2011-0411: bytes sent with the upgrade command are the start of TLS.
            ByteBuf early = ctx.alloc().buffer(tlsInput.remaining());
            early.writeBytes(tlsInput);
            ctx.pipeline().fireChannelRead(early);
            ctx.pipeline().fireChannelReadComplete();
        }
        ctx.read();
    }

    private void handshakeSucceeded(ChannelHandlerContext ctx, SSLEngine engine) {
        HandshakeSummary summary;
        try {
            summary = onHandshake(ctx, engine);
        } catch (HandshakeRejected e) {
            fail(ctx, e.failure);
            return;
        }
        if (negotiation == null) {
            negotiation = afterImplicitHandshake();
        } else {
            negotiation.handshakeCompleted(summary);
        }
        pump(ctx);
    }

    private void handshakeFailed(ChannelHandlerContext ctx, Throwable cause) {
        fail(
                ctx,
                onHandshakeFailure(
                        cause,
                        cause instanceof SslHandshakeTimeoutException,
                        String.valueOf(ctx.channel().remoteAddress()),
                        handshakeTimeoutMillis));
    }

    final void fail(ChannelHandlerContext ctx, Failure failure) {
        if (finished) {
            return;
        }
        finished = true;
        cancelTimer();
        flush(ctx);
        onFailed(ctx, failure);
        ctx.close();
    }

    /**
     * Stops driving: the application owns the channel from here. Bytes that arrived after the handshake
     * and were not consumed are passed on to the next handlers.
     */
    final void finish(ChannelHandlerContext ctx) {
        finished = true;
        cancelTimer();
        if (held.isReadable()) {
            ByteBuf rest = held;
            held = ctx.alloc().compositeBuffer();
            ctx.fireChannelRead(rest);
            ctx.fireChannelReadComplete();
        }
    }

    private void drainInto(ChannelHandlerContext ctx) {
        ByteBuffer chunk = ByteBuffer.allocate(DRAIN_CHUNK);
        while (negotiation.drainOutput(chunk) > 0) {
            chunk.flip();
            ByteBuf buf = ctx.alloc().buffer(chunk.remaining());
            buf.writeBytes(chunk);
            pending.addComponent(true, buf);
            chunk.clear();
        }
    }

    private void flush(ChannelHandlerContext ctx) {
        if (pending.isReadable()) {
            ByteBuf out = pending;
            pending = ctx.alloc().compositeBuffer();
            ctx.writeAndFlush(out);
        }
    }

    private void armTimer(ChannelHandlerContext ctx) {
        cancelTimer();
        replyTimer = ctx.executor()
                .schedule(
                        () -> fail(
                                ctx,
                                new Failure(
                                        Blame.NETWORK,
                                        FailureKind.TIMEOUT,
                                        Phase.SESSION,
                                        "peer sent nothing for " + replyTimeoutMillis + " ms",
                                        true)),
                        replyTimeoutMillis,
                        TimeUnit.MILLISECONDS);
    }

    private void cancelTimer() {
        if (replyTimer != null) {
            replyTimer.cancel(false);
            replyTimer = null;
        }
    }

    /**
     * The handler that runs TLS (an {@link SslHandler}, or one that puts an {@code SslHandler} in its place
     * under the name {@link #TLS_HANDLER}).
     */
    abstract ChannelHandler newTlsHandler(ChannelHandlerContext ctx, long handshakeTimeoutMillis);

    /**
     * The handshake completed: what the negotiation must know.
     *
     * @throws HandshakeRejected if the result is not acceptable (e.g. a foreign ALPN protocol)
     */
    abstract HandshakeSummary onHandshake(ChannelHandlerContext ctx, SSLEngine engine) throws HandshakeRejected;

    /** The failure for a handshake that did not complete. */
    abstract Failure onHandshakeFailure(Throwable cause, boolean timedOut, String peer, long timeoutMillis);

    /** Implicit TLS: the negotiation that runs once the handshake is done. */
    Negotiation afterImplicitHandshake() {
        throw new IllegalStateException("this handler does not speak implicit TLS");
    }

    /** Server side: a command for the application. */
    void onDeliver(ChannelHandlerContext ctx, Negotiation negotiation, Step.Deliver deliver) {
        throw new IllegalStateException("a client negotiation delivered " + deliver);
    }

    abstract void onCompleted(ChannelHandlerContext ctx, Step.Completed completed);

    void onUpgradeUnavailable(ChannelHandlerContext ctx, Step.UpgradeUnavailable unavailable) {
        throw new IllegalStateException("a server negotiation returned " + unavailable);
    }

    abstract void onFailed(ChannelHandlerContext ctx, Failure failure);

    /** A completed handshake that must not be used. */
    static final class HandshakeRejected extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Failure failure;

        HandshakeRejected(Failure failure) {
            super(failure.detail());
            this.failure = failure;
        }
    }
}
