package dev.optls.netty;

import dev.optls.tls.ClientHelloInfo;
import dev.optls.tls.ServerTls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Future;
import java.util.Optional;
import javax.net.ssl.SSLHandshakeException;

/**
 * The server's first TLS handler: reads the ClientHello, picks the certificate for its SNI ({@link
 * CertificateSelector}), refuses a client that offers only foreign ALPN protocols (ALPACA; RFC 7301 §3.2
 * alert {@code no_application_protocol}), then replaces itself with an {@link SslHandler} whose engine comes
 * from the chosen {@link ServerEngines}. The ClientHello bytes stay in the
 * pipeline and go to that engine.
 */
public final class AcceptTls extends SslClientHelloHandler<AcceptTls.Decision> {
    /** A fatal TLS 1.2-framed alert record: level 2 (fatal), description 120 (no_application_protocol). */
    private static final byte[] NO_APPLICATION_PROTOCOL = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x78};

    /** What to do with one ClientHello: refuse it (with the reason), or use these engines. */
    record Decision(Optional<String> refusal, ServerEngines engines) {}

    private final CertificateSelector certificates;
    private final long handshakeTimeoutMillis;

    /** @param handshakeTimeoutMillis given to the {@link SslHandler} that follows */
    public AcceptTls(ServerEngines engines, long handshakeTimeoutMillis) {
        this(CertificateSelector.single(engines), handshakeTimeoutMillis);
    }

    /**
     * @param certificates picks the certificate (and engine) for the client's SNI
     * @param handshakeTimeoutMillis given to the {@link SslHandler} that follows
     */
    public AcceptTls(CertificateSelector certificates, long handshakeTimeoutMillis) {
        super(16 * 1024);
        this.certificates = certificates;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    @Override
    protected Future<Decision> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
        if (clientHello == null) {
            // Not a ClientHello at all: the default engine will say so.
            return ctx.executor().newSucceededFuture(new Decision(Optional.empty(), certificates.fallback()));
        }
        ClientHelloInfo info = ClientHelloInfo.parse(clientHello.nioBuffer());
        ServerEngines engines = certificates.select(info.serverName());
        if (!info.alpn().isEmpty() && ServerTls.selectAlpn(engines.alpn(), info.alpn()) == null) {
            String refusal = "client offered only ALPN protocols " + info.alpn() + ", not "
                    + engines.alpn().map(id -> "'" + id + "'").orElse("this protocol (which has no ALPN id)")
                    + ": refused with no_application_protocol (cross-protocol attack protection, ALPACA)";
            return ctx.executor().newSucceededFuture(new Decision(Optional.of(refusal), engines));
        }
        return ctx.executor().newSucceededFuture(new Decision(Optional.empty(), engines));
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, Future<Decision> future) {
        Decision decision = future.getNow();
        Optional<String> refusal = decision.refusal();
        if (refusal.isPresent()) {
            // The alert goes out first; then the handshake is reported failed (and the channel closed).
            ctx.writeAndFlush(Unpooled.wrappedBuffer(NO_APPLICATION_PROTOCOL)).addListener(ChannelFutureListener.CLOSE);
            ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(new SSLHandshakeException(refusal.get())));
            return;
        }
        SslHandler tls = new SslHandler(decision.engines().newEngine(ctx.alloc()));
        tls.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        ctx.pipeline().replace(this, NegotiationDriver.TLS_HANDLER, tls);
    }
}
