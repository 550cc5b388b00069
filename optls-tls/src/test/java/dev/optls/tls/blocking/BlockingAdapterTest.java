package dev.optls.tls.blocking;

import dev.optls.core.ClientOptions;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.contract.AdapterContract;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLSocket;

/** The blocking adapter ({@link StartTlsServer}, {@link StartTlsClient}) against the adapter contract. */
class BlockingAdapterTest extends AdapterContract {
    @Override
    protected Server serveOnce(
            Protocol protocol, ServerOptions options, Optional<ServerTls> tls, CommandHandler handler)
            throws IOException {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        StartTlsServer server = new StartTlsServer(protocol, options, tls, FAST);
        CompletableFuture<ServerView> outcome = CompletableFuture.supplyAsync(() -> {
            try (listener;
                    Socket accepted = listener.accept()) {
                ServerSession session = server.serve(accepted, handler);
                return new ServerView(session.tls().isPresent(), session.failure(), session.result());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        return new Server(listener.getLocalPort(), outcome);
    }

    @Override
    protected ClientView connect(Protocol protocol, ClientOptions options, ClientTls tls, int port, Timeouts timeouts) {
        ClientSession session = new StartTlsClient(protocol, options, tls, timeouts).connect("127.0.0.1", port);
        return new ClientView(
                session.status(),
                session.socket().isPresent(),
                session.socket().map(s -> s instanceof SSLSocket).orElse(false),
                session.failure(),
                session.result(),
                session.tls().map(TlsConnection::protocolVersion),
                session.tls().map(TlsConnection::applicationProtocol),
                session.verification(),
                session.peerChain(),
                session);
    }
}
