package dev.optls.netty;

import dev.optls.core.ClientOptions;
import dev.optls.core.Dialects;
import dev.optls.core.Failure;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.Step;
import dev.optls.tls.ClientTls;
import dev.optls.tls.TlsHandshakeException;
import dev.optls.tls.TlsSessionInfo;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLEngine;

/**
 * The client side of one STARTTLS (or implicit-TLS) connection as a Netty handler. It runs the protocol's
 * client negotiation, inserts an {@code SslHandler} when the server gives the go-ahead (any byte buffered
 * after the go-ahead fails the session: nothing crosses the TLS boundary), re-reads the capabilities over
 * TLS, and completes {@code outcome}. On success the channel is at a clean command boundary: listeners of
 * {@code outcome} (notified on the event loop) add their handlers, then this handler passes on anything
 * received after the negotiation and leaves the pipeline. On failure the channel is closed. A required level never continues in plaintext.
 */
public final class StartTlsClientHandler extends NegotiationDriver {
    private final Protocol protocol;
    private final ClientOptions options;
    private final Optional<ClientTls> tls;
    private final String host;
    private final int port;
    private final Promise<ClientOutcome> outcome;
    private final Optional<ClientTls.EngineSource> engines;
    private ClientTls.EngineHandshake handshake;
    private Optional<TlsSessionInfo> established = Optional.empty();
    private Negotiation current;
    private Optional<TlsHandshakeException> handshakeError = Optional.empty();

    /**
     * @param tls the TLS client (trust, reference identity, ALPN); empty only at level NONE
     * @param host the host connected to (the TLS session key; names are checked against the reference
     *     identity of {@code tls})
     * @param port the port connected to
     * @param outcome completed on the channel's event loop, never failed exceptionally for peer faults
     */
    public StartTlsClientHandler(
            Protocol protocol,
            ClientOptions options,
            Optional<ClientTls> tls,
            String host,
            int port,
            Promise<ClientOutcome> outcome,
            long replyTimeoutMillis,
            long handshakeTimeoutMillis) {
        this(protocol, options, tls, Optional.empty(), host, port, outcome, replyTimeoutMillis, handshakeTimeoutMillis);
    }

    /**
     * As above, with the TLS engines made by {@code engines} (e.g. {@link ClientEngines#boringSsl}) instead of
     * the JDK; the trust, name check, SNI, ALPN and profile of {@code tls} apply alike.
     */
    public StartTlsClientHandler(
            Protocol protocol,
            ClientOptions options,
            Optional<ClientTls> tls,
            Optional<ClientTls.EngineSource> engines,
            String host,
            int port,
            Promise<ClientOutcome> outcome,
            long replyTimeoutMillis,
            long handshakeTimeoutMillis) {
        super(replyTimeoutMillis, handshakeTimeoutMillis);
        this.engines = Objects.requireNonNull(engines, "engines");
        checkTimeouts(replyTimeoutMillis, handshakeTimeoutMillis);
        if (options.level().requiresTls() && tls.isEmpty()) {
            throw new IllegalArgumentException("level " + options.level() + " needs a ClientTls");
        }
        this.protocol = Objects.requireNonNull(protocol, "protocol");
        this.options = options;
        this.tls = tls;
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.outcome = Objects.requireNonNull(outcome, "outcome");
    }

    @Override
    void begin(ChannelHandlerContext ctx) {
        current = Dialects.client(
                protocol, tls.map(t -> t.withDefaultServiceDomain(options)).orElse(options));
        if (options.implicitTls()) {
            startImplicit(ctx);
        } else {
            start(ctx, current);
        }
    }

    @Override
    Negotiation afterImplicitHandshake() {
        return current;
    }

    @Override
    ChannelHandler newTlsHandler(ChannelHandlerContext ctx, long handshakeTimeoutMillis) {
        ClientTls client = tls.orElseThrow(() -> new IllegalStateException("no TLS client configured"));
        handshake = engines.isPresent() ? client.newEngine(host, port, engines.get()) : client.newEngine(host, port);
        SslHandler handler = new SslHandler(handshake.engine());
        handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        return handler;
    }

    @Override
    HandshakeSummary onHandshake(ChannelHandlerContext ctx, SSLEngine engine) throws HandshakeRejected {
        try {
            TlsSessionInfo info = handshake.established();
            established = Optional.of(info);
            return info.summary();
        } catch (TlsHandshakeException e) {
            throw new HandshakeRejected(e.failure());
        }
    }

    @Override
    Failure onHandshakeFailure(Throwable cause, boolean timedOut, String peer, long timeoutMillis) {
        TlsHandshakeException e = handshake.failed(cause, timedOut, (int) timeoutMillis);
        handshakeError = Optional.of(e);
        return e.failure();
    }

    @Override
    void onCompleted(ChannelHandlerContext ctx, Step.Completed completed) {
        handOff(
                ctx,
                new ClientOutcome(
                        protocol,
                        established.isPresent() ? ClientOutcome.Status.TLS : ClientOutcome.Status.PLAINTEXT,
                        Optional.of(ctx.channel()),
                        Optional.of(completed.result()),
                        established,
                        Optional.empty(),
                        established.flatMap(TlsSessionInfo::verification),
                        established.map(TlsSessionInfo::peerChain).orElse(List.of())));
    }

    @Override
    void onUpgradeUnavailable(ChannelHandlerContext ctx, Step.UpgradeUnavailable unavailable) {
        // RFC 7435 / level MAY: the negotiation decided plaintext is allowed; it never does at ENCRYPT+.
        handOff(
                ctx,
                new ClientOutcome(
                        protocol,
                        ClientOutcome.Status.PLAINTEXT,
                        Optional.of(ctx.channel()),
                        Optional.of(unavailable.plaintext()),
                        Optional.empty(),
                        Optional.of(unavailable.reason()),
                        Optional.empty(),
                        List.of()));
    }

    /**
     * Completes the outcome while this handler is still in the pipeline, so that listeners can add their
     * handlers after it; then passes bytes received after the negotiation on to them and leaves.
     */
    private void handOff(ChannelHandlerContext ctx, ClientOutcome result) {
        outcome.trySuccess(result);
        finish(ctx);
        ctx.pipeline().remove(this);
    }

    @Override
    void onFailed(ChannelHandlerContext ctx, Failure failure) {
        Optional<Result> observed = current == null ? Optional.empty() : current.observed();
        outcome.trySuccess(new ClientOutcome(
                protocol,
                ClientOutcome.Status.FAILED,
                Optional.empty(),
                observed,
                established,
                Optional.of(failure),
                handshakeError.flatMap(TlsHandshakeException::verification),
                handshakeError.map(TlsHandshakeException::peerChain).orElse(List.of())));
    }
}
