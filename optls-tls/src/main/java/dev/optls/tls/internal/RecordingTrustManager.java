package dev.optls.tls.internal;

import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.Verification;

/**
 * DOES NOT ENFORCE: accepts every server certificate, recording the chain and its {@link Verification}
 * for the report. This is Postfix's {@code may}/{@code encrypt} semantics (RFC 7435 opportunistic
 * security: encrypt, do not authenticate). Never use it at {@code VERIFY}; {@code ClientTls} uses
 * {@link VerifyingTrustManager} there.
 */
public final class RecordingTrustManager extends ServerChainTrustManager {
    /** A recorder for one connection. */
    public RecordingTrustManager(ChainVerifier verifier, ReferenceIdentity identity) {
        super(verifier, identity);
    }

    @Override
    void decide(Verification result) {
        // Deliberately nothing: the result is reported, not enforced.
    }
}
