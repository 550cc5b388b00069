package dev.optls.tls;

import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.core.SecurityLevel;
import dev.optls.tls.internal.HandshakeDeadline;
import dev.optls.tls.internal.Handshakes;
import dev.optls.tls.internal.RecordingTrustManager;
import dev.optls.tls.internal.ServerChainTrustManager;
import dev.optls.tls.internal.VerifyingTrustManager;
import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.WeakHashMap;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The client side of TLS over an already connected socket (after a STARTTLS go-ahead, or for implicit
 * TLS).
 *
 * <p>At {@link SecurityLevel#VERIFY} the chain must validate against the trust anchors and the leaf must
 * present the server name, or the handshake is aborted ({@code CERTIFICATE_INVALID}). At {@code ENCRYPT}
 * and {@code MAY} the certificate is not enforced (Postfix semantics, RFC 7435), but it is still checked
 * and the {@link Verification} is reported. SNI is sent when the server name is a DNS name; ALPN when an
 * id is given.
 */
public final class ClientTls {
    private final SecurityLevel level;
    private final TrustAnchors trust;
    private final ReferenceIdentity serverName;
    private final Optional<String> alpn;
    private final TlsProfile profile;
    // The context of every connection this client layered, for data channels that must resume its session
    // (FTP, RFC 4217 §10.2). Weak keys: an entry goes away with its control socket.
    private final Map<SSLSocket, Scope> contexts = Collections.synchronizedMap(new WeakHashMap<>());

    private ClientTls(
            SecurityLevel level,
            TrustAnchors trust,
            ReferenceIdentity serverName,
            Optional<String> alpn,
            TlsProfile profile) {
        this.level = level;
        this.trust = trust;
        this.serverName = serverName;
        this.alpn = alpn;
        this.profile = profile;
    }

    /**
     * A client.
     *
     * @param level {@code MAY}, {@code ENCRYPT} or {@code VERIFY} ({@code NONE} has no TLS to configure)
     * @param trust the anchors server chains are checked against (at every level, enforced at VERIFY)
     * @param serverName the reference identity; also the SNI when it is a DNS name
     * @param alpn the ALPN id to offer (e.g. {@code imap}), empty for protocols without one
     * @param profile versions and cipher suites, usually {@link TlsProfile#modern()}
     */
    public static ClientTls create(
            SecurityLevel level,
            TrustAnchors trust,
            ReferenceIdentity serverName,
            Optional<String> alpn,
            TlsProfile profile) {
        Objects.requireNonNull(level, "level");
        if (level == SecurityLevel.NONE) {
            throw new IllegalArgumentException("security level NONE never starts TLS; do not build a ClientTls for it");
        }
        Objects.requireNonNull(alpn, "alpn");
        alpn.ifPresent(id -> {
            if (id.isEmpty()) {
                throw new IllegalArgumentException("an ALPN id must not be empty");
            }
        });
        return new ClientTls(
                level,
                Objects.requireNonNull(trust, "trust"),
                Objects.requireNonNull(serverName, "serverName"),
                alpn,
                Objects.requireNonNull(profile, "profile"));
    }

    /** The security level this client enforces. */
    public SecurityLevel level() {
        return level;
    }

    /** The reference identity checked in the server's certificate. */
    public ReferenceIdentity serverName() {
        return serverName;
    }

    /**
     * {@code options} with the service domain (XMPP's stream {@code to}) defaulted to this client's reference
     * identity, when not configured (RFC 6120 §13.7.1.2: the domain is what the certificate is checked against).
     */
    public ClientOptions withDefaultServiceDomain(ClientOptions options) {
        return options.serviceDomain().isPresent() ? options : options.withServiceDomain(serverName.value());
    }

    /**
     * Layers TLS over a connected socket and runs the handshake.
     *
     * @param plain the connected TCP socket, with nothing left unread that belongs to TLS
     * @param host the host name or address used to connect (for the TLS session, not for name checks)
     * @param port the port connected to
     * @param handshakeTimeoutMillis how long the whole handshake may take
     * @return the connection; its socket owns {@code plain}
     * @throws TlsHandshakeException if the handshake failed; {@code plain} is then closed
     */
    public TlsConnection layer(Socket plain, String host, int port, int handshakeTimeoutMillis)
            throws TlsHandshakeException {
        Objects.requireNonNull(plain, "plain");
        if (!plain.isConnected() || plain.isClosed()) {
            throw new IllegalArgumentException("the socket must be connected and open");
        }
        String peer = host + ":" + port;
        ServerChainTrustManager trustManager = trustManager();
        SSLSocket socket;
        try {
            SSLContext context = context(trustManager);
            socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
            contexts.put(socket, new Scope(context, trustManager));
        } catch (IOException e) {
            Handshakes.closeQuietly(plain);
            throw new TlsHandshakeException(
                    Handshakes.genericFailure(
                            new Handshakes.HandshakeIoException(e, false), peer, handshakeTimeoutMillis),
                    Optional.empty(),
                    e);
        }
        socket.setSSLParameters(parameters(socket.getSSLParameters()));

        try {
            Handshakes.run(socket, plain, handshakeTimeoutMillis);
        } catch (Handshakes.HandshakeIoException e) {
            throw failure(trustManager, e, peer, handshakeTimeoutMillis);
        }
        try {
            TlsSessionInfo info = established(trustManager, socket.getSession(), socket.getApplicationProtocol(), peer);
            return new TlsConnection(
                    socket,
                    info.protocolVersion(),
                    info.cipherSuite(),
                    info.applicationProtocol(),
                    info.serverName(),
                    info.peerChain(),
                    info.verification());
        } catch (TlsHandshakeException e) {
            Handshakes.closeQuietly(socket);
            throw e;
        }
    }

    /**
     * A client-mode engine for an event-driven adapter (Netty), with the same trust, name check, SNI, ALPN
     * and profile as {@link #layer}. The caller runs the handshake, then calls {@link
     * EngineHandshake#established()} or {@link EngineHandshake#failed}.
     *
     * @param host the host name or address connected to (for the TLS session, not for name checks)
     * @param port the port connected to
     */
    public EngineHandshake newEngine(String host, int port) {
        ServerChainTrustManager trustManager = trustManager();
        SSLEngine engine = context(trustManager).createSSLEngine(host, port);
        engine.setUseClientMode(true);
        engine.setSSLParameters(parameters(engine.getSSLParameters()));
        return new EngineHandshake(engine, trustManager, host + ":" + port);
    }

    /**
     * As {@link #newEngine(String, int)}, with the engine made by {@code source} (e.g. BoringSSL through
     * Netty) around this handshake's trust manager: the same trust, name check, SNI, ALPN and profile apply;
     * {@code source} must make {@code trustManager} decide on the server's chain.
     */
    public EngineHandshake newEngine(String host, int port, EngineSource source) {
        ServerChainTrustManager trustManager = trustManager();
        SSLEngine engine = Objects.requireNonNull(source.create(trustManager, host, port), "engine");
        engine.setUseClientMode(true);
        engine.setSSLParameters(parameters(engine.getSSLParameters()));
        return new EngineHandshake(engine, trustManager, host + ":" + port);
    }

    /** Makes client-mode engines for {@link #newEngine(String, int, EngineSource)}. */
    @FunctionalInterface
    public interface EngineSource {
        /**
         * A client-mode engine for {@code host:port} whose server-certificate check is {@code trustManager}
         * (it records the chain and, at level verify, rejects it).
         */
        SSLEngine create(X509ExtendedTrustManager trustManager, String host, int port);
    }

    /** One client handshake on an {@link SSLEngine} that the caller drives. */
    public final class EngineHandshake {
        private final SSLEngine engine;
        private final ServerChainTrustManager trustManager;
        private final String peer;

        private EngineHandshake(SSLEngine engine, ServerChainTrustManager trustManager, String peer) {
            this.engine = engine;
            this.trustManager = trustManager;
            this.peer = peer;
        }

        /** The engine, in client mode, not yet handshaking. */
        public SSLEngine engine() {
            return engine;
        }

        /**
         * What the completed handshake established.
         *
         * @throws TlsHandshakeException if the server selected an ALPN protocol we did not offer
         */
        public TlsSessionInfo established() throws TlsHandshakeException {
            return ClientTls.this.established(trustManager, engine.getSession(), engine.getApplicationProtocol(), peer);
        }

        /**
         * The failure for a handshake that ended with {@code cause}.
         *
         * @param timedOut whether the adapter's handshake deadline ended it
         */
        public TlsHandshakeException failed(Throwable cause, boolean timedOut, int handshakeTimeoutMillis) {
            IOException io = cause instanceof IOException e ? e : new IOException(Handshakes.message(cause), cause);
            return failure(
                    trustManager, new Handshakes.HandshakeIoException(io, timedOut), peer, handshakeTimeoutMillis);
        }
    }

    private ServerChainTrustManager trustManager() {
        return level.verifiesCertificate()
                ? new VerifyingTrustManager(trust.verifier(), serverName)
                : new RecordingTrustManager(trust.verifier(), serverName);
    }

    /**
     * One context per connection: its trust manager belongs to this handshake alone (and no session is
     * resumed without a certificate check).
     */
    private static SSLContext context(ServerChainTrustManager trustManager) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trustManager}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot create a TLS client context", e);
        }
    }

    private SSLParameters parameters(SSLParameters parameters) {
        profile.applyTo(parameters);
        Optional<String> sni = serverName.sniHostName();
        // RFC 6066 §3: SNI carries a DNS host name only, never an IP literal; ALPACA: always send it.
        parameters.setServerNames(
                sni.map(n -> List.<SNIServerName>of(new SNIHostName(n))).orElse(List.of()));
        alpn.ifPresent(id -> parameters.setApplicationProtocols(new String[] {id}));
        Handshakes.noJsseIdentification(parameters);
        return parameters;
    }

    private TlsHandshakeException failure(
            ServerChainTrustManager trustManager, Handshakes.HandshakeIoException e, String peer, int timeoutMillis) {
        Optional<Verification> verification = trustManager.verification();
        Failure failure;
        if (!e.timedOut()
                && level.verifiesCertificate()
                && verification.isPresent()
                && !verification.get().valid()) {
            failure = Failure.peer(
                    FailureKind.CERTIFICATE_INVALID,
                    Phase.HANDSHAKE,
                    "certificate of " + peer + " not accepted: "
                            + verification.get().reason() + " (checked against the " + trust.description() + ")");
        } else {
            failure = Handshakes.genericFailure(e, peer, timeoutMillis);
        }
        return new TlsHandshakeException(failure, verification, trustManager.chain(), e.getCause());
    }

    private TlsSessionInfo established(
            ServerChainTrustManager trustManager, SSLSession session, String negotiatedAlpn, String peer)
            throws TlsHandshakeException {
        String selected = Objects.requireNonNullElse(negotiatedAlpn, "");
        // RFC 7301 §3.2 / ALPACA: a server may only select a protocol the client offered.
        if (!selected.isEmpty() && !alpn.map(selected::equals).orElse(false)) {
            throw new TlsHandshakeException(
                    Failure.peer(
                            FailureKind.HANDSHAKE_FAILED,
                            Phase.HANDSHAKE,
                            peer + " selected ALPN protocol '" + selected + "' but we offered "
                                    + alpn.map(id -> "only '" + id + "'").orElse("none")),
                    trustManager.verification(),
                    null);
        }
        List<X509Certificate> chain = trustManager.chain().isEmpty() ? peerChain(session) : trustManager.chain();
        Verification verification = trustManager.verification().orElseGet(() -> trust.verify(chain, serverName));
        return new TlsSessionInfo(
                session.getProtocol(),
                session.getCipherSuite(),
                selected,
                serverName.sniHostName(),
                chain,
                Optional.of(verification));
    }

    /** The context of one layered connection and the trust manager that checked its server. */
    private record Scope(SSLContext context, ServerChainTrustManager trustManager) {}

    /**
     * Layers TLS over a second connection to the same server that must resume the TLS session of {@code
     * control}: an FTP data connection (RFC 4217 §10.2; vsftpd {@code require_ssl_reuse}, ProFTPD and
     * FileZilla Server refuse fresh sessions). The handshake runs on an {@link javax.net.ssl.SSLEngine} of
     * the control connection's context, created for the control connection's peer host and port, which is
     * how JSSE finds the session to offer (protocols.md §8.3). If the server does not resume, the full
     * handshake checks the certificate as strictly as {@link #layer} did.
     *
     * <p>For TLS 1.3 the control connection must have read the server's NewSessionTicket first: do one
     * command/reply round trip over TLS before opening a data connection.
     *
     * @param control a connection this client layered
     * @param plainData the connected data socket
     * @param handshakeTimeoutMillis how long the whole handshake may take
     * @throws TlsHandshakeException if the handshake failed; {@code plainData} is then closed
     * @throws IllegalArgumentException if {@code control} was not layered by this client
     */
    public TlsDataChannel layerDataChannel(TlsConnection control, Socket plainData, int handshakeTimeoutMillis)
            throws TlsHandshakeException {
        Scope scope = contexts.get(control.socket());
        if (scope == null) {
            throw new IllegalArgumentException("the control connection was not layered by this ClientTls");
        }
        SSLSession controlSession = control.socket().getSession();
        String peer = plainData.getInetAddress().getHostAddress() + ":" + plainData.getPort();
        SSLEngine engine = scope.context().createSSLEngine(controlSession.getPeerHost(), controlSession.getPeerPort());
        engine.setUseClientMode(true);
        engine.setSSLParameters(parameters(engine.getSSLParameters()));
        HandshakeDeadline deadline = HandshakeDeadline.start(plainData, handshakeTimeoutMillis);
        TlsDataChannel channel;
        try {
            int previous = plainData.getSoTimeout();
            plainData.setSoTimeout(handshakeTimeoutMillis);
            int checksBefore = scope.trustManager().checks();
            channel = new TlsDataChannel(plainData, engine);
            channel.handshake();
            // No certificate was checked: the server resumed, and the only session this context holds for
            // the control connection's peer is the control connection's.
            channel.markResumed(scope.trustManager().checks() == checksBefore);
            plainData.setSoTimeout(previous);
        } catch (IOException e) {
            Handshakes.closeQuietly(plainData);
            throw new TlsHandshakeException(
                    Handshakes.genericFailure(
                            new Handshakes.HandshakeIoException(
                                    e, deadline.expired() || e instanceof java.net.SocketTimeoutException),
                            peer + " (data connection)",
                            handshakeTimeoutMillis),
                    Optional.empty(),
                    e);
        } finally {
            deadline.close();
        }
        return channel;
    }

    private static List<X509Certificate> peerChain(SSLSession session) {
        List<X509Certificate> chain = new ArrayList<>();
        try {
            for (Certificate certificate : session.getPeerCertificates()) {
                if (certificate instanceof X509Certificate x509) {
                    chain.add(x509);
                }
            }
        } catch (SSLPeerUnverifiedException e) {
            return List.of();
        }
        return chain;
    }

    @Override
    public String toString() {
        return "ClientTls[" + level + ", " + serverName + ", alpn=" + alpn.orElse("none") + ", " + profile.name() + ", "
                + trust.description() + "]";
    }
}
