package dev.optls.netty;

import dev.optls.core.Failure;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.tls.TlsSessionInfo;
import dev.optls.tls.Verification;
import io.netty.channel.Channel;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * What a {@link StartTlsClientHandler} produced. On success the channel is open at a clean command
 * boundary (TLS in the pipeline after an upgrade); on failure it is closed.
 *
 * @param protocol the protocol spoken
 * @param status how it ended
 * @param channel the channel to continue on, empty when it was closed
 * @param result what was advertised before and after TLS; when FAILED, what the server had advertised in
 *     plaintext before the failure, if it got that far
 * @param tls the TLS parameters, when a handshake completed
 * @param failure why TLS is not in use (PLAINTEXT at level MAY) or why the session failed
 * @param verification the server certificate check, when a certificate was seen
 * @param peerChain the server's certificates, leaf first, when seen
 */
public record ClientOutcome(
        Protocol protocol,
        Status status,
        Optional<Channel> channel,
        Optional<Result> result,
        Optional<TlsSessionInfo> tls,
        Optional<Failure> failure,
        Optional<Verification> verification,
        List<X509Certificate> peerChain) {
    public ClientOutcome {
        peerChain = List.copyOf(peerChain);
    }

    /** How a client negotiation ended. */
    public enum Status {
        /** TLS is up (by STARTTLS or implicitly). */
        TLS,
        /** Plaintext, which the level allowed (NONE, or MAY without an offer). */
        PLAINTEXT,
        /** The channel was closed: the level could not be met, or something broke. */
        FAILED
    }
}
