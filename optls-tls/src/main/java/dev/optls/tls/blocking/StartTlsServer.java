package dev.optls.tls.blocking;

import dev.optls.core.Blame;
import dev.optls.core.Dialects;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Negotiation;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsHandshakeException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Optional;

/**
 * Blocking STARTTLS server: runs the protocol's server negotiation on an accepted socket, answers
 * application commands through a {@link CommandHandler}, and layers TLS at the go-ahead.
 *
 * <p>{@link #upgrade} stops once TLS is up and hands the {@code SSLSocket} to the application with a
 * clean state. {@link #serve} keeps going on the TLS connection with a fresh negotiation (no STARTTLS
 * advertised, STARTTLS refused) until QUIT or a hand-over.
 */
public final class StartTlsServer {
    private final Protocol protocol;
    private final ServerOptions options;
    private final Optional<ServerTls> tls;
    private final Timeouts timeouts;

    /**
     * @param tls the server certificate; empty for a server without TLS (then {@code options} must not
     *     offer it)
     */
    public StartTlsServer(Protocol protocol, ServerOptions options, Optional<ServerTls> tls, Timeouts timeouts) {
        if (options.tlsAvailable() && tls.isEmpty()) {
            throw new IllegalArgumentException("options offer TLS but no certificate was given");
        }
        this.protocol = protocol;
        this.options = options;
        this.tls = tls;
        this.timeouts = timeouts;
    }

    /** Runs until the TLS handshake completes (or the client quits, or the handler takes over). */
    public ServerSession upgrade(Socket accepted, CommandHandler handler) {
        return run(accepted, handler, false);
    }

    /** Runs the whole session: plaintext phase, upgrade, then the TLS phase, until QUIT or hand-over. */
    public ServerSession serve(Socket accepted, CommandHandler handler) {
        return run(accepted, handler, true);
    }

    /** For an implicit-TLS listener: handshake first, then the session with TLS active from the start. */
    public ServerSession serveImplicit(Socket accepted, CommandHandler handler) {
        Optional<TlsConnection> established = Optional.empty();
        try {
            TlsConnection c = requireTls().layer(accepted, java.nio.ByteBuffer.allocate(0), timeouts.handshakeMillis());
            established = Optional.of(c);
            return loop(c.socket(), Dialects.server(protocol, options.implicitTls()), handler, established, true);
        } catch (TlsHandshakeException e) {
            StartTlsClient.closeQuietly(accepted);
            return new ServerSession(Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(e.failure()));
        } catch (IOException e) {
            StartTlsClient.closeQuietly(accepted);
            return broken(e, established);
        }
    }

    private ServerSession run(Socket accepted, CommandHandler handler, boolean continueAfterTls) {
        try {
            return loop(accepted, Dialects.server(protocol, options), handler, Optional.empty(), continueAfterTls);
        } catch (IOException e) {
            StartTlsClient.closeQuietly(accepted);
            return broken(e, Optional.empty());
        }
    }

    private ServerSession loop(
            Socket socket,
            Negotiation negotiation,
            CommandHandler handler,
            Optional<TlsConnection> established,
            boolean continueAfterTls)
            throws IOException {
        Socket current = socket;
        // Small request/reply exchanges: do not let replies wait for a delayed ACK.
        current.setTcpNoDelay(true);
        Wire wire = new Wire(current);
        while (true) {
            Step step;
            try {
                step = wire.drive(negotiation, timeouts.reply());
            } catch (IOException e) {
                StartTlsClient.closeQuietly(current);
                return broken(e, established);
            }
            if (step instanceof Step.Deliver d) {
                String reply = handler.handle(d.command());
                if (CommandHandler.HAND_OVER.equals(reply)) {
                    negotiation.handOver();
                } else {
                    negotiation.respond(reply);
                }
            } else if (step instanceof Step.BeginHandshake begin) {
                TlsConnection c;
                try {
                    // CVE-2011-0411: bytes after the STARTTLS line go to TLS as the start of the ClientHello.
                    c = requireTls().layer(current, begin.tlsInput(), timeouts.handshakeMillis());
                } catch (TlsHandshakeException e) {
                    StartTlsClient.closeQuietly(current);
                    return new ServerSession(
                            Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(e.failure()));
                }
                established = Optional.of(c);
                current = c.socket();
                negotiation.handshakeCompleted(c.summary());
                Step done = negotiation.poll();
                if (!continueAfterTls) {
                    return new ServerSession(Optional.of(current), completed(done), established, Optional.empty());
                }
                // RFC 3207 §4.2 and friends: a brand-new negotiation, knowing nothing of the plaintext phase.
                negotiation = Dialects.server(protocol, options.afterUpgrade());
                wire = new Wire(current);
            } else if (step instanceof Step.Completed c) {
                boolean open = c.result().ending() == Result.Ending.HANDED_OVER;
                if (!open) {
                    StartTlsClient.closeQuietly(current);
                }
                return new ServerSession(
                        open ? Optional.of(current) : Optional.empty(),
                        Optional.of(c.result()),
                        established,
                        Optional.empty());
            } else if (step instanceof Step.Failed f) {
                StartTlsClient.closeQuietly(current);
                return new ServerSession(Optional.empty(), Optional.empty(), established, Optional.of(f.failure()));
            } else {
                throw new IllegalStateException("a server negotiation returned " + step);
            }
        }
    }

    private static Optional<Result> completed(Step step) {
        return step instanceof Step.Completed c ? Optional.of(c.result()) : Optional.empty();
    }

    private ServerTls requireTls() {
        return tls.orElseThrow(() -> new IllegalStateException("no certificate configured"));
    }

    private static ServerSession broken(IOException e, Optional<TlsConnection> established) {
        boolean timeout = e instanceof SocketTimeoutException;
        return new ServerSession(
                Optional.empty(),
                Optional.empty(),
                established,
                Optional.of(new Failure(
                        Blame.NETWORK,
                        timeout ? FailureKind.TIMEOUT : FailureKind.UNEXPECTED_EOF,
                        Phase.SESSION,
                        (timeout ? "client too slow: " : "connection broken: ") + StartTlsClient.message(e),
                        true)));
    }
}
