package dev.optls.core;

/**
 * What the adapter tells a negotiation once the TLS handshake has completed.
 *
 * @param protocolVersion e.g. {@code TLSv1.3}
 * @param cipherSuite e.g. {@code TLS_AES_256_GCM_SHA384}
 * @param applicationProtocol the ALPN protocol selected, or an empty string
 */
public record HandshakeSummary(String protocolVersion, String cipherSuite, String applicationProtocol) {}
