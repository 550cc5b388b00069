package dev.optls.tls.blocking;

import dev.optls.core.Failure;
import dev.optls.core.Result;
import dev.optls.tls.TlsConnection;
import java.io.Closeable;
import java.io.IOException;
import java.net.Socket;
import java.util.Optional;

/**
 * What a blocking server negotiation produced.
 *
 * @param socket the connection to continue on (an {@code SSLSocket} after an upgrade), empty when closed
 * @param result how the negotiation ended (upgraded, handed over, closed by QUIT)
 * @param tls the TLS parameters, when a handshake completed
 * @param failure why the connection was closed, if it failed
 */
public record ServerSession(
        Optional<Socket> socket, Optional<Result> result, Optional<TlsConnection> tls, Optional<Failure> failure)
        implements Closeable {

    @Override
    public void close() throws IOException {
        if (socket.isPresent()) {
            socket.get().close();
        }
    }
}
