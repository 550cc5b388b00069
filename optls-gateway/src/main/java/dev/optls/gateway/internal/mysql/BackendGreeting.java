package dev.optls.gateway.internal.mysql;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.core.mysql.MysqlFlags;
import dev.optls.core.mysql.MysqlGreeting;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Reads a MySQL backend's first packet (protocols.md §11.1: the server speaks first, Protocol::HandshakeV10
 * with sequence id 0, or an ERR packet when it refuses the connection) and leaves the pipeline. Bounded: at
 * most {@value #MAX_PAYLOAD} payload bytes, within the reply timeout; nothing may follow the packet, since
 * the backend must wait for the client's answer. The channel must not auto-read.
 */
public final class BackendGreeting extends ChannelInboundHandlerAdapter {
    /** The largest greeting accepted: a real one is under 100 bytes. */
    public static final int MAX_PAYLOAD = 1024;

    private static final int HEADER = 4;

    /** What the backend said first. */
    public sealed interface Outcome {}

    /** A HandshakeV10 greeting the gateway can relay. */
    public record Greeted(MysqlGreeting greeting) implements Outcome {}

    /**
     * The backend refused the connection with an ERR packet (e.g. 1040 "Too many connections", 1129 "Host
     * is blocked"): {@code packet} is the whole packet, for the client, and {@code text} its message.
     */
    public record Refused(byte[] packet, String text) implements Outcome {}

    /** The backend did not greet as a MySQL server the gateway can relay. */
    public record Failed(Failure failure) implements Outcome {}

    private final long timeoutMillis;
    private final String backend;
    private final Consumer<Outcome> outcome;
    private byte[] received = new byte[0];
    private ScheduledFuture<?> timer;
    private boolean finished;

    /**
     * @param backend the backend's address, for messages
     * @param outcome told once, on the channel's event loop, after this handler left the pipeline
     */
    public BackendGreeting(long timeoutMillis, String backend, Consumer<Outcome> outcome) {
        this.timeoutMillis = timeoutMillis;
        this.backend = backend;
        this.outcome = outcome;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            begin(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        begin(ctx);
        ctx.fireChannelActive();
    }

    private void begin(ChannelHandlerContext ctx) {
        if (timer != null) {
            return;
        }
        timer = ctx.executor()
                .schedule(
                        () -> finish(
                                ctx,
                                failed(
                                        FailureKind.TIMEOUT,
                                        "the backend " + backend + " sent no greeting within " + timeoutMillis
                                                + " ms")),
                        timeoutMillis,
                        TimeUnit.MILLISECONDS);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (finished) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf buf = (ByteBuf) msg;
        try {
            int had = received.length;
            int take = Math.min(buf.readableBytes(), HEADER + MAX_PAYLOAD + 1 - had);
            received = Arrays.copyOf(received, had + take);
            buf.readBytes(received, had, take);
        } finally {
            buf.release();
        }
        if (received.length >= HEADER) {
            int length = (received[0] & 0xff) | (received[1] & 0xff) << 8 | (received[2] & 0xff) << 16;
            if (length > MAX_PAYLOAD) {
                finish(
                        ctx,
                        failed(
                                FailureKind.LIMIT_EXCEEDED,
                                "the backend " + backend + " announced a " + length + "-byte greeting (limit "
                                        + MAX_PAYLOAD + " bytes)"));
                return;
            }
            if (received.length > HEADER + length) {
                finish(
                        ctx,
                        failed(
                                FailureKind.PROTOCOL_VIOLATION,
                                "the backend " + backend + " sent more than its greeting before the client said "
                                        + "anything"));
                return;
            }
            if (received.length == HEADER + length) {
                finish(ctx, decode(received));
                return;
            }
        }
        ctx.read();
    }

    private Outcome decode(byte[] packet) {
        byte[] payload = Arrays.copyOfRange(packet, HEADER, packet.length);
        if ((packet[3] & 0xff) != 0) {
            return failed(
                    FailureKind.PROTOCOL_VIOLATION,
                    "the backend " + backend + "'s greeting has sequence id " + (packet[3] & 0xff) + ", expected 0");
        }
        if (payload.length >= 3 && (payload[0] & 0xff) == 0xff) {
            // ERR_Packet instead of the greeting: the backend refuses the connection; the client gets it as is.
            int code = (payload[1] & 0xff) | (payload[2] & 0xff) << 8;
            String text = new String(payload, 3, payload.length - 3, StandardCharsets.UTF_8)
                    .replaceAll("[^\\x20-\\x7e]", "?");
            return new Refused(packet, "ERROR " + code + ": " + text);
        }
        MysqlGreeting greeting;
        try {
            greeting = MysqlGreeting.decode(payload);
        } catch (IllegalArgumentException e) {
            return failed(
                    FailureKind.MALFORMED,
                    "the backend " + backend + " did not greet as a MySQL server (" + e.getMessage() + "): "
                            + ByteBufUtil.hexDump(payload, 0, Math.min(payload.length, 32)));
        }
        if ((greeting.capabilities() & MysqlFlags.CLIENT_PROTOCOL_41) == 0) {
            return failed(
                    FailureKind.MALFORMED,
                    "the backend " + backend + " speaks the pre-4.1 protocol (no CLIENT_PROTOCOL_41), which the "
                            + "gateway does not relay");
        }
        if (greeting.serverVersion().chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
            return failed(
                    FailureKind.MALFORMED, "the backend " + backend + "'s server version contains control characters");
        }
        return new Greeted(greeting);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!finished) {
            finish(
                    ctx,
                    failed(
                            FailureKind.UNEXPECTED_EOF,
                            "the backend " + backend + " closed the connection before greeting"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!finished) {
            finish(
                    ctx,
                    failed(
                            FailureKind.UNEXPECTED_EOF,
                            "the connection to the backend " + backend + " broke before its greeting: "
                                    + cause.getMessage()));
        }
        ctx.close();
    }

    /**
     * Every way the backend can fail to greet is reported as {@link FailureKind#CONNECT_FAILED} (the reason
     * {@code backend-down} in logs and metrics), with what happened in the detail.
     */
    private static Failed failed(FailureKind what, String detail) {
        return new Failed(new Failure(
                Blame.PEER,
                FailureKind.CONNECT_FAILED,
                Phase.GREETING,
                detail + " (" + what.wireName() + ")",
                what == FailureKind.TIMEOUT || what == FailureKind.UNEXPECTED_EOF));
    }

    private void finish(ChannelHandlerContext ctx, Outcome result) {
        if (finished) {
            return;
        }
        finished = true;
        if (timer != null) {
            timer.cancel(false);
        }
        if (ctx.pipeline().context(this) != null) {
            ctx.pipeline().remove(this);
        }
        outcome.accept(result);
    }
}
