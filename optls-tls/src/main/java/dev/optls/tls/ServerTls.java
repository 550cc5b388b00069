package dev.optls.tls;

import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.tls.internal.Handshakes;
import dev.optls.tls.internal.KeyMatch;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * The server side of TLS over an accepted socket, after the STARTTLS go-ahead has been flushed.
 *
 * <p>ALPN follows the ALPACA guidance: a client offering our id gets it selected; a client offering only
 * other ids ({@code http/1.1}, {@code h2}, …) is refused with {@code no_application_protocol}; a client
 * offering no ALPN at all is served. Protocols without an ALPN id (SMTP, LMTP) therefore refuse every
 * client that offers ALPN ids.
 */
public final class ServerTls {
    private final SSLContext context;
    private final Optional<String> alpn;
    private final TlsProfile profile;

    private ServerTls(SSLContext context, Optional<String> alpn, TlsProfile profile) {
        this.context = context;
        this.alpn = alpn;
        this.profile = profile;
    }

    /**
     * A server presenting {@code chain} (leaf first) with {@code key}.
     *
     * @param alpn our protocol's ALPN id (e.g. {@code imap}), empty for protocols without one (SMTP)
     * @throws TlsConfigException if the chain is empty or the key does not belong to the leaf
     */
    public static ServerTls create(
            List<X509Certificate> chain, PrivateKey key, Optional<String> alpn, TlsProfile profile) {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(alpn, "alpn");
        Objects.requireNonNull(profile, "profile");
        if (chain.isEmpty()) {
            throw new TlsConfigException(
                    "the server certificate chain is empty; give at least the server's certificate");
        }
        X509Certificate leaf = chain.get(0);
        if (!KeyMatch.matches(key, leaf.getPublicKey())) {
            throw new TlsConfigException(
                    "the private key (" + key.getAlgorithm() + ") does not belong to the certificate "
                            + leaf.getSubjectX500Principal().getName()
                            + "; check that the key file and the first certificate of the chain file are a pair");
        }
        try {
            char[] password = randomPassword();
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, password, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return new ServerTls(context, alpn, profile);
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsConfigException("cannot use the server certificate and key: " + e.getMessage(), e);
        }
    }

    /** A server from PEM files: the chain (leaf first) and the private key. */
    public static ServerTls fromPemFiles(Path chainFile, Path keyFile, Optional<String> alpn, TlsProfile profile) {
        return create(PemFiles.readCertificates(chainFile), PemFiles.readPrivateKey(keyFile), alpn, profile);
    }

    /**
     * Layers TLS over an accepted socket and runs the handshake.
     *
     * @param plain the connected socket
     * @param alreadyReceived bytes the plaintext phase read past the upgrade command: the start of the
     *     ClientHello (RFC 9051 §6.2.1, RFC 3207 §4.2); they are consumed and fed to TLS first
     * @param handshakeTimeoutMillis how long the whole handshake may take
     * @throws TlsHandshakeException if the handshake failed; {@code plain} is then closed
     */
    public TlsConnection layer(Socket plain, ByteBuffer alreadyReceived, int handshakeTimeoutMillis)
            throws TlsHandshakeException {
        Objects.requireNonNull(plain, "plain");
        byte[] consumed = new byte[alreadyReceived.remaining()];
        alreadyReceived.get(consumed);
        String peer = String.valueOf(plain.getRemoteSocketAddress());
        SSLSocket socket;
        try {
            socket = (SSLSocket)
                    context.getSocketFactory().createSocket(plain, new ByteArrayInputStream(consumed), true);
        } catch (IOException e) {
            Handshakes.closeQuietly(plain);
            throw new TlsHandshakeException(
                    Handshakes.genericFailure(
                            new Handshakes.HandshakeIoException(e, false), peer, handshakeTimeoutMillis),
                    Optional.empty(),
                    e);
        }
        socket.setUseClientMode(false);
        SSLParameters parameters = socket.getSSLParameters();
        profile.applyTo(parameters);
        parameters.setNeedClientAuth(false);
        socket.setSSLParameters(parameters);
        AtomicReference<List<String>> offered = new AtomicReference<>(List.of());
        socket.setHandshakeApplicationProtocolSelector((s, protocols) -> {
            offered.set(List.copyOf(protocols));
            return selectAlpn(alpn, protocols);
        });

        try {
            Handshakes.run(socket, plain, handshakeTimeoutMillis);
        } catch (Handshakes.HandshakeIoException e) {
            List<String> ids = offered.get();
            Failure failure = !e.timedOut() && !ids.isEmpty() && selectAlpn(alpn, ids) == null
                    ? Failure.peer(
                            FailureKind.HANDSHAKE_FAILED,
                            Phase.HANDSHAKE,
                            "client " + peer + " offered only ALPN protocols " + ids + ", not "
                                    + alpn.map(id -> "'" + id + "'").orElse("this protocol (which has no ALPN id)")
                                    + ": refused with no_application_protocol (cross-protocol attack protection, ALPACA)")
                    : Handshakes.genericFailure(e, peer, handshakeTimeoutMillis);
            throw new TlsHandshakeException(failure, Optional.empty(), e.getCause());
        }
        SSLSession session = socket.getSession();
        return new TlsConnection(
                socket,
                session.getProtocol(),
                session.getCipherSuite(),
                Objects.requireNonNullElse(socket.getApplicationProtocol(), ""),
                requestedServerName(session),
                List.of(),
                Optional.empty());
    }

    /**
     * ALPACA (alpaca-attack.com/libs.html): select our id when offered; refuse (null → alert 120,
     * RFC 7301 §3.2) a list of only foreign ids; accept clients that send no ALPN ("" → no extension).
     */
    static String selectAlpn(Optional<String> ours, List<String> offered) {
        if (offered.isEmpty()) {
            return "";
        }
        if (ours.isPresent() && offered.contains(ours.get())) {
            return ours.get();
        }
        return null;
    }

    private static Optional<String> requestedServerName(SSLSession session) {
        if (session instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name instanceof SNIHostName host) {
                    return Optional.of(host.getAsciiName());
                }
            }
        }
        return Optional.empty();
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private static char[] randomPassword() {
        byte[] bytes = new byte[18];
        RANDOM.nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes).toCharArray();
    }

    @Override
    public String toString() {
        return "ServerTls[alpn=" + alpn.orElse("none") + ", " + profile.name() + "]";
    }
}
