package dev.optls.interop.sieve;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.core.sieve.SieveStrings;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * OUR ManageSieve server under test: an optls {@link StartTlsServer} for {@code Protocol.SIEVE} on 127.0.0.1
 * with a tiny script store behind it (AUTHENTICATE PLAIN for {@value #USER}/{@value #PASSWORD},
 * LISTSCRIPTS, PUTSCRIPT, GETSCRIPT, SETACTIVE, HAVESPACE, CHECKSCRIPT, DELETESCRIPT). It records every
 * command it was handed, with whether it arrived over TLS.
 */
final class SieveResponder implements AutoCloseable {
    static final String USER = "optls";
    static final String PASSWORD = "secret";

    /** What happened on one connection. */
    record Connection(List<Command> commands, boolean tls, Optional<String> failure) {
        List<String> verbs() {
            return commands.stream().map(Command::verb).toList();
        }
    }

    private final StartTlsServer server;
    private final ServerSocket listener;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "optls-sieve-responder");
        t.setDaemon(true);
        return t;
    });
    private final LinkedBlockingQueue<Connection> finished = new LinkedBlockingQueue<>();
    private final List<String> stored = new CopyOnWriteArrayList<>();

    SieveResponder(Credential credential, boolean tlsRequired) throws IOException {
        Capabilities caps = Capabilities.of(
                "IMPLEMENTATION optls ManageSieve", "SASL PLAIN", "SIEVE fileinto vacation", "VERSION 1.0");
        ServerOptions options = ServerOptions.offering("localhost", caps).withTlsRequired(tlsRequired);
        this.server = new StartTlsServer(
                Protocol.SIEVE,
                options,
                Optional.of(ServerTls.create(
                        credential.chain(), credential.privateKey(), Protocol.SIEVE.alpn(), TlsProfile.modern())),
                new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(10)));
        this.listener = new ServerSocket(0, 50, InetAddress.getByName(Peers.LOOPBACK));
        pool.execute(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Scripts stored with PUTSCRIPT, as received. */
    List<String> stored() {
        return List.copyOf(stored);
    }

    /** The next connection to finish, waiting up to 10 s. */
    Connection next() throws InterruptedException {
        Connection c = finished.poll(10, TimeUnit.SECONDS);
        if (c == null) {
            throw new AssertionError("no connection to the SIEVE responder finished within 10 s");
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
                        session.failure().map(Object::toString)));
            });
        }
    }

    private String answer(Command c) {
        List<String> args = SieveStrings.arguments(c.arguments()).orElse(List.of());
        return switch (c.verb()) {
            case "AUTHENTICATE" -> {
                if (args.size() == 2 && args.get(0).equalsIgnoreCase("PLAIN")) {
                    String decoded = new String(Base64.getMimeDecoder().decode(args.get(1)), StandardCharsets.UTF_8);
                    if (decoded.equals("\0" + USER + "\0" + PASSWORD)
                            || decoded.equals(USER + "\0" + USER + "\0" + PASSWORD)) {
                        yield "OK \"Logged in.\"";
                    }
                }
                yield "NO \"Authentication failed.\"";
            }
            case "LISTSCRIPTS" -> (stored.isEmpty() ? "" : "\"main\" ACTIVE\r\n") + "OK \"Listscripts completed.\"";
            case "PUTSCRIPT" -> {
                if (args.size() != 2) {
                    yield "NO \"PUTSCRIPT takes a name and a script\"";
                }
                stored.add(args.get(1));
                yield "OK \"PUTSCRIPT completed.\"";
            }
            case "GETSCRIPT" ->
                stored.isEmpty()
                        ? "NO (NONEXISTENT) \"Script does not exist.\""
                        : SieveStrings.quote(stored.get(stored.size() - 1)) + "\r\nOK \"Getscript completed.\"";
            case "HAVESPACE", "CHECKSCRIPT", "SETACTIVE", "DELETESCRIPT" -> "OK";
            default -> "NO \"" + c.verb() + " is not part of the optls responder\"";
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
