package dev.optls.core.postgres;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The client side of PostgreSQL's SSLRequest-negotiated TLS (PostgreSQL documentation §"SSL Session
 * Encryption", protocols.md §10.1): it sends the 8-byte SSLRequest, reads exactly one byte, and on
 * {@code S} starts TLS. The StartupMessage that follows belongs to the application, over the TLS
 * connection: PostgreSQL has no greeting and no capabilities, so {@link Result#before()} and {@link
 * Result#after()} are always {@link Capabilities#NONE} and the greeting is empty.
 *
 * <ul>
 *   <li>{@code S}: TLS now ({@link Step.BeginHandshake}); any byte already buffered after it is response
 *       injection (CVE-2021-23222) and fails with {@link FailureKind#BYTES_AFTER_UPGRADE_REPLY}. After
 *       the handshake: {@link Step.Completed} with {@link Result.Ending#UPGRADED}.
 *   <li>{@code N} (the server is unwilling, e.g. {@code ssl = off}): at {@link SecurityLevel#MAY} {@link
 *       Step.UpgradeUnavailable} with {@link FailureKind#STARTTLS_NOT_OFFERED} (the server simply has no
 *       TLS: SSLRequest is PostgreSQL's only way to ask, so a refusal is the absence of the offer); the
 *       connection is clean and the application may send its StartupMessage in plaintext, as libpq does
 *       with {@code sslmode=prefer}. From {@link SecurityLevel#ENCRYPT} up: {@link Step.Failed} blamed on
 *       policy, and nothing more is sent (PostgreSQL has no QUIT before the startup: the client just
 *       closes, as libpq does with {@code sslmode=require}).
 *   <li>{@code E} (an ErrorResponse: the server could not start a backend, or is too old to know
 *       SSLRequest): {@link Step.Failed} at every level, since the server closes the connection. Its
 *       severity, SQLSTATE and message go into the failure detail, marked as unauthenticated (it came in
 *       plaintext before any TLS: CVE-2024-10977 is about trusting such text).
 * </ul>
 *
 * <p>At {@link SecurityLevel#NONE} it completes at once with {@link Result.Ending#PLAINTEXT} without
 * sending anything. With {@link ClientOptions#implicitTls()} (PostgreSQL 17 direct TLS, {@code
 * sslnegotiation=direct}: the adapter starts TLS with ALPN {@code postgresql} before the first byte) it
 * completes at once with {@link Result.Ending#IMPLICIT_TLS}.
 */
public final class PostgresClient extends BaseNegotiation {
    private final ClientOptions options;
    private State state;

    /** A client negotiation with these options; queues the SSLRequest unless the level is NONE. */
    public PostgresClient(ClientOptions options) {
        super(Protocol.POSTGRES, options.limits());
        this.options = options;
        if (options.implicitTls()) {
            // protocols.md §10.2: direct TLS; the StartupMessage is the first thing inside TLS.
            state = new Done(Phase.CONNECT);
            emit(new Step.Completed(result(Result.Ending.IMPLICIT_TLS, true)));
        } else if (options.level() == SecurityLevel.NONE) {
            state = new Done(Phase.CONNECT);
            emit(new Step.Completed(result(Result.Ending.PLAINTEXT, false)));
        } else {
            // Protocol §"SSL Session Encryption": "the frontend initially sends an SSLRequest message
            // rather than a StartupMessage"; it is sent alone, nothing is pipelined after it.
            write(PostgresMessages.sslRequest());
            state = new ExpectSslResponse();
        }
    }

    private sealed interface State {
        Phase phase();
    }

    /** SSLRequest sent; exactly one byte ({@code S}/{@code N}) or an ErrorResponse is expected. */
    private record ExpectSslResponse() implements State {
        @Override
        public Phase phase() {
            return Phase.UPGRADE;
        }
    }

    private record AwaitHandshake() implements State {
        @Override
        public Phase phase() {
            return Phase.HANDSHAKE;
        }
    }

    private record Done(Phase phase) implements State {}

    @Override
    protected Phase phase() {
        return state.phase();
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof ExpectSslResponse) || in.size() == 0) {
            return false;
        }
        byte answer = in.get(0);
        if (answer == 'S') {
            in.take(1);
            state = new AwaitHandshake();
            // Protocol docs / CVE-2021-23222: "the frontend ... should not read more than one byte";
            // anything already buffered after 'S' came in plaintext and fails (libpq: "received
            // unencrypted data after SSL response").
            beginClientHandshake();
            return true;
        }
        if (answer == 'N') {
            in.take(1);
            onRefused();
            return true;
        }
        if (answer == 'E') {
            return onErrorResponse();
        }
        throw peerFailure(
                FailureKind.MALFORMED,
                String.format(
                        "expected S, N or an ErrorResponse in answer to SSLRequest, got byte 0x%02x; is this a"
                                + " PostgreSQL server?",
                        answer & 0xff));
    }

    private void onRefused() {
        state = new Done(Phase.UPGRADE);
        Result plaintext = result(Result.Ending.PLAINTEXT, false);
        String detail = "the server answered SSLRequest with N: it does not offer TLS (ssl = off, or a pooler"
                + " without TLS)";
        if (options.level().requiresTls()) {
            // protocols.md §10.1: require/verify-* close after N; there is no QUIT before the startup.
            failNow(
                    Failure.policy(
                            FailureKind.STARTTLS_NOT_OFFERED,
                            Phase.UPGRADE,
                            detail + "; TLS is required at level " + options.level() + ", so the connection is"
                                    + " closed without sending the StartupMessage (lower the level to MAY to"
                                    + " allow plaintext)"),
                    plaintext);
            return;
        }
        if (in.size() > 0) {
            // The server must wait for the StartupMessage: bytes after N were sent unasked (an on-path
            // attacker pre-answering the startup, e.g. a forged AuthenticationOk). Never hand them on.
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    in.size() + " byte(s) arrived after N and before the StartupMessage; closing");
        }
        observe(plaintext);
        emit(new Step.UpgradeUnavailable(
                Failure.peer(FailureKind.STARTTLS_NOT_OFFERED, Phase.UPGRADE, detail), plaintext));
    }

    /**
     * An ErrorResponse instead of S/N. Version 3: {@code E}, Int32 length, fields. Servers older than
     * protocol 3 (PostgreSQL < 7.4, which never knew SSLRequest before 7.1) send {@code E} and one
     * NUL-terminated string; the first byte after {@code E} tells them apart (a v3 length starts with 0).
     */
    private boolean onErrorResponse() {
        int max = Math.min(PostgresMessages.MAX_STARTUP_PACKET_LENGTH, limits.maxBufferedBytes());
        if (in.size() < 2) {
            return false;
        }
        String severity;
        String sqlState;
        String message;
        if (in.get(1) == 0) {
            if (in.size() < 5) {
                return false;
            }
            int length =
                    (in.get(1) & 0xff) << 24 | (in.get(2) & 0xff) << 16 | (in.get(3) & 0xff) << 8 | in.get(4) & 0xff;
            if (length < 5) {
                throw peerFailure(FailureKind.MALFORMED, "ErrorResponse with invalid length " + length);
            }
            if (length > max) {
                throw peerFailure(
                        FailureKind.LIMIT_EXCEEDED, "ErrorResponse of " + length + " bytes (limit " + max + ")");
            }
            if (in.size() < 1 + length) {
                return false;
            }
            byte[] message3 = in.take(1 + length);
            PostgresMessages.ErrorFields fields = PostgresMessages.errorFields(message3, 5, message3.length);
            if (fields == null) {
                throw peerFailure(FailureKind.MALFORMED, "ErrorResponse whose fields do not parse");
            }
            severity = fields.severity();
            sqlState = fields.sqlState();
            message = fields.message();
        } else {
            int nul = -1;
            for (int i = 1; i < in.size(); i++) {
                if (in.get(i) == 0) {
                    nul = i;
                    break;
                }
            }
            if (nul < 0) {
                if (in.size() >= limits.maxLineLength()) {
                    throw peerFailure(
                            FailureKind.LIMIT_EXCEEDED,
                            "protocol-2 ErrorResponse longer than " + limits.maxLineLength() + " bytes");
                }
                return false;
            }
            byte[] raw = in.take(nul + 1);
            severity = "";
            sqlState = "";
            message = new String(raw, 1, nul - 1, StandardCharsets.UTF_8).strip();
        }
        state = new Done(Phase.UPGRADE);
        // "0A000 feature_not_supported" is the "unsupported frontend protocol" answer of a server that does
        // not know SSLRequest; protocol-2 servers have no SQLSTATE at all. Anything else (53300 too many
        // connections, 57P03 cannot connect now...) is a server that could not start a session.
        boolean noTls = sqlState.isEmpty() || sqlState.equals("0A000");
        boolean temporary = sqlState.startsWith("53") || sqlState.equals("57P03");
        String said = (severity.isEmpty() ? "" : severity + " ")
                + (sqlState.isEmpty() ? "" : sqlState + " ")
                + '"'
                + PostgresMessages.printable(message, 200)
                + '"';
        String detail = "the server answered SSLRequest with an ErrorResponse (unauthenticated, sent in plaintext): "
                + said + (noTls ? "; it does not support TLS" : "")
                + "; the server closes the connection"
                + (noTls && !options.level().requiresTls() ? " (reconnect at level NONE to speak plaintext)" : "");
        Blame blame = noTls && options.level().requiresTls() ? Blame.POLICY : Blame.PEER;
        failNow(
                new Failure(
                        blame,
                        noTls ? FailureKind.STARTTLS_NOT_OFFERED : FailureKind.SERVICE_UNAVAILABLE,
                        Phase.UPGRADE,
                        detail,
                        temporary),
                result(Result.Ending.PLAINTEXT, false));
        return true;
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        // Nothing was learned before TLS (no greeting, no capabilities): nothing to forget or ask again.
        // The StartupMessage is the application's first message inside TLS.
        state = new Done(Phase.HANDSHAKE);
        emit(new Step.Completed(result(Result.Ending.UPGRADED, true)));
    }

    private static Result result(Result.Ending ending, boolean tls) {
        return new Result(
                Protocol.POSTGRES, ending, tls, "", Capabilities.NONE, Capabilities.NONE, ByteBuffer.allocate(0));
    }
}
