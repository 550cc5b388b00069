package dev.optls.tls;

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
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

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
        ServerChainTrustManager trustManager = level.verifiesCertificate()
                ? new VerifyingTrustManager(trust.verifier(), serverName)
                : new RecordingTrustManager(trust.verifier(), serverName);
        SSLSocket socket;
        try {
            // One context per connection: its trust manager belongs to this handshake alone (and no session
            // is resumed without a certificate check).
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trustManager}, null);
            socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
            contexts.put(socket, new Scope(context, trustManager));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot create a TLS client context", e);
        } catch (IOException e) {
            Handshakes.closeQuietly(plain);
            throw new TlsHandshakeException(
                    Handshakes.genericFailure(
                            new Handshakes.HandshakeIoException(e, false), peer, handshakeTimeoutMillis),
                    Optional.empty(),
                    e);
        }
        socket.setSSLParameters(parameters(socket.getSSLParameters()));
        Optional<String> sni = serverName.sniHostName();

        try {
            Handshakes.run(socket, plain, handshakeTimeoutMillis);
        } catch (Handshakes.HandshakeIoException e) {
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
                failure = Handshakes.genericFailure(e, peer, handshakeTimeoutMillis);
            }
            throw new TlsHandshakeException(failure, verification, trustManager.chain(), e.getCause());
        }

        String selected = Objects.requireNonNullElse(socket.getApplicationProtocol(), "");
        // RFC 7301 §3.2 / ALPACA: a server may only select a protocol the client offered.
        if (!selected.isEmpty() && !alpn.map(selected::equals).orElse(false)) {
            Handshakes.closeQuietly(socket);
            throw new TlsHandshakeException(
                    Failure.peer(
                            FailureKind.HANDSHAKE_FAILED,
                            Phase.HANDSHAKE,
                            peer + " selected ALPN protocol '" + selected + "' but we offered "
                                    + alpn.map(id -> "only '" + id + "'").orElse("none")),
                    trustManager.verification(),
                    null);
        }
        SSLSession session = socket.getSession();
        List<X509Certificate> chain = trustManager.chain().isEmpty() ? peerChain(session) : trustManager.chain();
        Verification verification = trustManager.verification().orElseGet(() -> trust.verify(chain, serverName));
        return new TlsConnection(
                socket,
                session.getProtocol(),
                session.getCipherSuite(),
                selected,
                sni,
                chain,
                Optional.of(verification));
    }

    /** The context of one layered connection and the trust manager that checked its server. */
    private record Scope(SSLContext context, ServerChainTrustManager trustManager) {}

    private SSLParameters parameters(SSLParameters parameters) {
        profile.applyTo(parameters);
        // RFC 6066 §3: SNI carries a DNS host name only, never an IP literal; ALPACA: always send it.
        parameters.setServerNames(serverName
                .sniHostName()
                .map(n -> List.<SNIServerName>of(new SNIHostName(n)))
                .orElse(List.of()));
        alpn.ifPresent(id -> parameters.setApplicationProtocols(new String[] {id}));
        Handshakes.noJsseIdentification(parameters);
        return parameters;
    }

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
        javax.net.ssl.SSLEngine engine =
                scope.context().createSSLEngine(controlSession.getPeerHost(), controlSession.getPeerPort());
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
