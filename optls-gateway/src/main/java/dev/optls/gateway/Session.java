package dev.optls.gateway;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.gateway.internal.Metrics;
import dev.optls.gateway.internal.Traffic;
import dev.optls.netty.ServerEngines;
import dev.optls.tls.TlsSessionInfo;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * One accepted connection as the gateway sees it: the events its {@link Connection} reports pass through
 * here on their way to the caller's {@link Gateway.Events} (with the client's real address: the one a load
 * balancer's PROXY header named, if the route accepts one), and feed the route's metrics and the closing
 * summary. Event-loop confined, except {@link #cut()} (called by a draining {@link Gateway#close}).
 */
final class Session implements Gateway.Events {
    private final Route route;
    private final SocketAddress client;
    private final Gateway.Events events;
    private final Metrics.RouteMetrics metrics;
    private final long acceptedAt;
    private final Traffic traffic;
    private final Channel channel;
    // Written and read on the connection's event loop; volatile for the drain thread's view (and SpotBugs).
    private volatile boolean tlsUp;
    private volatile boolean reported;
    private volatile boolean cut;

    Session(
            Route route,
            Channel channel,
            SocketAddress client,
            Gateway.Events events,
            Metrics.RouteMetrics metrics,
            long acceptedAt) {
        this.route = route;
        this.channel = channel;
        this.client = client;
        this.events = events;
        this.metrics = metrics;
        this.acceptedAt = acceptedAt;
        this.traffic = new Traffic(
                () -> metrics.relaying(System.nanoTime() - acceptedAt), metrics::fromClient, metrics::toClient);
    }

    Traffic traffic() {
        return traffic;
    }

    @Override
    public void relaying(Route r, SocketAddress c, TlsSessionInfo tls) {
        tlsUp = true;
        reported = true;
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        metrics.upgraded(
                System.nanoTime() - acceptedAt, ssl == null ? Optional.empty() : ServerEngines.resumed(ssl.engine()));
        events.relaying(r, client, tls);
    }

    @Override
    public void refused(Route r, SocketAddress c, Failure failure) {
        if (reported) {
            return;
        }
        reported = true;
        // A connection the drain closed fails in whatever phase it was in; the cause is the shutdown.
        Failure f = cut ? drainCut() : failure;
        String reason = Reasons.of(f);
        metrics.refused(reason);
        if (Reasons.isHandshake(f)) {
            metrics.handshakeFailed(reason);
        }
        events.refused(r, client, f);
    }

    @Override
    public void upstreamTls(Route r, SocketAddress c, TlsSessionInfo tls) {
        // Origination and translation: the session is relayed over the gateway's TLS towards the upstream.
        tlsUp = true;
        events.upstreamTls(r, client, tls);
    }

    @Override
    public void upstreamPlaintext(Route r, SocketAddress c, Failure reason) {
        events.upstreamPlaintext(r, client, reason);
    }

    @Override
    public void ftpRefused(Route r, SocketAddress c, String reason, String detail) {
        events.ftpRefused(r, client, reason, detail);
    }

    /** The gateway's drain deadline passed with this connection still open; it is about to be closed. */
    void cut() {
        cut = true;
    }

    /** The client connection has closed (on its event loop). */
    void closed() {
        if (tlsUp) {
            metrics.closed();
            Optional<String> reason = Optional.empty();
            if (cut) {
                metrics.refused(Reasons.DRAIN_CUT);
                reason = Optional.of(Reasons.DRAIN_CUT);
            }
            events.closed(
                    route,
                    client,
                    new Gateway.Closed(
                            Duration.ofNanos(System.nanoTime() - acceptedAt),
                            traffic.bytesFromClient(),
                            traffic.bytesToClient(),
                            reason));
        } else if (cut) {
            refused(route, client, drainCut());
        }
    }

    private Failure drainCut() {
        return new Failure(
                Blame.LOCAL,
                FailureKind.SERVICE_UNAVAILABLE,
                Phase.SESSION,
                "the gateway shut down and the connection was still open at the end of the drain (drain-timeout in "
                        + "[gateway]); the client may retry",
                true);
    }
}
