package dev.optls.netty;

import dev.optls.core.Dialects;
import dev.optls.core.Failure;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsSessionInfo;
import dev.optls.tls.blocking.CommandHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLEngine;

/**
 * The server side of one STARTTLS connection as a Netty handler: speaks the protocol's plaintext phase,
 * answers the commands the negotiation delivers through a {@link CommandHandler}, and at the upgrade puts
 * TLS ({@link AcceptTls}, then an {@code SslHandler}) at the head of the pipeline before a byte can be read
 * after the go-ahead.
 *
 * <p>Bytes the client sent after the upgrade command are handed to TLS, never parsed (CVE-2011-0411).
 * After the handshake either a brand-new negotiation continues on TLS ({@link Mode#SERVE}, nothing learned
 * in plaintext carried over, RFC 3207 §4.2), or the handler leaves the pipeline and the next handlers own
 * the connection ({@link Mode#UPGRADE}). The channel must be created with auto-read off, or this handler
 * turns it off when the channel becomes active.
 */
public final class StartTlsServerHandler extends NegotiationDriver {
    /** What the handler does once TLS is up. */
    public enum Mode {
        /** Remove itself after the handshake; the following handlers get the TLS session. */
        UPGRADE,
        /** Continue the session over TLS with a fresh negotiation, until QUIT or a hand-over. */
        SERVE
    }

    /** Hears how each connection ended. Called on the channel's event loop. */
    public interface Listener {
        /**
         * The negotiation ended with the connection open: upgraded ({@link Mode#UPGRADE}) or handed over;
         * {@code result.remaining()} holds a handed-over command. Add the handlers that take over after this
         * one ({@code ctx.pipeline().addLast}); bytes already received over TLS are passed to them when this
         * returns, and this handler then leaves the pipeline.
         */
        default void handedOff(ChannelHandlerContext ctx, Result result, Optional<TlsSessionInfo> tls) {}

        /** The session ended normally (e.g. QUIT) and the connection was closed. */
        default void closed(Result result, Optional<TlsSessionInfo> tls) {}

        /** The session failed and the connection was closed; {@code tls} is present if TLS had been set up. */
        default void failed(Failure failure, Optional<TlsSessionInfo> tls) {}
    }

    private final Protocol protocol;
    private final ServerOptions options;
    private final Optional<CertificateSelector> tls;
    private final CommandHandler commands;
    private final Mode mode;
    private final Listener listener;
    private Optional<TlsSessionInfo> established = Optional.empty();
    private final boolean implicit;

    /**
     * @param tls the certificate; empty for a server that does not offer TLS
     * @param replyTimeoutMillis how long to wait for each client command
     * @param handshakeTimeoutMillis how long the TLS handshake may take
     */
    public StartTlsServerHandler(
            Protocol protocol,
            ServerOptions options,
            Optional<ServerEngines> tls,
            CommandHandler commands,
            Mode mode,
            Listener listener,
            long replyTimeoutMillis,
            long handshakeTimeoutMillis) {
        this(
                protocol,
                options,
                tls.map(CertificateSelector::single),
                commands,
                mode,
                listener,
                replyTimeoutMillis,
                handshakeTimeoutMillis,
                false);
    }

    /**
     * A STARTTLS server with several certificates, chosen by the SNI of the ClientHello that follows the
     * go-ahead (RFC 6066 §3), as on an implicit-TLS listener.
     *
     * @param certificates the certificates and the default one
     * @param replyTimeoutMillis how long to wait for each client command
     * @param handshakeTimeoutMillis how long the TLS handshake may take
     */
    public StartTlsServerHandler(
            Protocol protocol,
            ServerOptions options,
            CertificateSelector certificates,
            CommandHandler commands,
            Mode mode,
            Listener listener,
            long replyTimeoutMillis,
            long handshakeTimeoutMillis) {
        this(
                protocol,
                options,
                Optional.of(certificates),
                commands,
                mode,
                listener,
                replyTimeoutMillis,
                handshakeTimeoutMillis,
                false);
    }

