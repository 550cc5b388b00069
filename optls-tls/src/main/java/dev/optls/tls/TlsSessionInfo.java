package dev.optls.tls;

import dev.optls.core.HandshakeSummary;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a completed TLS handshake established, independent of how the connection is carried (a blocking
 * {@link TlsConnection} or an event-driven engine).
 *
 * @param protocolVersion e.g. {@code TLSv1.3}
 * @param cipherSuite e.g. {@code TLS_AES_128_GCM_SHA256}
 * @param applicationProtocol the ALPN id both sides agreed on, or an empty string
 * @param serverName the SNI host name: the one sent (client side) or the one requested (server side)
 * @param peerChain the peer's certificates, leaf first (empty on the server side: no client certificates)
 * @param verification the check of the server's certificate (client side only; computed at every level,
 *     enforced only at VERIFY)
 */
public record TlsSessionInfo(
        String protocolVersion,
        String cipherSuite,
        String applicationProtocol,
        Optional<String> serverName,
        List<X509Certificate> peerChain,
        Optional<Verification> verification) {
    public TlsSessionInfo {
        Objects.requireNonNull(protocolVersion, "protocolVersion");
        Objects.requireNonNull(cipherSuite, "cipherSuite");
        Objects.requireNonNull(applicationProtocol, "applicationProtocol");
        Objects.requireNonNull(serverName, "serverName");
        peerChain = List.copyOf(peerChain);
        Objects.requireNonNull(verification, "verification");
    }

    /** What a {@link dev.optls.core.Negotiation} needs to know about the handshake. */
    public HandshakeSummary summary() {
        return new HandshakeSummary(protocolVersion, cipherSuite, applicationProtocol);
    }
}
