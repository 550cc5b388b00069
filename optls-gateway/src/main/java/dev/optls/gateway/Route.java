package dev.optls.gateway;

import dev.optls.core.Protocol;
import dev.optls.netty.ServerEngines;
import java.time.Duration;
import java.util.Objects;

/**
 * One gateway route: clients connect to {@code listen} and speak TLS to the gateway (STARTTLS or implicit);
 * the gateway relays the session in plaintext to {@code connect}.
 *
 * @param name the route's name, for logs and errors
 * @param protocol the protocol spoken on both sides
 * @param listen where clients connect
 * @param listenTls how clients get TLS
 * @param connect the plaintext backend
 * @param tls the certificate clients see, and the TLS engine (JDK or BoringSSL)
 * @param hostname the name the gateway uses in its own greeting and towards the backend (EHLO)
 * @param replyTimeout how long to wait for each client command before TLS, and for the backend's replies
 * @param handshakeTimeout how long a TLS handshake may take
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
        Duration handshakeTimeout) {
    public Route {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(listenTls, "listenTls");
        Objects.requireNonNull(connect, "connect");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(replyTimeout, "replyTimeout");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
    }

    /** The same route serving another certificate (after a reload). */
    public Route withTls(ServerEngines engines) {
        return new Route(name, protocol, listen, listenTls, connect, engines, hostname, replyTimeout, handshakeTimeout);
    }

    /** How clients of a route get TLS. */
    public enum ListenTls {
        /** The protocol's upgrade command (STARTTLS, STLS, AUTH TLS, SSLRequest, StartTLS extended op…). */
        STARTTLS,
        /** TLS from the first byte (RFC 8314 implicit TLS: 465, 993, 995, 636, 563, 6697…). */
        IMPLICIT
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
