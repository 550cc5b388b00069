package dev.optls.gateway;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;

/**
 * The {@code reason=} of a refused or aborted connection: one short stable name per cause, for logs and the
 * {@code reason} label of metrics.
 *
 * <ul>
 *   <li>{@value #CONNECTION_LIMIT}: over the route's {@code max-connections} or {@code
 *       max-connections-per-client}, closed at accept;
 *   <li>{@value #BACKEND_DOWN}: the backend could not be reached or did not greet;
 *   <li>{@value #DRAIN_CUT}: still open when the shutdown's drain deadline passed;
 *   <li>{@value #PLAINTEXT_COMMAND}: a client sent a binary protocol's command without asking for TLS;
 *   <li>{@code handshake-timeout}, {@code handshake-not-tls}, {@code handshake-alpn} (ALPACA: only foreign
 *       ALPN ids offered, RFC 7301 §3.2), {@code handshake-aborted} (the connection broke), {@code
 *       handshake-failed} (any other TLS alert or error);
 *   <li>{@code client-timeout} (no command before the reply timeout), otherwise {@code client-} and the
 *       failure kind's wire name ({@code client-unexpected-eof}, {@code client-too-many-errors}…).
 * </ul>
 */
public final class Reasons {
    /** Over a connection limit. */
    public static final String CONNECTION_LIMIT = "connection-limit";
    /** The backend is unreachable or does not greet. */
    public static final String BACKEND_DOWN = "backend-down";
    /** Cut at the end of a graceful shutdown's drain. */
    public static final String DRAIN_CUT = "drain-cut";
    /** A binary protocol's command before TLS. */
    public static final String PLAINTEXT_COMMAND = "plaintext-command";

    private Reasons() {}

    /** The reason name for a refused or aborted connection. */
    public static String of(Failure failure) {
        FailureKind kind = failure.kind();
        if (kind == FailureKind.LIMIT_EXCEEDED && failure.phase() == Phase.CONNECT) {
            return CONNECTION_LIMIT;
        }
        if (kind == FailureKind.CONNECT_FAILED) {
            return BACKEND_DOWN;
        }
        if (kind == FailureKind.SERVICE_UNAVAILABLE && failure.blame() == Blame.LOCAL) {
            return DRAIN_CUT;
        }
        if (failure.phase() == Phase.HANDSHAKE) {
            if (kind == FailureKind.TIMEOUT) {
                return "handshake-timeout";
            }
            if (failure.detail().contains("ALPACA")) {
                return "handshake-alpn";
            }
            // Netty's NotSslRecordException, or the JDK engine's "Unsupported or unrecognized SSL message".
            if (failure.detail().contains("not an SSL/TLS record")
                    || failure.detail().contains("plaintext, not TLS")) {
                return "handshake-not-tls";
            }
            return failure.blame() == Blame.NETWORK ? "handshake-aborted" : "handshake-failed";
        }
        if (kind == FailureKind.PROTOCOL_VIOLATION && failure.phase() == Phase.UPGRADE) {
            return PLAINTEXT_COMMAND;
        }
        if (kind == FailureKind.TIMEOUT) {
            return "client-timeout";
        }
        return "client-" + kind.wireName();
    }

    /** Whether {@code failure} is a failed TLS handshake (counted as such in the metrics). */
    static boolean isHandshake(Failure failure) {
        return failure.phase() == Phase.HANDSHAKE;
    }
}
