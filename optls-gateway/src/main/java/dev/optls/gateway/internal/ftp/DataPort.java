package dev.optls.gateway.internal.ftp;

import dev.optls.gateway.Reasons;
import dev.optls.gateway.internal.Relay;
import dev.optls.netty.AcceptTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.internal.tcnative.SSL;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * The gateway's side of one passive FTP data connection (RFC 959 §3.2, RFC 2428 §3): a listener on the
 * control connection's local address and an ephemeral port, which accepts ONE connection, from the control
 * connection's client address only (data port theft: a connection from elsewhere is closed, as vsftpd's
 * {@code pasv_promiscuous=NO} does), within the reply timeout. The accepted connection runs TLS as the TLS
 * server (RFC 4217 §10: the FTP client is the TLS client of every data connection) with the route's
 * certificate, and must resume the control connection's TLS session (RFC 4217 §10.2; ADR 0002) unless the
 * route says otherwise; it is then relayed in plaintext to the backend's passive port, on the backend's
 * control address (the address in its reply is ignored: no FTP bounce, RFC 2577 §3). Bytes go both ways
 * through {@link Relay} (one read at a time: back-pressure); when either side ends, the other is closed
 * after what was written to it has gone out (the client's side with close_notify).
 *
 * <p>Confined to the control connection's event loop.
 */
final class DataPort {
    private final FtpRelay relay;
    private final Channel client;
    private final Channel backend;
    private final FtpRelay.Settings settings;
    private final Relay.Meter fromClientData;
    private final Relay.Meter toClientData;
    /** Bytes the data connections moved so far (both ways): an idle one is cut, a slow one is not. */
    private long moved;

    private final List<Runnable> whenIdle = new ArrayList<>();
    private Channel listener;
    private ScheduledFuture<?> timer;
    private Channel clientData;
    private Channel backendData;
    private DataHandshake handshake;
    private final List<ByteBuf> held = new ArrayList<>();
    private boolean backendEnded;
    private boolean clientReady;
    private boolean backendReady;
    /** The reply that replaces the backend's final reply of a transfer whose data connection was refused. */
    private Optional<String> refusal = Optional.empty();

    DataPort(
            FtpRelay relay,
            Channel client,
            Channel backend,
            FtpRelay.Settings settings,
            Relay.Meter fromClient,
            Relay.Meter toClient) {
        this.relay = relay;
        this.client = client;
        this.backend = backend;
        this.settings = settings;
        this.fromClientData = counting(fromClient);
        this.toClientData = counting(toClient);
    }

    /** Passes counts on to {@code meter} (the session's traffic) and notes the data connection's progress. */
    private Relay.Meter counting(Relay.Meter meter) {
        return new Relay.Meter() {
            @Override
            public void started() {
                meter.started();
            }

            @Override
            public void relayed(int bytes) {
                moved += bytes;
                meter.relayed(bytes);
            }
        };
    }

    /**
     * Opens a new data port for the backend's passive port {@code backendPort} (closing the previous one);
     * {@code then} gets the gateway's port, or empty if it could not listen.
     */
    void open(int backendPort, Consumer<OptionalInt> then) {
        close();
        refusal = Optional.empty();
        InetAddress local = ((InetSocketAddress) client.localAddress()).getAddress();
        ChannelFuture bind = new ServerBootstrap()
                .group(client.eventLoop())
                .channel(settings.transport().serverChannel())
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted(ch, backendPort);
                    }
                })
                .bind(local, 0);
        bind.addListener(f -> {
            if (!f.isSuccess()) {
                relay.refused(
                        Reasons.FTP_DATA_BACKEND,
                        "cannot open a data port on " + local.getHostAddress() + ": "
                                + f.cause().getMessage());
                then.accept(OptionalInt.empty());
                return;
            }
            listener = bind.channel();
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            long millis = settings.replyTimeout().toMillis();
            Channel mine = listener;
            timer = client.eventLoop()
                    .schedule(
                            () -> {
                                if (listener == mine && clientData == null) {
                                    relay.refused(
                                            Reasons.FTP_DATA_TIMEOUT,
                                            "no data connection to port " + port + " within " + millis + " ms");
                                    close();
                                }
                            },
                            millis,
                            TimeUnit.MILLISECONDS);
            then.accept(OptionalInt.of(port));
        });
    }

    private void accepted(Channel ch, int backendPort) {
        InetAddress from = ((InetSocketAddress) ch.remoteAddress()).getAddress();
        InetAddress expected = ((InetSocketAddress) client.remoteAddress()).getAddress();
        if (listener == null || ch.parent() != listener) {
            // Accepted by a listener that was closed meanwhile (a newer PASV, or the timeout).
            ch.close();
            return;
        }
        if (clientData != null || !from.equals(expected)) {
            relay.refused(
                    Reasons.FTP_DATA_FOREIGN,
                    "data connection from " + from.getHostAddress() + " closed: only the control connection's client "
                            + expected.getHostAddress() + " may connect, once");
            ch.close();
            return;
        }
        clientData = ch;
        cancelTimer();
        // One connection per passive reply: the port closes now.
        listener.close();
        listener = null;
        ch.closeFuture().addListener(f -> {
            if (clientData == ch) {
                ended();
            }
        });
        handshake = new DataHandshake(System.currentTimeMillis());
        ch.pipeline()
                .addLast(
                        new AcceptTls(
                                settings.tls(), settings.handshakeTimeout().toMillis()),
                        handshake);
        ch.read();
        // The SslHandler times the handshake once a ClientHello came; this covers a client that sends none.
        long handshakeMillis = settings.handshakeTimeout().toMillis();
        client.eventLoop()
                .schedule(
                        () -> {
                            if (clientData == ch && !clientReady && ch.isOpen()) {
                                refuse(
                                        Reasons.FTP_DATA_HANDSHAKE,
                                        "no TLS handshake on the data connection within " + handshakeMillis + " ms",
                                        "522 TLS negotiation on the data connection failed");
                            }
                        },
                        handshakeMillis,
                        TimeUnit.MILLISECONDS);
        ChannelFuture connect = new Bootstrap()
                .group(client.eventLoop())
                .channel(settings.transport().channel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        Math.min(Integer.MAX_VALUE, settings.replyTimeout().toMillis()))
                .handler(new BackendHold())
                .connect(((InetSocketAddress) backend.remoteAddress()).getAddress(), backendPort);
        Channel bd = connect.channel();
        backendData = bd;
        connect.addListener(f -> {
            if (backendData != bd) {
                return;
            }
            if (!f.isSuccess()) {
                relay.refused(
                        Reasons.FTP_DATA_BACKEND,
                        "cannot connect to the backend's data port " + backendPort + ": "
                                + f.cause().getMessage());
                closeChannel(ch);
                return;
            }
            backendReady = true;
            maybeRelay();
        });
    }

    private void maybeRelay() {
        if (!clientReady || !backendReady) {
            return;
        }
        // What the backend sent meanwhile goes first (see BackendHold); if it has already closed, the client's
        // side closes after it.
        Channel cd = clientData;
        for (ByteBuf b : held) {
            toClientData.relayed(b.readableBytes());
            cd.write(b);
        }
        held.clear();
        cd.flush();
        if (backendEnded) {
            closeChannel(cd);
            handshake.release();
            return;
        }
        backendData.pipeline().remove(BackendHold.class);
        backendData.pipeline().addLast(new Relay(client.eventLoop().newSucceededFuture(cd), toClientData));
        cd.pipeline().addLast(new Relay(client.eventLoop().newSucceededFuture(backendData), fromClientData));
        handshake.release();
    }

    /**
     * Holds what the backend sends on its data connection before the client's TLS is up. Nothing is read
     * from it meanwhile (auto-read off), except when the backend closes: the epoll transport then drains the
     * socket (at most its receive buffer) to see the end, and these bytes must not be lost.
     */
    private final class BackendHold extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (ctx.channel() == backendData && msg instanceof ByteBuf b) {
                held.add(b);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() == backendData) {
                backendEnded = true;
            }
            ctx.fireChannelInactive();
        }
    }

    /**
     * Waits for the client's TLS handshake, checks that it resumed the control connection's session, and holds
     * what the client sends until the relay starts (at most one read: nothing more is read meanwhile).
     */
    private final class DataHandshake extends ChannelInboundHandlerAdapter {
        private final long startMillis;
        private final List<Object> early = new ArrayList<>();
        private ChannelHandlerContext context;

        DataHandshake(long startMillis) {
            this.startMillis = startMillis;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            context = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            early.add(msg);
        }

        /** The relay is in place after this handler: pass on what was held, and leave. */
        void release() {
            for (Object msg : early) {
                context.fireChannelRead(msg);
            }
            early.clear();
            context.pipeline().remove(this);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            early.forEach(ReferenceCountUtil::release);
            early.clear();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof SslHandshakeCompletionEvent done)) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            if (clientData != ctx.channel()) {
                ctx.close();
                return;
            }
            if (!done.isSuccess()) {
                refuse(
                        Reasons.FTP_DATA_HANDSHAKE,
                        "the data connection's TLS handshake failed: "
                                + done.cause().getMessage(),
                        // RFC 4217 §10.2 / protocols.md §8.2: 522 for a failed data-connection TLS negotiation.
                        "522 TLS negotiation on the data connection failed");
                return;
            }
            SSLEngine control = relay.controlEngine();
            SSLEngine engine = ctx.pipeline().get(SslHandler.class).engine();
            if (settings.requireSessionReuse() && (control == null || !resumed(control, engine, startMillis))) {
                refuse(
                        Reasons.FTP_DATA_NOT_RESUMED,
                        "the data connection's TLS did not resume the control connection's session (RFC 4217 §10.2)",
                        // vsftpd require_ssl_reuse, FileZilla Server: the same refusal (protocols.md §8.2).
                        "522 TLS session of the data connection not resumed (session reuse required)");
                return;
            }
            clientReady = true;
            maybeRelay();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A handshake failure also arrives as the completion event; that one is reported.
            ctx.close();
        }
    }

    private void refuse(String reason, String detail, String reply) {
        relay.refused(reason, detail);
        refusal = Optional.of(reply);
        // The backend sees its data connection end and answers the transfer at once (426, or 226 for what
        // fit in the socket); the client gets the refusal instead.
        closeChannel(backendData);
        closeChannel(clientData);
    }

    /**
     * Whether {@code data} resumed {@code control}'s session (RFC 4217 §10.2); neither engine has a public
     * flag for it (ADR 0002 §4).
     *
     * <p>BoringSSL: {@code SSL_session_reused} through netty-tcnative (what vsftpd's {@code require_ssl_reuse}
     * checks): the client presented a session (ticket or id) this route issued; its tickets are encrypted
     * with the route's keys, and the data connection comes from the control connection's address.
     *
     * <p>JDK: the same session id (TLS ≤ 1.2 resumption by id), or the same creation time, older than the data
     * handshake: JSSE gives a resumed session (TLS 1.3 PSK, session tickets) a new id but keeps the creation
     * time of the session it resumes, while a full handshake creates its session during the data handshake.
     */
    static boolean resumed(SSLEngine control, SSLEngine data, long handshakeStartMillis) {
        if (data instanceof ReferenceCountedOpenSslEngine openSsl) {
            return SSL.isSessionReused(openSsl.sslPointer());
        }
        SSLSession c = control.getSession();
        SSLSession d = data.getSession();
        if (c.getId().length > 0 && Arrays.equals(c.getId(), d.getId())) {
            return true;
        }
        return d.getCreationTime() == c.getCreationTime() && d.getCreationTime() < handshakeStartMillis;
    }

    /** Whether a data connection was accepted and has not ended yet. */
    boolean busy() {
        return clientData != null && clientData.isOpen();
    }

    /**
     * Runs {@code action} once no data connection is open (at once if none is). A data connection that moves
     * no byte for the reply timeout meanwhile is closed (both sides), so the reply is never held forever; a
     * slow one that makes progress is not.
     */
    void whenIdle(Runnable action) {
        if (!busy()) {
            action.run();
            return;
        }
        whenIdle.add(action);
        watch(clientData, moved);
    }

    private void watch(Channel data, long movedBefore) {
        client.eventLoop()
                .schedule(
                        () -> {
                            if (clientData != data || !busy()) {
                                return;
                            }
                            if (moved == movedBefore) {
                                closeChannel(backendData);
                                closeChannel(clientData);
                            } else {
                                watch(data, moved);
                            }
                        },
                        settings.replyTimeout().toMillis(),
                        TimeUnit.MILLISECONDS);
    }

    /** The refusal that replaces the next transfer reply, once. */
    Optional<String> takeRefusal() {
        Optional<String> r = refusal;
        refusal = Optional.empty();
        return r;
    }

    private void ended() {
        closeChannel(backendData);
        clientData = null;
        backendData = null;
        clientReady = false;
        backendReady = false;
        backendEnded = false;
        held.forEach(ByteBuf::release);
        held.clear();
        List<Runnable> actions = List.copyOf(whenIdle);
        whenIdle.clear();
        actions.forEach(Runnable::run);
    }

    /** Closes the listener and any data connection (a new PASV, or the control connection ended). */
    void close() {
        cancelTimer();
        if (listener != null) {
            listener.close();
            listener = null;
        }
        closeChannel(backendData);
        closeChannel(clientData);
        clientData = null;
        backendData = null;
        clientReady = false;
        backendReady = false;
        backendEnded = false;
        held.forEach(ByteBuf::release);
        held.clear();
        whenIdle.clear();
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private static void closeChannel(Channel ch) {
        if (ch != null) {
            Relay.closeOnFlush(ch);
        }
    }
}
