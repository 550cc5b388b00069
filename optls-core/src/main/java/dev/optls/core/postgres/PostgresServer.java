package dev.optls.core.postgres;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The server side of PostgreSQL's startup phase up to the StartupMessage (PostgreSQL documentation
 * §"Start-up" and §"SSL Session Encryption"; the postmaster's {@code ProcessStartupPacket}). It reads
 * length-prefixed startup packets (length 8 to 10000, as PostgreSQL) and:
 *
 * <ul>
 *   <li>SSLRequest: answers {@code S} and returns {@link Step.BeginHandshake} while TLS is available and
 *       not active, handing every byte after the 8-byte request to TLS unparsed (never read as a
 *       plaintext StartupMessage: the CVE-2021-23214 class); answers {@code N} and keeps waiting
 *       otherwise. A second SSLRequest, or one over TLS, is answered like PostgreSQL: FATAL "unsupported
 *       frontend protocol".
 *   <li>GSSENCRequest: answers {@code N} (no GSSAPI encryption here) and keeps waiting for SSLRequest or
 *       the StartupMessage, as PostgreSQL does when it has no GSSAPI.
 *   <li>StartupMessage (protocol 3.x): delivered as a {@link Command} with verb {@code STARTUP} and a
 *       printable {@code key=value} summary of its parameters as line; the application takes the
 *       connection over with {@link #handOver()} ({@link Result#remaining()} starts with the whole
 *       message) and runs authentication itself. PostgreSQL replies are binary messages, so {@link
 *       #respond(String)} is refused. While {@link ServerOptions#tlsRequired()} holds and TLS is not
 *       active, the message is not delivered: the client gets FATAL 28000 (as pg_hba.conf {@code hostssl}
 *       without a {@code host} line) and the negotiation fails, blamed on policy.
 *   <li>CancelRequest: delivered with verb {@code CANCEL} (line {@code pid=N}; the secret key is not
 *       shown) for the application to take over; PostgreSQL never answers it.
 * </ul>
 *
 * <p>After the handshake it completes with {@link Result.Ending#UPGRADED}; the application continues
 * with a new {@code PostgresServer} built from {@link ServerOptions#afterUpgrade()}, which waits for the
 * StartupMessage over TLS. PostgreSQL sends no greeting and has no capabilities: {@link
 * ServerOptions#greeting()} and the capability lists are not used.
 */
public final class PostgresServer extends BaseNegotiation {
    private final ServerOptions options;
    private State state;

    /** A server negotiation; it writes nothing until the client's first packet. */
    public PostgresServer(ServerOptions options) {
        super(Protocol.POSTGRES, options.limits());
        this.options = options;
        // ProcessStartupPacket: over TLS (after an upgrade, or direct TLS) neither SSLRequest nor
        // GSSENCRequest may follow; before it both may, once each.
        boolean plaintext = !options.tlsActive();
        this.state = new ExpectStartupPacket(plaintext, plaintext);
    }

    private sealed interface State {}

    /**
     * Waiting for a startup packet.
     *
     * @param sslRequestAllowed no SSLRequest was answered yet and TLS is not active
     * @param gssRequestAllowed no GSSENCRequest was answered yet and TLS is not active
     */
    private record ExpectStartupPacket(boolean sslRequestAllowed, boolean gssRequestAllowed) implements State {}

    /** A StartupMessage or CancelRequest was delivered; only a hand-over can follow. */
    private record AwaitHandOver() implements State {}

    private record AwaitHandshake() implements State {}

    private record Done() implements State {}

    @Override
    protected Phase phase() {
        return state instanceof AwaitHandshake ? Phase.HANDSHAKE : Phase.SESSION;
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof ExpectStartupPacket expect) || in.size() < 4) {
            return false;
        }
        if (in.get(0) == 0x16 && !options.tlsActive()) {
            // protocols.md §10.2: a TLS ClientHello record first is PostgreSQL 17 direct TLS.
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    "the client started TLS directly (PostgreSQL 17 sslnegotiation=direct) but this listener"
                            + " expects SSLRequest first; serve direct TLS with ServerOptions.implicitTls()");
        }
        int length = peekInt(0);
        int max = Math.min(PostgresMessages.MAX_STARTUP_PACKET_LENGTH, limits.maxBufferedBytes());
        // ProcessStartupPacket: "invalid length of startup packet" when len < 8 or > 10000.
        if (length < PostgresMessages.MIN_STARTUP_PACKET_LENGTH) {
            throw peerFailure(FailureKind.MALFORMED, "invalid length of startup packet: " + length);
        }
        if (length > max) {
            throw peerFailure(FailureKind.LIMIT_EXCEEDED, "startup packet of " + length + " bytes (limit " + max + ")");
        }
        if (in.size() < length) {
            return false;
        }
        int code = peekInt(4);
        if (code == PostgresMessages.SSL_REQUEST_CODE) {
            onSslRequest(expect, length);
        } else if (code == PostgresMessages.GSSENC_REQUEST_CODE) {
            onGssEncRequest(expect, length);
        } else if (code == PostgresMessages.CANCEL_REQUEST_CODE) {
            onCancelRequest(length);
        } else if (code >>> 16 == 3) {
            onStartupMessage(in.take(length));
        } else {
            unsupportedProtocol(code);
        }
        return true;
    }

    private void onSslRequest(ExpectStartupPacket expect, int length) {
        if (length != 8) {
            throw peerFailure(FailureKind.MALFORMED, "SSLRequest of length " + length + " (must be 8)");
        }
        if (!expect.sslRequestAllowed()) {
            // ProcessStartupPacket: a repeated SSLRequest (or one over TLS) falls through to the protocol
            // version check. security.md §5 B.18: never a second handshake.
            unsupportedProtocol(PostgresMessages.SSL_REQUEST_CODE);
            return;
        }
        in.take(8);
        if (options.upgradeOffered()) {
            state = new AwaitHandshake();
            // Protocol docs: 'S' then the TLS handshake. Bytes the client sent after the request were never
            // parsed as plaintext: they go to TLS as the start of the ClientHello (RFC 9051 §6.2.1 option
            // 1); PostgreSQL itself closes instead (CVE-2021-23214). Either way none is executed.
            beginServerHandshake("S");
            return;
        }
        // 'N': "the server is unwilling to perform SSL"; the client may continue with a StartupMessage.
        // A GSSENCRequest may still follow (ProcessStartupPacket sets ssl_done only).
        write("N");
        state = new ExpectStartupPacket(false, expect.gssRequestAllowed());
    }

    private void onGssEncRequest(ExpectStartupPacket expect, int length) {
        if (length != 8) {
            throw peerFailure(FailureKind.MALFORMED, "GSSENCRequest of length " + length + " (must be 8)");
        }
        if (!expect.gssRequestAllowed()) {
            unsupportedProtocol(PostgresMessages.GSSENC_REQUEST_CODE);
            return;
        }
        in.take(8);
        // Protocol §"GSSAPI Session Encryption": 'N' when unwilling; the client may then send SSLRequest
        // or the StartupMessage on the same connection.
        write("N");
        state = new ExpectStartupPacket(expect.sslRequestAllowed(), false);
    }

    private void onCancelRequest(int length) {
        if (length != 16) {
            throw peerFailure(FailureKind.MALFORMED, "CancelRequest of length " + length + " (must be 16)");
        }
        byte[] raw = in.take(16);
        String line = "pid=" + Integer.toUnsignedString(PostgresMessages.getInt(raw, 8));
        Command command = new Command("", "CANCEL", line, line, options.tlsActive());
        state = new AwaitHandOver();
        deliver(command, raw);
    }

    private void onStartupMessage(byte[] raw) {
        // Protocol §StartupMessage: pairs of NUL-terminated name/value strings, then one zero byte.
        List<String> strings = raw[raw.length - 1] == 0 ? PostgresMessages.cStrings(raw, 8, raw.length - 1) : null;
        if (strings == null || strings.size() % 2 != 0) {
            fatal(
                    "08P01",
                    "invalid startup packet layout: expected terminator as last byte",
                    Failure.peer(FailureKind.MALFORMED, Phase.SESSION, "the StartupMessage does not parse"));
            return;
        }
        StringBuilder summary = new StringBuilder();
        String user = "";
        String database = "";
        for (int i = 0; i < strings.size(); i += 2) {
            String key = PostgresMessages.printable(strings.get(i), 64);
            String value = PostgresMessages.printable(strings.get(i + 1), 128);
            if (key.equals("user")) {
                user = value;
            } else if (key.equals("database")) {
                database = value;
            }
            if (summary.length() > 0) {
                summary.append(' ');
            }
            summary.append(key).append('=').append(value);
        }
        if (options.tlsRequired() && !options.tlsActive()) {
            // protocols.md §0.2.7: PostgreSQL refuses through pg_hba.conf "hostssl" with FATAL 28000
            // (invalid_authorization_specification) right after the plaintext StartupMessage. Nothing of
            // the session starts and no credential is asked for.
            fatal(
                    "28000",
                    "no pg_hba.conf entry for user \"" + user + "\", database \""
                            + (database.isEmpty() ? user : database) + "\", no encryption",
                    new Failure(
                            Blame.POLICY,
                            FailureKind.PROTOCOL_VIOLATION,
                            Phase.SESSION,
                            "the client sent its StartupMessage without TLS (" + summary + ") but TLS is required;"
                                    + " refused with FATAL 28000",
                            false));
            return;
        }
        String line = summary.toString();
        Command command = new Command("", "STARTUP", line, line, options.tlsActive());
        state = new AwaitHandOver();
        deliver(command, raw);
    }

    private void unsupportedProtocol(int code) {
        // ProcessStartupPacket's wording; FATAL 0A000 feature_not_supported.
        fatal(
                "0A000",
                "unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xffff)
                        + ": server supports 3.0 to 3.0",
                Failure.peer(
                        FailureKind.PROTOCOL_VIOLATION,
                        Phase.SESSION,
                        "the client sent startup code " + (code >>> 16) + "." + (code & 0xffff)
                                + (code == PostgresMessages.SSL_REQUEST_CODE
                                        ? " (SSLRequest) a second time or over TLS"
                                        : code == PostgresMessages.GSSENC_REQUEST_CODE
                                                ? " (GSSENCRequest) a second time or over TLS"
                                                : ", which is not protocol 3")));
    }

    private void fatal(String sqlState, String message, Failure failure) {
        write(PostgresMessages.errorResponse("FATAL", sqlState, message));
        state = new Done();
        failNow(failure);
    }

    @Override
    protected void onResponded(String reply) {
        state = new Done();
        failNow(new Failure(
                Blame.LOCAL,
                FailureKind.PROTOCOL_VIOLATION,
                Phase.SESSION,
                "the application tried to answer a PostgreSQL startup packet with text",
                false));
        throw new IllegalStateException("PostgreSQL replies are binary messages: call handOver() and write"
                + " Authentication/ErrorResponse messages on the connection yourself");
    }

    @Override
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        state = new Done();
        return result(Result.Ending.HANDED_OVER, options.tlsActive(), remaining);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        state = new Done();
        // The session starts over TLS with the StartupMessage; the application does that with a new
        // PostgresServer built from options.afterUpgrade(). Nothing from before TLS carries over.
        emit(new Step.Completed(result(Result.Ending.UPGRADED, true, ByteBuffer.allocate(0))));
    }

    private static Result result(Result.Ending ending, boolean tls, ByteBuffer remaining) {
        return new Result(Protocol.POSTGRES, ending, tls, "", Capabilities.NONE, Capabilities.NONE, remaining);
    }

    private int peekInt(int at) {
        return (in.get(at) & 0xff) << 24
                | (in.get(at + 1) & 0xff) << 16
                | (in.get(at + 2) & 0xff) << 8
                | in.get(at + 3) & 0xff;
    }
}
