package dev.optls.tls;

import dev.optls.tls.internal.ChainVerifier;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The certificates a client trusts as roots of server chains: the JDK's default trust store, a
 * {@link KeyStore}, or a PEM file of CA certificates ({@code --ca}). Revocation is not checked.
 */
public final class TrustAnchors {
    private final KeyStore store;
    private final String description;
    private final X509ExtendedTrustManager pkix;

    private TrustAnchors(KeyStore store, String description) {
        this.store = store;
        this.description = description;
        this.pkix = pkixTrustManager(store);
    }

    /** The JDK's default trust store ({@code cacerts}, or {@code javax.net.ssl.trustStore} if set). */
    public static TrustAnchors jdkDefault() {
        return new TrustAnchors(null, "JDK default trust store");
    }

    /** The trusted certificate entries of a key store. */
    public static TrustAnchors of(KeyStore trustStore) {
        Objects.requireNonNull(trustStore, "trustStore");
        return new TrustAnchors(trustStore, "given trust store");
    }

    /** The CA certificates in a PEM file. */
    public static TrustAnchors fromPemFile(Path caFile) {
        return PemFiles.readTrustAnchors(caFile);
    }

    static TrustAnchors of(List<X509Certificate> certificates, String description) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("ca-" + i, certificates.get(i));
            }
            return new TrustAnchors(store, description);
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsConfigException(description + ": cannot build a trust store: " + e.getMessage(), e);
        }
    }

    /** Where the anchors came from, for reports: a file name, "given trust store" or "JDK default trust store". */
    public String description() {
        return description;
    }

    /** Whether these are the JDK's default anchors. */
    public boolean isJdkDefault() {
        return store == null;
    }

    /** Checks a server chain (leaf first) against these anchors and the reference identity. */
    public Verification verify(List<X509Certificate> chain, ReferenceIdentity identity) {
        return verifier().verify(chain.toArray(new X509Certificate[0]), identity);
    }

    ChainVerifier verifier() {
        return new ChainVerifier(pkix);
    }

    @Override
    public String toString() {
        return "TrustAnchors[" + description + "]";
    }

    private static X509ExtendedTrustManager pkixTrustManager(KeyStore store) {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(store);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x509) {
                    return x509;
                }
            }
            throw new IllegalStateException("the JDK PKIX TrustManagerFactory returned no X509ExtendedTrustManager");
        } catch (GeneralSecurityException e) {
            throw new TlsConfigException("cannot use the trust anchors: " + e.getMessage(), e);
        }
    }
}
