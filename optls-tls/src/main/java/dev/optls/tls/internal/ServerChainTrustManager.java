package dev.optls.tls.internal;

import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.Verification;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Client-side trust manager for one connection: computes the {@link Verification} of the server chain
 * and keeps it. Subclasses decide whether a failed verification aborts the handshake.
 */
public abstract sealed class ServerChainTrustManager extends X509ExtendedTrustManager
        permits RecordingTrustManager, VerifyingTrustManager {
    private final ChainVerifier verifier;
    private final ReferenceIdentity identity;
    private volatile List<X509Certificate> chain = List.of();
    private volatile Verification verification;
    private final java.util.concurrent.atomic.AtomicInteger checks = new java.util.concurrent.atomic.AtomicInteger();

    ServerChainTrustManager(ChainVerifier verifier, ReferenceIdentity identity) {
        this.verifier = verifier;
        this.identity = identity;
    }

    /** The chain the server presented (leaf first), empty before the certificate message arrived. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The verification, once the server's certificate has been seen. */
    public Optional<Verification> verification() {
        return Optional.ofNullable(verification);
    }

    /** Called with each verification; throws to abort the handshake. */
    abstract void decide(Verification result) throws CertificateException;

    /**
     * How many server certificates this trust manager has checked. A handshake that adds none resumed a
     * session: the server sent no Certificate message (RFC 8446 §2.2, RFC 5246 §7.3).
     */
    public int checks() {
        return checks.get();
    }

    private void record(X509Certificate[] presented, ChainVerifier.PkixCheck check) throws CertificateException {
        checks.incrementAndGet();
        chain = presented == null ? List.of() : List.of(presented);
        Verification result = verifier.verify(presented, identity, check);
        verification = result;
        decide(result);
    }

    @Override
    public final void checkServerTrusted(X509Certificate[] presented, String authType, Socket socket)
            throws CertificateException {
        record(presented, tm -> tm.checkServerTrusted(presented, authType, socket));
    }

    @Override
    public final void checkServerTrusted(X509Certificate[] presented, String authType, SSLEngine engine)
            throws CertificateException {
        record(presented, tm -> tm.checkServerTrusted(presented, authType, engine));
    }

    @Override
    public final void checkServerTrusted(X509Certificate[] presented, String authType) throws CertificateException {
        record(presented, tm -> tm.checkServerTrusted(presented, authType));
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] presented, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("this trust manager checks servers only");
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] presented, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("this trust manager checks servers only");
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] presented, String authType) throws CertificateException {
        throw new CertificateException("this trust manager checks servers only");
    }

    @Override
    public final X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
