package dev.optls.tls.contract;

import dev.optls.core.ClientOptions;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLSocket;

/** The blocking adapter as a contract peer: also the opposite side for other adapters' tests. */
public final class BlockingPeer {
    private BlockingPeer() {}

    /** {@link StartTlsServer#serve} (or {@code serveImplicit}) for one connection on 127.0.0.1. */
    public static AdapterContract.Server serveOnce(
            Protocol protocol,
            ServerOptions options,
            Optional<ServerTls> tls,
            CommandHandler handler,
            boolean implicit,
            Timeouts timeouts)
            throws IOException {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        StartTlsServer server = new StartTlsServer(protocol, options, tls, timeouts);
        CompletableFuture<AdapterContract.ServerView> outcome = CompletableFuture.supplyAsync(() -> {
            try (listener;
                    Socket accepted = listener.accept()) {
                ServerSession session =
                        implicit ? server.serveImplicit(accepted, handler) : server.serve(accepted, handler);
                return new AdapterContract.ServerView(session.tls().isPresent(), session.failure(), session.result());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        return new AdapterContract.Server(listener.getLocalPort(), outcome);
    }

    /** {@link StartTlsClient#connect} to 127.0.0.1:{@code port}. */
    public static AdapterContract.ClientView connect(
            Protocol protocol, ClientOptions options, ClientTls tls, int port, Timeouts timeouts) {
        ClientSession session = new StartTlsClient(protocol, options, tls, timeouts).connect("127.0.0.1", port);
        return new AdapterContract.ClientView(
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
