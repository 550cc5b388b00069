package dev.optls.policy.sts.internal;

import dev.optls.policy.sts.StsFetchFailure;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.Verification;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The certificate check of an MTA-STS policy fetch (RFC 8461 §3.3): a PKIX chain to the configured anchors and a
 * DNS-ID for {@code mta-sts.<domain>} — the SNI name the connection asked for (or the peer host without one). A
 * failure is thrown as a {@link WebPkiException} that says which check failed, so that the fetch can report it.
 */
public final class WebPkiTrustManager extends X509ExtendedTrustManager {

    private final TrustAnchors anchors;

    /** Checks chains against {@code anchors}. */
    public WebPkiTrustManager(TrustAnchors anchors) {
        this.anchors = Objects.requireNonNull(anchors, "anchors");
    }

    /** A failed certificate check, with the fetch failure it stands for. */
    public static final class WebPkiException extends CertificateException {
        private static final long serialVersionUID = 1L;

        /** The failure kind; a CERTIFICATE_* value. */
        private final StsFetchFailure failure;

        WebPkiException(StsFetchFailure failure, String message) {
            super(message);
            this.failure = failure;
        }

        /** Which check failed. */
        public StsFetchFailure failure() {
            return failure;
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        check(chain, expectedName(engine.getSSLParameters(), engine.getPeerHost()));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        if (!(socket instanceof SSLSocket ssl)) {
            throw new CertificateException("an MTA-STS policy fetch needs a TLS connection");
        }
        // During a handshake (the only time JSSE calls this) the handshake session exists.
        check(
                chain,
                expectedName(ssl.getSSLParameters(), ssl.getHandshakeSession().getPeerHost()));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("an MTA-STS policy fetch must know the host name to check (use an SSLEngine)");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("the MTA-STS fetcher is a client; it does not check client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("the MTA-STS fetcher is a client; it does not check client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the MTA-STS fetcher is a client; it does not check client certificates");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    private static String expectedName(SSLParameters parameters, String peerHost) throws CertificateException {
        List<SNIServerName> names = parameters.getServerNames();
        if (names != null) {
            for (SNIServerName name : names) {
                if (name instanceof SNIHostName host) {
                    return host.getAsciiName();
                }
            }
        }
        if (peerHost == null || peerHost.isEmpty()) {
            throw new CertificateException("no host name to check the certificate against");
        }
        return peerHost;
    }

    private void check(X509Certificate[] chain, String host) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new WebPkiException(StsFetchFailure.CERTIFICATE_NOT_TRUSTED, "the server sent no certificate");
        }
        // RFC 8461 §3.3: the certificate must be valid for the mta-sts host and chain to a trusted root (PKIX, not
        // DANE).
        Verification verification = anchors.verify(List.of(chain), ReferenceIdentity.of(host));
        if (!verification.chainValid()) {
            throw new WebPkiException(
                    anyOutOfDate(chain) ? StsFetchFailure.CERTIFICATE_EXPIRED : StsFetchFailure.CERTIFICATE_NOT_TRUSTED,
                    "certificate of " + host + " not accepted: " + verification.reason() + " (trust anchors: "
                            + anchors.description() + ")");
        }
        if (!verification.nameMatches()) {
            throw new WebPkiException(
                    StsFetchFailure.CERTIFICATE_NAME_MISMATCH,
                    "certificate not valid for " + host + ": " + verification.reason());
        }
    }

    private static boolean anyOutOfDate(X509Certificate[] chain) {
        for (X509Certificate certificate : chain) {
            try {
                certificate.checkValidity();
            } catch (CertificateException e) {
                return true;
            }
        }
        return false;
    }
}
