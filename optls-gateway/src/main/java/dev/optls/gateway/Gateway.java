package dev.optls.gateway;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.gateway.internal.Buffers;
import dev.optls.gateway.internal.CertificateReloader;
import dev.optls.gateway.internal.ConnectionLimits;
import dev.optls.gateway.internal.Metrics;
import dev.optls.gateway.internal.MetricsServer;
import dev.optls.gateway.internal.ProxyProtocol;
import dev.optls.netty.CertificateSelector;
import dev.optls.netty.ServerEngines;
import dev.optls.netty.Transport;
import dev.optls.tls.TlsSessionInfo;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A running gateway: one listener per route. Clients get TLS from the gateway (STARTTLS or implicit), or
 * the gateway gets TLS from the upstream (STARTTLS or implicit, at a security level), or both; the session is
 * relayed once TLS is up, never before, and a route whose TLS fails closes the client's connection.
 *
 * <p>Operations: connections over a route's limits are closed at accept; certificate and key files are
 * re-read when they change (new connections get the new certificate, open ones keep theirs); {@link
 * #close(Duration)} stops accepting and lets open sessions finish until a deadline; metrics are served in
 * the Prometheus text format when the configuration names a metrics address.
 */
public final class Gateway implements AutoCloseable {
    /** What happens to connections; called on event-loop threads (reloads: on the reload thread), so keep it quick. */
    public interface Events {
        /** A client's TLS is up and its session is being relayed to the backend. */
        default void relaying(Route route, SocketAddress client, TlsSessionInfo tls) {}

        /**
         * The gateway's TLS towards the upstream is up (origination and translation routes); the session is
         * relayed from here.
         */
        default void upstreamTls(Route route, SocketAddress client, TlsSessionInfo upstreamTls) {}

        /**
         * Level {@code may} only: the upstream did not give TLS and the session is relayed in plaintext
         * (RFC 7435 opportunistic security); {@code reason} says why.
         */
        default void upstreamPlaintext(Route route, SocketAddress client, Failure reason) {}

        /**
         * A client's connection was refused or aborted before relaying started (its reason: {@link
         * Reasons#of}), including connections over a limit and those cut by the drain before TLS.
         */
        default void refused(Route route, SocketAddress client, Failure failure) {}

        /**
         * FTP routes: the gateway refused a command or a data connection of a relayed session (or closed its
         * control connection); {@code reason} is one of the {@code Reasons.FTP_*} names.
         */
        default void ftpRefused(Route route, SocketAddress client, String reason, String detail) {}

        /** A relayed session (one that had {@link #relaying}) has ended. */
        default void closed(Route route, SocketAddress client, Closed session) {}

        /** The route's certificate was reloaded: new connections get it. */
        default void reloaded(Route route, Path certificate) {}

        /** The route's changed certificate or key cannot be used; the old certificate stays. */
        default void reloadFailed(Route route, Path certificate, String problem) {}
    }

    /**
     * How a relayed session ended.
     *
     * @param duration from accept to close
     * @param bytesFromClient plaintext bytes relayed client → backend
     * @param bytesToClient plaintext bytes relayed backend → client
     * @param reason why the gateway cut it ({@link Reasons#DRAIN_CUT}); empty when one side closed
     */
    public record Closed(Duration duration, long bytesFromClient, long bytesToClient, Optional<String> reason) {
        public Closed {
            Objects.requireNonNull(duration, "duration");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * The end of a graceful shutdown.
     *
     * @param open connections open when the listeners closed
     * @param cut of those, still open at the deadline and closed by the gateway
     */
    public record Drained(int open, int cut) {}

    private static final AttributeKey<Session> SESSION = AttributeKey.valueOf(Gateway.class, "session");

    private final EventLoopGroup group;
    private final List<Channel> listeners;
    private final Map<String, InetSocketAddress> bound;
    private final ChannelGroup connections;
    private final CertificateReloader<CertificateSelector> reloader;
    private final Optional<MetricsServer> metricsServer;
    private final Metrics metrics;
    private final GatewayConfig.Settings settings;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Gateway(
            EventLoopGroup group,
            List<Channel> listeners,
            Map<String, InetSocketAddress> bound,
            ChannelGroup connections,
            CertificateReloader<CertificateSelector> reloader,
            Optional<MetricsServer> metricsServer,
            Metrics metrics,
            GatewayConfig.Settings settings) {
        this.group = group;
        this.listeners = listeners;
        this.bound = bound;
        this.connections = connections;
        this.reloader = reloader;
        this.metricsServer = metricsServer;
        this.metrics = metrics;
        this.settings = settings;
    }

    /**
     * Binds every route's listener and starts serving.
     *
     * @throws GatewayException if a listener cannot be bound (nothing is left running then)
     */
    public static Gateway start(GatewayConfig config, Events events) {
        return start(config, events, Transport.best(), 0);
    }

    /**
     * Binds every route's listener on {@code transport} with {@code threads} event loops (0: Netty's default).
     *
     * @throws GatewayException if a listener or the metrics port cannot be bound (nothing is left running then)
     */
    public static Gateway start(GatewayConfig config, Events events, Transport transport, int threads) {
        EventLoopGroup group = transport.group(threads);
        List<Channel> listeners = new ArrayList<>();
        Map<String, InetSocketAddress> bound = new LinkedHashMap<>();
        ChannelGroup connections = new DefaultChannelGroup("optls-gateway", GlobalEventExecutor.INSTANCE);
        Metrics metrics = new Metrics();
        Map<String, Route> byName = new LinkedHashMap<>();
        Map<String, Metrics.RouteMetrics> routeMetrics = new LinkedHashMap<>();
        CertificateReloader<CertificateSelector> reloader =
                new CertificateReloader<>(new CertificateReloader.Listener() {
                    @Override
                    public void reloaded(String route, Path chain) {
                        routeMetrics.get(route).reloaded(true);
                        events.reloaded(byName.get(route), chain);
                    }

                    @Override
                    public void failed(String route, Path chain, String problem) {
                        routeMetrics.get(route).reloaded(false);
                        events.reloadFailed(byName.get(route), chain, problem);
                    }
                });
        for (Route route : config.routes()) {
            GatewayConfig.Operations ops = config.operations(route);
            ConnectionLimits limits = new ConnectionLimits(ops.maxConnections(), ops.maxConnectionsPerClient());
            Metrics.RouteMetrics m = metrics.route(route.name(), limits::open);
            byName.put(route.name(), route);
            routeMetrics.put(route.name(), m);
            AtomicReference<CertificateSelector> engines = new AtomicReference<>(route.certificates());
            ops.certificateFiles().ifPresent(fallback -> {
                // Every certificate of the route (the default first, then those chosen by SNI) and its ticket
                // key file: a change to any of them re-reads them all, and re-applies the ticket keys to the
                // new engines.
                List<GatewayConfig.CertificateFiles> all = new ArrayList<>();
                all.add(fallback);
                all.addAll(ops.sniCertificateFiles());
                List<Path> files = new ArrayList<>();
                all.forEach(f -> files.addAll(List.of(f.chain(), f.key())));
                ops.ticketKeys().ifPresent(files::add);
                ServerEngines.Provider provider = route.tls().provider();
                reloader.watch(
                        route.name(),
                        files,
                        engines,
                        () -> RouteCertificates.load(all, route.protocol(), provider, ops.ticketKeys()));
            });
            ChannelFuture bind = Buffers.applyToAccepted(new ServerBootstrap())
                    .group(group)
                    .channel(transport.serverChannel())
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (!ops.acceptProxyProtocol()) {
                                accept(
                                        ch,
                                        ch.remoteAddress(),
                                        route,
                                        engines.get(),
                                        ops,
                                        limits,
                                        m,
                                        events,
                                        transport,
                                        connections);
                                return;
                            }
                            // Behind a load balancer: nothing happens until its PROXY header names the client;
                            // limits, logs and the backend's header then use that address.
                            ProxyProtocol.expectHeader(
                                    ch.pipeline(),
                                    route.handshakeTimeout().toMillis(),
                                    (ctx, real) -> accept(
                                            ch,
                                            real.orElse(ch.remoteAddress()),
                                            route,
                                            engines.get(),
                                            ops,
                                            limits,
                                            m,
                                            events,
                                            transport,
                                            connections),
                                    problem -> events.refused(
                                            route,
                                            ch.remoteAddress(),
                                            Failure.peer(
                                                    FailureKind.PROTOCOL_VIOLATION,
                                                    Phase.CONNECT,
                                                    problem
                                                            + " (accept-proxy-protocol is on for this route: connect through"
                                                            + " the load balancer)")));
                        }
                    })
                    .bind(route.listen().host(), route.listen().port())
                    .awaitUninterruptibly();
            if (!bind.isSuccess()) {
                stopAll(listeners, group, reloader);
                throw new GatewayException("route \"" + route.name() + "\": cannot listen on " + route.listen() + ": "
                        + bind.cause().getMessage() + " (is another program using the port, or does it need root?)");
            }
            listeners.add(bind.channel());
            bound.put(route.name(), (InetSocketAddress) bind.channel().localAddress());
        }
        Optional<MetricsServer> metricsServer = Optional.empty();
        if (config.settings().metrics().isPresent()) {
            Route.HostPort at = config.settings().metrics().get();
            try {
                metricsServer = Optional.of(MetricsServer.start(new InetSocketAddress(at.host(), at.port()), metrics));
            } catch (IOException | RuntimeException e) {
                stopAll(listeners, group, reloader);
                throw new GatewayException("[gateway] metrics: cannot listen on " + at + ": " + e.getMessage()
                        + " (is another program using the port? change metrics or leave it out)");
            }
        }
        reloader.start(config.settings().certificateCheck());
        return new Gateway(group, listeners, bound, connections, reloader, metricsServer, metrics, config.settings());
    }

    private static void accept(
            SocketChannel ch,
            InetSocketAddress remote,
            Route route,
            CertificateSelector engines,
            GatewayConfig.Operations ops,
            ConnectionLimits limits,
            Metrics.RouteMetrics metrics,
            Events events,
            Transport transport,
            ChannelGroup connections) {
        long acceptedAt = System.nanoTime();
        metrics.accepted();
        Optional<ConnectionLimits.Exceeded> over = limits.acquire(remote.getAddress());
        if (over.isPresent()) {
            // Closed at once, never queued: nothing has been read or written.
            ConnectionLimits.Exceeded which = over.get();
            metrics.refused(Reasons.CONNECTION_LIMIT);
            events.refused(
                    route,
                    remote,
                    new Failure(
                            Blame.POLICY,
                            FailureKind.LIMIT_EXCEEDED,
                            Phase.CONNECT,
                            (which == ConnectionLimits.Exceeded.ROUTE
                                            ? "the route already has " + limits.limit(which) + " connections open"
                                            : remote.getAddress().getHostAddress() + " already has "
                                                    + limits.limit(which) + " connections open on the route")
                                    + " (" + which.key() + "); closed at accept. Raise " + which.key()
                                    + " in the route if this is normal load",
                            true));
            ch.close();
            return;
        }
        Session session = new Session(route, ch, remote, events, metrics, acceptedAt);
        ch.attr(SESSION).set(session);
        ch.closeFuture().addListener(f -> {
            limits.release(remote.getAddress());
            session.closed();
        });
        connections.add(ch);
        session.traffic().attach(ch);
        new Connection(
                        (engines == null ? route : route.withCertificates(engines)),
                        ch,
                        session,
                        transport,
                        remote,
                        ops.proxyProtocol())
                .start();
    }

    private static void stopAll(List<Channel> listeners, EventLoopGroup group, CertificateReloader<?> reloader) {
        reloader.close();
        listeners.forEach(Channel::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The address each route listens on, by route name (useful with port 0). */
    public Map<String, InetSocketAddress> boundAddresses() {
        return Map.copyOf(bound);
    }

    /** Where metrics are served ({@code http://ADDRESS/metrics}), if the configuration asked for it. */
    public Optional<InetSocketAddress> metricsAddress() {
        return metricsServer.map(MetricsServer::address);
    }

    /** The metrics in the Prometheus text exposition format 0.0.4 (what the metrics port serves). */
    public String metricsText() {
        return metrics.scrape();
    }

    /** Client connections open now, over all routes. */
    public int openConnections() {
        return connections.size();
    }

    /**
     * Re-reads every route's certificate and key now (SIGHUP), even if the files look unchanged; a route
     * whose files cannot be used keeps its certificate and reports {@link Events#reloadFailed}. Returns when
     * done.
     */
    public void reloadCertificates() {
        reloader.checkNow(true);
    }

    /** Stops listening and closes every connection at once (a drain of zero). */
    @Override
    public void close() {
        close(Duration.ZERO);
    }

    /** A graceful shutdown with the configuration's {@code drain-timeout}. */
    public Drained closeGracefully() {
        return close(settings.drainTimeout());
    }

    /**
     * Graceful shutdown: stops accepting, lets open sessions finish for up to {@code drain}, then closes the
     * rest (each reported with reason {@link Reasons#DRAIN_CUT}: {@link Events#closed} for relayed
     * sessions, {@link Events#refused} for the others). Returns when everything is closed.
     */
    public Drained close(Duration drain) {
        if (!closed.compareAndSet(false, true)) {
            return new Drained(0, 0);
        }
        reloader.close();
        listeners.forEach(c -> c.close().syncUninterruptibly());
        int open = connections.size();
        // No listener is left, so no connection joins the group from here on.
        connections.newCloseFuture().awaitUninterruptibly(drain.toMillis());
        int cut = 0;
        for (Channel ch : connections) {
            Session s = ch.attr(SESSION).get();
            if (s != null) {
                s.cut();
            }
            cut++;
        }
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        metricsServer.ifPresent(MetricsServer::close);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        return new Drained(open, cut);
    }
}
