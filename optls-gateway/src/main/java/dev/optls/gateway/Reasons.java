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
 *
 * <p>FTP routes also refuse single commands and data connections while the control session goes on
 * ({@link Gateway.Events#ftpRefused}): {@value #FTP_PROT_CLEAR}, {@value #FTP_DATA_UNPROTECTED},
 * {@value #FTP_ACTIVE_MODE}, {@value #FTP_DATA_FOREIGN}, {@value #FTP_DATA_TIMEOUT}, {@value
 * #FTP_DATA_HANDSHAKE}, {@value #FTP_DATA_NOT_RESUMED}, {@value #FTP_DATA_BACKEND}; and close the control
 * connection with {@value #FTP_COMMAND_TOO_LONG} or {@value #FTP_BACKEND_REPLY}.
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
    /** FTP: {@code PROT C} (or S, E) refused: the route protects every data connection (RFC 4217 §9: 534). */
    public static final String FTP_PROT_CLEAR = "ftp-prot-clear";
    /** FTP: PASV/EPSV before {@code PROT P}: the data connection would be clear text (521). */
    public static final String FTP_DATA_UNPROTECTED = "ftp-data-unprotected";
    /** FTP: PORT/EPRT refused: the gateway relays passive data connections only (502). */
    public static final String FTP_ACTIVE_MODE = "ftp-active-mode";
    /** FTP: a data connection from another address than the control connection's client, closed. */
    public static final String FTP_DATA_FOREIGN = "ftp-data-foreign-address";
    /** FTP: no data connection came to the gateway's passive port in time. */
    public static final String FTP_DATA_TIMEOUT = "ftp-data-timeout";
    /** FTP: the data connection's TLS handshake failed (522). */
    public static final String FTP_DATA_HANDSHAKE = "ftp-data-handshake-failed";
    /** FTP: the data connection's TLS did not resume the control connection's session (522). */
    public static final String FTP_DATA_NOT_RESUMED = "ftp-data-not-resumed";
    /** FTP: the backend's passive port could not be reached (or opened) for a data connection. */
    public static final String FTP_DATA_BACKEND = "ftp-data-backend-down";
    /** FTP: a client command over the line limit; the control connection is closed (500). */
    public static final String FTP_COMMAND_TOO_LONG = "ftp-command-too-long";
    /** FTP: the backend sent something that is not an FTP reply, or one over the limits; closed (421). */
    public static final String FTP_BACKEND_REPLY = "ftp-backend-reply";

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
