package dev.optls.gateway;

import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.netty.CertificateSelector;
import dev.optls.netty.ServerEngines;
import dev.optls.tls.ClientTls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One gateway route: clients connect to {@code listen} (with STARTTLS, implicit TLS or plaintext) and the
 * gateway relays the session to {@code connect} (plaintext, or TLS the gateway originates: STARTTLS or
 * implicit). At least one side has TLS.
 *
 * @param name the route's name, for logs and errors
 * @param protocol the protocol spoken on both sides
 * @param listen where clients connect
 * @param listenTls how clients get TLS
 * @param connect the plaintext backend
 * @param tls the certificate clients see, and the TLS engine (JDK or BoringSSL); {@code null} only when
 *     {@code listenTls} is {@link ListenTls#NONE}
 * @param hostname the name the gateway uses in its own greeting and towards the backend (EHLO)
 * @param replyTimeout how long to wait for each client command before TLS, and for the backend's replies
 * @param handshakeTimeout how long a TLS handshake may take
 * @param upstream how the gateway gets TLS towards {@code connect}
 * @param certificates the certificates clients may get, chosen by the SNI of their ClientHello (RFC 6066 §3);
 *     its default is {@code tls}. {@code null} exactly when {@code tls} is
 */
public record Route(
        String name,
        Protocol protocol,
        HostPort listen,
        ListenTls listenTls,
        HostPort connect,
        ServerEngines tls,
        String hostname,
        Duration replyTimeout,
        Duration handshakeTimeout,
        Upstream upstream,
        CertificateSelector certificates) {
    public Route {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(listenTls, "listenTls");
        Objects.requireNonNull(connect, "connect");
        if (listenTls != ListenTls.NONE) {
            Objects.requireNonNull(tls, "tls");
        }
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(replyTimeout, "replyTimeout");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        Objects.requireNonNull(upstream, "upstream");
        List<Unsupported> unsupported = unsupported(protocol, listenTls, upstream.mode());
        if (!unsupported.isEmpty()) {
            throw new IllegalArgumentException(
                    "route " + name + ": " + unsupported.get(0).reason(protocol));
        }
        if ((tls == null) != (certificates == null) || certificates != null && certificates.fallback() != tls) {
            throw new IllegalArgumentException("the default certificate of route " + name + " must be tls");
        }
    }

    /** A way of listening and connecting the gateway cannot run for a protocol. */
    enum Unsupported {
        /** Neither side has TLS. */
        NO_TLS,
        /** The gateway cannot terminate the protocol's TLS from clients. */
        TERMINATION,
        /** The gateway cannot originate the protocol's TLS towards the upstream. */
        ORIGINATION,
        /** Implicit TLS from clients, for a protocol without an implicit-TLS form. */
        IMPLICIT_LISTEN,
        /** Implicit TLS towards the upstream, for a protocol without an implicit-TLS form. */
        IMPLICIT_CONNECT;

        /** Why, for {@code protocol}. */
        String reason(Protocol protocol) {
            return switch (this) {
                case NO_TLS -> "the route adds no TLS (listen-tls and connect-tls are both \"none\")";
                case TERMINATION ->
                    protocol.scheme() + " cannot be terminated by the gateway yet (" + Relaying.whyNot(protocol) + ")";
                case ORIGINATION ->
                    "the gateway cannot originate TLS for " + protocol.scheme() + " ("
                            + Relaying.whyNotOriginate(protocol) + ")";
                case IMPLICIT_LISTEN, IMPLICIT_CONNECT -> protocol.scheme() + " has no implicit-TLS form";
            };
        }
    }

    /** What the gateway cannot run of a route with these sides for {@code protocol}; empty when it can. */
    static List<Unsupported> unsupported(Protocol protocol, ListenTls listenTls, ConnectTls connectTls) {
        if (listenTls == ListenTls.NONE && connectTls == ConnectTls.NONE) {
            return List.of(Unsupported.NO_TLS);
        }
        List<Unsupported> out = new ArrayList<>();
        if (listenTls != ListenTls.NONE && !Relaying.supports(protocol)) {
            out.add(Unsupported.TERMINATION);
        } else if (connectTls != ConnectTls.NONE
                && !Relaying.whyNotOriginate(protocol).isEmpty()) {
            out.add(Unsupported.ORIGINATION);
        }
        if (listenTls == ListenTls.IMPLICIT && protocol.implicitScheme().isEmpty()) {
            out.add(Unsupported.IMPLICIT_LISTEN);
        }
        if (connectTls == ConnectTls.IMPLICIT && protocol.implicitScheme().isEmpty()) {
            out.add(Unsupported.IMPLICIT_CONNECT);
        }
        return out;
    }

    /** A route with one certificate for every client. */
    public Route(
            String name,
            Protocol protocol,
            HostPort listen,
            ListenTls listenTls,
            HostPort connect,
            ServerEngines tls,
            String hostname,
            Duration replyTimeout,
            Duration handshakeTimeout,
            Upstream upstream) {
        this(
                name,
                protocol,
                listen,
                listenTls,
                connect,
                tls,
                hostname,
                replyTimeout,
                handshakeTimeout,
                upstream,
                tls == null ? null : CertificateSelector.single(tls));
    }

    /** A termination route: TLS from clients, a plaintext backend. */
    public Route(
            String name,
            Protocol protocol,
            HostPort listen,
            ListenTls listenTls,
            HostPort connect,
            ServerEngines tls,
            String hostname,
            Duration replyTimeout,
            Duration handshakeTimeout) {
        this(
                name,
                protocol,
                listen,
                listenTls,
                connect,
                tls,
                hostname,
                replyTimeout,
                handshakeTimeout,
                Upstream.PLAINTEXT);
    }

    /** The same route serving another certificate (after a reload). */
    public Route withTls(ServerEngines engines) {
        return withCertificates(CertificateSelector.single(engines));
    }

    /** The same route serving other certificates chosen by SNI (after a reload). */
    public Route withCertificates(CertificateSelector selector) {
        return new Route(
                name,
                protocol,
                listen,
                listenTls,
                connect,
                selector.fallback(),
                hostname,
                replyTimeout,
                handshakeTimeout,
                upstream,
                selector);
    }

    /** How clients of a route get TLS. */
    public enum ListenTls {
        /** The protocol's upgrade command (STARTTLS, STLS, AUTH TLS, SSLRequest, StartTLS extended op…). */
        STARTTLS,
        /** TLS from the first byte (RFC 8314 implicit TLS: 465, 993, 995, 636, 563, 6697…). */
        IMPLICIT,
        /** Plaintext clients: the route originates TLS towards the upstream (it must connect with TLS). */
        NONE
    }

    /** How the gateway connects to the upstream. */
    public enum ConnectTls {
        /** A plaintext backend (termination). */
        NONE,
        /** The gateway sends the protocol's upgrade command and runs the client handshake (origination). */
        STARTTLS,
        /** TLS from the first byte (RFC 8314). */
        IMPLICIT
    }

    /**
     * The upstream side of a route.
     *
     * @param mode plaintext, STARTTLS or implicit TLS
     * @param tls the TLS client (level, trust anchors, reference identity, ALPN); present unless {@code mode}
     *     is {@link ConnectTls#NONE}. At {@link SecurityLevel#ENCRYPT} and above a session whose upstream TLS
     *     fails is closed, never relayed in plaintext; at {@link SecurityLevel#MAY} it falls back to plaintext.
     */
    public record Upstream(ConnectTls mode, Optional<ClientTls> tls) {
        /** A plaintext backend. */
        public static final Upstream PLAINTEXT = new Upstream(ConnectTls.NONE, Optional.empty());

        public Upstream {
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(tls, "tls");
            if ((mode == ConnectTls.NONE) != tls.isEmpty()) {
                throw new IllegalArgumentException("a TLS client is needed exactly when the upstream uses TLS");
            }
        }

        /** TLS towards the upstream with {@code tls}. */
        public static Upstream tls(ConnectTls mode, ClientTls tls) {
            return new Upstream(mode, Optional.of(tls));
        }

        /** The level enforced towards the upstream ({@link SecurityLevel#NONE} for a plaintext backend). */
        public SecurityLevel level() {
            return tls.map(ClientTls::level).orElse(SecurityLevel.NONE);
        }
    }

    /** A host (name or address literal) and a port. */
    public record HostPort(String host, int port) {
        public HostPort {
            Objects.requireNonNull(host, "host");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }

        @Override
        public String toString() {
            return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        }
    }
}
