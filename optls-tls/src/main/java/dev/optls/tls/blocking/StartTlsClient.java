package dev.optls.tls.blocking;

import dev.optls.core.Blame;
import dev.optls.core.ClientOptions;
import dev.optls.core.Dialects;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Negotiation;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.Step;
import dev.optls.tls.ClientTls;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsHandshakeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Optional;

/**
 * Blocking STARTTLS client: connects (or takes a connected socket), runs the protocol's client
 * negotiation, layers TLS at the go-ahead, and returns the upgraded socket with a summary.
 *
 * <pre>{@code
 * StartTlsClient client = new StartTlsClient(Protocol.SMTP, ClientOptions.of(SecurityLevel.VERIFY),
 *         ClientTls.builder(SecurityLevel.VERIFY, "mx.example.org").build(), Timeouts.DEFAULT);
 * try (ClientSession s = client.connect("mx.example.org", 25)) { ... }
 * }</pre>
 */
public final class StartTlsClient {
    private final Protocol protocol;
    private final ClientOptions options;
    private final ClientTls tls;
    private final Timeouts timeouts;
    private final HandshakeCheck check;

    /**
     * Decides, right after the TLS handshake and before any byte is sent over TLS, whether the session may go on:
     * for authentication the trust manager cannot do, such as DANE (RFC 7672 §3: the certificate is matched against
     * TLSA records before the client sends anything over the connection).
     */
    @FunctionalInterface
    public interface HandshakeCheck {
        /** A check that accepts every handshake. */
        HandshakeCheck NONE = connection -> Optional.empty();

        /**
         * Returns the failure that ends the session (the connection is then closed), or empty to go on.
         *
         * @param connection the completed handshake: peer chain, version, cipher
         */
        Optional<Failure> check(TlsConnection connection);
    }

    /**
     * @param protocol the protocol to speak
     * @param options level, EHLO name, implicit TLS, limits
     * @param tls how to run the TLS handshake (trust, reference identity, SNI, ALPN)
     * @param timeouts per-phase time limits
     */
    public StartTlsClient(Protocol protocol, ClientOptions options, ClientTls tls, Timeouts timeouts) {
        this.protocol = protocol;
        this.options = options;
        this.tls = tls;
        this.timeouts = timeouts;
        this.check = HandshakeCheck.NONE;
    }

    private StartTlsClient(StartTlsClient base, HandshakeCheck check) {
        this.protocol = base.protocol;
        this.options = base.options;
        this.tls = base.tls;
        this.timeouts = base.timeouts;
        this.check = java.util.Objects.requireNonNull(check, "check");
    }

    /**
     * This client with {@code check} run after every completed handshake, before any byte is sent over TLS. A
     * failure it returns ends the session: status {@code FAILED}, the connection closed, the TLS parameters and
     * peer chain still reported.
     */
    public StartTlsClient withHandshakeCheck(HandshakeCheck check) {
        return new StartTlsClient(this, check);
    }

    /** Connects to {@code host:port} and negotiates; never throws for anything the peer or network does. */
    public ClientSession connect(String host, int port) {
        Socket socket = new Socket();
        try {
            // Small request/reply exchanges: without TCP_NODELAY each handshake flight can wait for a
            // delayed ACK (40 ms on Linux loopback).
            socket.setTcpNoDelay(true);
            socket.connect(
                    new InetSocketAddress(host, port), (int) timeouts.connect().toMillis());
        } catch (IOException e) {
            closeQuietly(socket);
            return failed(
                    new Failure(
                            Blame.NETWORK,
                            e instanceof SocketTimeoutException ? FailureKind.TIMEOUT : FailureKind.CONNECT_FAILED,
                            Phase.CONNECT,
                            "cannot connect to " + host + ":" + port + ": " + message(e),
                            true),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty());
        }
        return negotiate(socket, host, port);
    }