    /**
     * A handler for an implicit-TLS listener (993, 465, 636…): the handshake first, then the session with
     * TLS active from the start; always {@link Mode#SERVE}.
     */
    public static StartTlsServerHandler implicitTls(
            Protocol protocol,
            ServerOptions options,
            ServerEngines tls,
            CommandHandler commands,
            Listener listener,
            long replyTimeoutMillis,
            long handshakeTimeoutMillis) {
        return new StartTlsServerHandler(
                protocol,
                options.implicitTls(),
                Optional.of(CertificateSelector.single(tls)),
                commands,
                Mode.SERVE,
                listener,
                replyTimeoutMillis,
                handshakeTimeoutMillis,
                true);
    }

    private StartTlsServerHandler(
            Protocol protocol,
            ServerOptions options,
            Optional<CertificateSelector> tls,
            CommandHandler commands,
            Mode mode,
            Listener listener,
            long replyTimeoutMillis,
            long handshakeTimeoutMillis,
            boolean implicit) {
        super(replyTimeoutMillis, handshakeTimeoutMillis);
        checkTimeouts(replyTimeoutMillis, handshakeTimeoutMillis);
        if (options.tlsAvailable() && tls.isEmpty()) {
            throw new IllegalArgumentException("options offer TLS but no certificate was given");
        }
        this.protocol = Objects.requireNonNull(protocol, "protocol");
        this.options = options;
        this.tls = tls;
        this.commands = Objects.requireNonNull(commands, "commands");
        this.mode = Objects.requireNonNull(mode, "mode");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.implicit = implicit;
    }

    @Override
    void begin(ChannelHandlerContext ctx) {
        if (implicit) {
            startImplicit(ctx);
        } else {
            start(ctx, Dialects.server(protocol, options));
        }
    }

    @Override
    Negotiation afterImplicitHandshake() {
        return Dialects.server(protocol, options);
    }

    @Override
    ChannelHandler newTlsHandler(ChannelHandlerContext ctx, long handshakeTimeoutMillis) {
        return new AcceptTls(
                tls.orElseThrow(() -> new IllegalStateException("no certificate configured")), handshakeTimeoutMillis);
    }

    @Override
    HandshakeSummary onHandshake(ChannelHandlerContext ctx, SSLEngine engine) {
        TlsSessionInfo info = ServerTls.established(engine);
        established = Optional.of(info);
        return info.summary();
    }

    @Override
    Failure onHandshakeFailure(Throwable cause, boolean timedOut, String peer, long timeoutMillis) {
        return ServerTls.handshakeFailure(cause, timedOut, peer, timeoutMillis);
    }

    @Override
    void onDeliver(ChannelHandlerContext ctx, Negotiation negotiation, Step.Deliver deliver) {
        String reply = commands.handle(deliver.command());
        if (CommandHandler.HAND_OVER.equals(reply)) {
            negotiation.handOver();
        } else {
            negotiation.respond(reply);
        }
    }

    @Override
    void onCompleted(ChannelHandlerContext ctx, Step.Completed completed) {
        Result result = completed.result();
        if (result.ending() == Result.Ending.UPGRADED && mode == Mode.SERVE) {
            // RFC 3207 §4.2 and friends: a brand-new negotiation, knowing nothing of the plaintext phase.
            restart(ctx, Dialects.server(protocol, options.afterUpgrade()));
            return;
        }
        if (result.ending() == Result.Ending.UPGRADED || result.ending() == Result.Ending.HANDED_OVER) {
            // The application adds its handlers first; then bytes that came with the end of the handshake
            // are passed on to them, and this handler leaves.
            listener.handedOff(ctx, result, established);
            finish(ctx);
            ctx.pipeline().remove(this);
            return;
        }
        finish(ctx);
        ctx.close();
        listener.closed(result, established);
    }

    @Override
    void onFailed(ChannelHandlerContext ctx, Failure failure) {
        listener.failed(failure, established);
    }
}
