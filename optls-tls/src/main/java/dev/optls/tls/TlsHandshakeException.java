package dev.optls.tls;

import dev.optls.core.Failure;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The TLS handshake did not complete. The connection has been closed; {@link #failure()} says who is at
 * fault ({@code CERTIFICATE_INVALID}, {@code HANDSHAKE_FAILED} or {@code TIMEOUT}) and why.
 */
public final class TlsHandshakeException extends Exception {
    private final transient Failure failure;
    private final transient Verification verification;
    private final transient List<X509Certificate> peerChain;

    /** A failed handshake, with the certificate verification if the server's certificate was seen. */
    public TlsHandshakeException(Failure failure, Optional<Verification> verification, Throwable cause) {
        this(failure, verification, List.of(), cause);
    }

    /** A failed handshake, with the certificate chain the server presented (leaf first) when one was seen. */
    public TlsHandshakeException(
            Failure failure, Optional<Verification> verification, List<X509Certificate> peerChain, Throwable cause) {
        super(failure.toString(), cause);
        this.failure = Objects.requireNonNull(failure, "failure");
        this.verification = verification.orElse(null);
        this.peerChain = List.copyOf(peerChain);
    }

    /** The server's certificates, leaf first, when the handshake got that far (client side). */
    public List<X509Certificate> peerChain() {
        return peerChain;
    }

    /** What went wrong, as a value the negotiation and reports understand. */
    public Failure failure() {
        return failure;
    }

    /** The verification of the server certificate, if it got that far (client side). */
    public Optional<Verification> verification() {
        return Optional.ofNullable(verification);
    }
}