    /**
     * Negotiates on a connected socket. On failure the socket is closed.
     *
     * @param host the name the socket was connected to (used for SNI and the certificate check)
     */
    public ClientSession negotiate(Socket socket, String host, int port) {
        Optional<InetSocketAddress> local =
                socket.getLocalSocketAddress() instanceof InetSocketAddress a ? Optional.of(a) : Optional.empty();
        Optional<TlsConnection> established = Optional.empty();
        Negotiation negotiation = Dialects.client(protocol, tls.withDefaultServiceDomain(options));
        try {
            Socket current = socket;
            if (options.implicitTls()) {
                // RFC 8314 §3: on an implicit-TLS port the ClientHello is the first thing sent.
                TlsConnection c = tls.layer(socket, host, port, timeouts.handshakeMillis());
                established = Optional.of(c);
                current = c.socket();
                Optional<ClientSession> vetoed = veto(c, established, negotiation.observed(), local);
                if (vetoed.isPresent()) {
                    return vetoed.get();
                }
            }
            Step step = new Wire(current).drive(negotiation, timeouts.reply());
            if (step instanceof Step.BeginHandshake) {
                TlsConnection c = tls.layer(current, host, port, timeouts.handshakeMillis());
                established = Optional.of(c);
                current = c.socket();
                Optional<ClientSession> vetoed = veto(c, established, negotiation.observed(), local);
                if (vetoed.isPresent()) {
                    return vetoed.get();
                }
                negotiation.handshakeCompleted(c.summary());
                step = new Wire(current).drive(negotiation, timeouts.reply());
            }
            if (step instanceof Step.Completed done) {
                return session(
                        done.result().tlsActive() ? ClientSession.Status.TLS : ClientSession.Status.PLAINTEXT,
                        Optional.of(current),
                        Optional.of(done.result()),
                        established,
                        Optional.empty(),
                        local);
            }
            if (step instanceof Step.UpgradeUnavailable plain) {
                return session(
                        ClientSession.Status.PLAINTEXT,
                        Optional.of(current),
                        Optional.of(plain.plaintext()),
                        established,
                        Optional.of(plain.reason()),
                        local);
            }
            if (step instanceof Step.Failed f) {
                closeQuietly(current);
                return session(
                        ClientSession.Status.FAILED,
                        Optional.empty(),
                        f.observed(),
                        established,
                        Optional.of(f.failure()),
                        local);
            }
            throw new IllegalStateException("a client negotiation returned " + step);
        } catch (TlsHandshakeException e) {
            // No plaintext fallback on the same connection after a failed handshake (RFC 3207 §4.1).
            closeQuietly(socket);
            return new ClientSession(
                    protocol,
                    ClientSession.Status.FAILED,
                    Optional.empty(),
                    negotiation.observed(),
                    Optional.empty(),
                    Optional.of(e.failure()),
                    e.verification(),
                    e.peerChain(),
                    local);
        } catch (SocketTimeoutException e) {
            closeQuietly(socket);
            return failed(
                    new Failure(
                            Blame.NETWORK,
                            FailureKind.TIMEOUT,
                            Phase.SESSION,
                            "timed out: " + message(e) + "; raise --timeout if the server is slow",
                            true),
                    established,
                    negotiation.observed(),
                    local);
        } catch (IOException e) {
            closeQuietly(socket);
            return failed(
                    new Failure(
                            Blame.NETWORK,
                            FailureKind.UNEXPECTED_EOF,
                            Phase.SESSION,
                            "connection broken: " + message(e),
                            true),
                    established,
                    negotiation.observed(),
                    local);
        }
    }

    /** Runs the handshake check; on a failure closes the connection and returns the failed session. */
    private Optional<ClientSession> veto(
            TlsConnection connection,
            Optional<TlsConnection> established,
            Optional<Result> observed,
            Optional<InetSocketAddress> local) {
        Optional<Failure> failure = check.check(connection);
        if (failure.isEmpty()) {
            return Optional.empty();
        }
        closeQuietly(connection.socket());
        return Optional.of(
                session(ClientSession.Status.FAILED, Optional.empty(), observed, established, failure, local));
    }

    private ClientSession failed(
            Failure failure,
            Optional<TlsConnection> established,
            Optional<Result> observed,
            Optional<InetSocketAddress> local) {
        return session(
                ClientSession.Status.FAILED, Optional.empty(), observed, established, Optional.of(failure), local);
    }

    private ClientSession session(
            ClientSession.Status status,
            Optional<Socket> socket,
            Optional<Result> result,
            Optional<TlsConnection> established,
            Optional<Failure> failure,
            Optional<InetSocketAddress> local) {
        return new ClientSession(
                protocol,
                status,
                socket,
                result,
                established,
                failure,
                established.flatMap(TlsConnection::verification),
                established.map(TlsConnection::peerChain).orElse(List.of()),
                local);
    }

    static String message(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closing after a failure: nothing more to report.
        }
    }
}
