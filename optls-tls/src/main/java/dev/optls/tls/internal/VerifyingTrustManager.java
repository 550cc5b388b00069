package dev.optls.tls.internal;

import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.Verification;
import java.security.cert.CertificateException;

/**
 * Enforces: aborts the handshake unless the chain validates against the trust anchors and the leaf
 * presents the reference identity. Used at {@code VERIFY}.
 */
public final class VerifyingTrustManager extends ServerChainTrustManager {
    /** An enforcing trust manager for one connection. */
    public VerifyingTrustManager(ChainVerifier verifier, ReferenceIdentity identity) {
        super(verifier, identity);
    }

    @Override
    void decide(Verification result) throws CertificateException {
        if (!result.valid()) {
            throw new CertificateException(result.reason());
        }
    }
}
