package dev.optls.gateway;

import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.core.Result;
import dev.optls.netty.StartTlsServerHandler;
import dev.optls.tls.TlsSessionInfo;
import io.netty.channel.ChannelHandlerContext;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * How a STARTTLS route's connection (text protocols, MySQL) takes the end of the client's negotiation: relay once TLS
 * is up; a session handed off without TLS is refused and closed, so nothing crosses to the backend in plaintext; a
 * client that leaves before TLS is not reported; a failed negotiation is refused with its failure.
 */
final class Upgrade implements StartTlsServerHandler.Listener {
    private final String plaintextRefusal;
    private final BiConsumer<ChannelHandlerContext, TlsSessionInfo> relay;
    private final Consumer<Failure> refuse;
    private final Runnable leftBeforeTls;

    /**
     * @param plaintextRefusal what the refusal says when the client's traffic came without TLS
     * @param relay starts relaying over the client's TLS
     * @param refuse reports the failure and closes the backend
     * @param leftBeforeTls the client closed before TLS (e.g. QUIT): closes the backend, reports nothing
     */
    Upgrade(
            String plaintextRefusal,
            BiConsumer<ChannelHandlerContext, TlsSessionInfo> relay,
            Consumer<Failure> refuse,
            Runnable leftBeforeTls) {
        this.plaintextRefusal = plaintextRefusal;
        this.relay = relay;
        this.refuse = refuse;
        this.leftBeforeTls = leftBeforeTls;
    }

    @Override
    public void handedOff(ChannelHandlerContext ctx, Result result, Optional<TlsSessionInfo> tls) {
        if (tls.isEmpty()) {
            refuse.accept(Failure.peer(FailureKind.PROTOCOL_VIOLATION, Phase.UPGRADE, plaintextRefusal));
            ctx.close();
            return;
        }
        relay.accept(ctx, tls.get());
    }

    @Override
    public void closed(Result result, Optional<TlsSessionInfo> tls) {
        leftBeforeTls.run();
    }

    @Override
    public void failed(Failure failure, Optional<TlsSessionInfo> tls) {
        refuse.accept(failure);
    }
}
