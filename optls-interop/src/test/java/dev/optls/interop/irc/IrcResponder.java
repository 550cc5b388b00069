package dev.optls.interop.irc;

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
 * OUR IRC server under test: an optls {@link StartTlsServer} for {@code Protocol.IRC} on 127.0.0.1 that
 * answers registration minimally (NICK noted, USER welcomed with 001, PING with PONG, CAP REQ NAKed) and
 * records every message it was handed, with whether it arrived over TLS.
 */
final class IrcResponder implements AutoCloseable {
    /** What happened on one connection. */
    record Connection(List<Command> commands, boolean tls, Optional<String> failure) {
        List<String> verbs() {
            return commands.stream().map(Command::verb).toList();
        }
    }

    private final StartTlsServer server;
    private final ServerSocket listener;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "optls-irc-responder");
        t.setDaemon(true);
        return t;
    });
    private final LinkedBlockingQueue<Connection> finished = new LinkedBlockingQueue<>();

    IrcResponder(Credential credential) throws IOException {
        ServerOptions options = ServerOptions.offering("localhost", Capabilities.of("multi-prefix", "sasl"));
        this.server = new StartTlsServer(
                Protocol.IRC,
                options,
                Optional.of(ServerTls.create(
                        credential.chain(), credential.privateKey(), Protocol.IRC.alpn(), TlsProfile.modern())),
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
            throw new AssertionError("no connection to the IRC responder finished within 10 s");
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
                    return answer(c);
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

    private static String answer(Command c) {
        return switch (c.verb()) {
            case "NICK" -> ":localhost NOTICE * :nick noted";
            case "USER" -> ":localhost 001 user :Welcome to the optls IRC responder";
            case "PING" -> ":localhost PONG localhost :" + c.arguments();
            case "CAP" -> ":localhost CAP * NAK :" + c.arguments();
            default -> ":localhost 421 * " + c.verb() + " :Unknown command";
        };
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
