package dev.optls.tls.blocking;

import dev.optls.core.Failure;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.Verification;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * What a blocking client negotiation produced. On success the socket is open and positioned at a clean
 * command boundary: an {@code SSLSocket} after an upgrade, the plaintext socket when the level allowed
 * plaintext. On failure the socket is closed.
 *
 * @param protocol the protocol spoken
 * @param status how it ended
 * @param socket the connection to continue on, or empty when it was closed
 * @param result what was advertised before and after TLS; when the session FAILED, what the server had
 *     advertised in plaintext before the failure (for reports), if it got that far
 * @param tls the TLS parameters and peer certificate chain, when a handshake completed
 * @param failure why TLS is not in use (status {@code PLAINTEXT} at level MAY) or why it failed
 * @param verification the server certificate check, when a certificate was seen (also when the
 *     handshake failed because of it)
 * @param peerChain the server's certificates, leaf first, when seen
 * @param localAddress this side's address of the TCP connection, once it was connected (TLS-RPT's {@code
 *     sending-mta-ip}, RFC 8460 §4.4)
 */
public record ClientSession(
        Protocol protocol,
        Status status,
        Optional<Socket> socket,
        Optional<Result> result,
        Optional<TlsConnection> tls,
        Optional<Failure> failure,
        Optional<Verification> verification,
        List<X509Certificate> peerChain,
        Optional<InetSocketAddress> localAddress)
        implements Closeable {

    /** How a client negotiation ended. */
    public enum Status {
        /** TLS is up (by STARTTLS or implicitly). */
        TLS,
        /** Plaintext, which the level allowed (NONE, or MAY without an offer). */
        PLAINTEXT,
        /** The connection was closed: the level could not be met, or something broke. */
        FAILED
    }

    /** Closes the connection if it is open. */
    @Override
    public void close() throws IOException {
        if (socket.isPresent()) {
            socket.get().close();
        }
    }
}
