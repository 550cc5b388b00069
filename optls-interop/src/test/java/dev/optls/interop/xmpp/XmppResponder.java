package dev.optls.interop.xmpp;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * OUR XMPP server under test: an optls {@link StartTlsServer} for c2s or s2s on 127.0.0.1 serving one domain,
 * offering STARTTLS (dialback before TLS, SASL PLAIN and dialback after), that answers every stanza with a
 * {@code <not-authorized/>} SASL failure and records what it was handed, with whether it came over TLS.
 */
final class XmppResponder implements AutoCloseable {
    /** What happened on one connection. */
    record Connection(List<Command> commands, boolean tls, Optional<String> failure) {}

    private final StartTlsServer server;
    private final ServerSocket listener;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "optls-xmpp-responder");
        t.setDaemon(true);
        return t;
    });
    private final LinkedBlockingQueue<Connection> finished = new LinkedBlockingQueue<>();

    XmppResponder(Protocol protocol, String domain, Credential credential) throws IOException {
        ServerOptions options = ServerOptions.offering(domain, Capabilities.of("dialback"))
                .withTlsCapabilities(Capabilities.of("mechanisms PLAIN", "dialback"));
        this.server = new StartTlsServer(
                protocol,
                options,
                Optional.of(ServerTls.create(
                        credential.chain(), credential.privateKey(), protocol.alpn(), TlsProfile.modern())),
                new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(10)));
        this.listener = new ServerSocket(0, 50, InetAddress.getByName(Peers.LOOPBACK));
        pool.execute(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** The next connection to finish, waiting up to 10 s. */
    Connection next() throws InterruptedException {
        Connection c = finished.poll(10, TimeUnit.SECONDS);
        if (c == null) {
            throw new AssertionError("no connection to the XMPP responder finished within 10 s");
        }
        return c;
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket accepted;
            try {
                accepted = listener.accept();
            } catch (IOException e) {
                return;
            }
            pool.execute(() -> {
                List<Command> commands = new ArrayList<>();
                ServerSession session = server.serve(accepted, c -> {
                    commands.add(c);
                    // RFC 6120 §6.5.10: no credentials are accepted here.
                    return "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>";
                });
                try {
                    session.close();
                } catch (IOException e) {
                    // The client is gone.
                }
                finished.add(new Connection(
                        List.copyOf(commands),
                        session.tls().isPresent(),
                        session.failure().map(f -> f.kind().name())));
            });
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // Shutting down.
        }
        pool.shutdownNow();
    }
}
