package dev.optls.core.ldap;

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

/**
 * The client side of an LDAP StartTLS upgrade (RFC 4511 §4.14, RFC 4513 §3): it sends the StartTLS
 * ExtendedRequest as the first PDU (messageID 1), reads the ExtendedResponse, and starts TLS on
 * success. LDAP has no greeting and nothing advertises StartTLS before it is asked for (the root DSE's
 * {@code supportedExtension} would, but reading it costs a search and RFC 4513 §3.1.5 says to discard
 * it anyway), so {@link Result#before()} and {@link Result#after()} are {@link Capabilities#NONE}.
 *
 * <p>It ends in {@link Step.Completed} ({@link Result.Ending#UPGRADED} right after the handshake, with
 * the Bind left to the application; {@link Result.Ending#PLAINTEXT} at level NONE, having sent nothing;
 * {@link Result.Ending#IMPLICIT_TLS} on an ldaps connection), {@link Step.UpgradeUnavailable} (level
 * MAY, the server refused; the session is usable in plaintext, message IDs from 2 on), or {@link
 * Step.Failed} (the server refused at a level that requires TLS, after an UnbindRequest; or anything
 * malformed, out of order or injected).
 */
public final class LdapClient extends BaseNegotiation {
    /** protocols.md §9.1: the StartTLS request is the first PDU, with messageID 1. */
    private static final int START_TLS_ID = 1;

    private final ClientOptions options;
    private State state;

    /** A client negotiation with these options; writes the StartTLS request at once when one is due. */
    public LdapClient(ClientOptions options) {
        super(Protocol.LDAP, options.limits());
        this.options = options;
        if (options.implicitTls()) {
            // RFC 8314 §3 by analogy (ldaps, port 636): TLS is up before the first byte; never StartTLS.
            state = complete(result(Result.Ending.IMPLICIT_TLS, true));
        } else if (options.level() == SecurityLevel.NONE) {
            state = complete(result(Result.Ending.PLAINTEXT, false));
        } else {
            // RFC 4513 §3.1.1: StartTLS before any Bind; nothing else is sent until the response
            // (RFC 4511 §4.14.1: "the client MUST NOT send any PDUs on this LDAP message layer" meanwhile).
            write(LdapMessage.startTlsRequest(START_TLS_ID));
            state = new ExpectStartTlsResponse(0);
        }
    }

    private sealed interface State {
        Phase phase();
    }

    /** The StartTLS request is out; {@code notices} unsolicited notifications were skipped so far. */
    private record ExpectStartTlsResponse(int notices) implements State {
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
        if (!(state instanceof ExpectStartTlsResponse s)) {
            return false;
        }
        byte[] pdu;
        LdapMessage message;
        try {
            pdu = LdapMessage.takePdu(in, limits.maxBufferedBytes());
            if (pdu == null) {
                return false;
            }
            message = LdapMessage.parse(pdu);
        } catch (Ber.BerException e) {
            throw peerFailure(
                    e.overLimit() ? FailureKind.LIMIT_EXCEEDED : FailureKind.MALFORMED,
                    "the StartTLS response is not a valid LDAPMessage: " + e.getMessage());
        }
        state = onMessage(s, message);
        return true;
    }

    private State onMessage(ExpectStartTlsResponse s, LdapMessage message) {
        if (message.op().tag() != LdapMessage.EXTENDED_RESPONSE) {
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    String.format(
                            "expected an ExtendedResponse (tag 0x78) to StartTLS, got protocolOp tag 0x%02x"
                                    + " with messageID %d",
                            message.op().tag(), message.messageId()));
        }
        LdapMessage.ExtendedResponse response;
        try {
            response = LdapMessage.parseExtendedResponse(message.op());
        } catch (Ber.BerException e) {
            throw peerFailure(
                    e.overLimit() ? FailureKind.LIMIT_EXCEEDED : FailureKind.MALFORMED,
                    "the ExtendedResponse does not parse: " + e.getMessage());
        }
        if (message.messageId() == 0) {
            return onUnsolicited(s, response);
        }
        if (message.messageId() != START_TLS_ID) {
            // RFC 4511 §4.1.1.1: a response carries the messageID of its request; only 1 is outstanding.
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    "the server answered messageID " + message.messageId() + "; only the StartTLS request (messageID "
                            + START_TLS_ID + ") is outstanding");
        }
        if (response.resultCode() == LdapMessage.SUCCESS) {
            return onSuccess(response);
        }
        return onRefusal(response);
    }

    private State onUnsolicited(ExpectStartTlsResponse s, LdapMessage.ExtendedResponse response) {
        if (response.responseName()
                .filter(LdapMessage.NOTICE_OF_DISCONNECTION_OID::equals)
                .isPresent()) {
            // RFC 4511 §4.4.1: the server is about to close the session; nothing can continue on it.
            int code = response.resultCode();
            failNow(Failure.peer(
                            FailureKind.SERVICE_UNAVAILABLE,
                            Phase.UPGRADE,
                            "the server sent a Notice of Disconnection instead of answering StartTLS: "
                                    + describe(response))
                    .withTemporary(code == LdapMessage.BUSY || code == LdapMessage.UNAVAILABLE));
            return new Done(Phase.UPGRADE);
        }
        // RFC 4511 §4.4: other unsolicited notifications are advisory; skipped, but a bounded number.
        if (s.notices() + 1 > limits.maxReplyLines()) {
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED,
                    "the server sent more than " + limits.maxReplyLines()
                            + " unsolicited notifications instead of answering StartTLS");
        }
        return new ExpectStartTlsResponse(s.notices() + 1);
    }

    private State onSuccess(LdapMessage.ExtendedResponse response) {
        // RFC 4511 §4.14.2: responseName is the StartTLS OID "when provided" (OpenLDAP omits it,
        // protocols.md §9.2); responseValue is absent (ApacheDS sends it empty, which is tolerated).
        if (response.responseName().isPresent()
                && !response.responseName().get().equals(LdapMessage.START_TLS_OID)) {
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    "the StartTLS success response names another operation: "
                            + abbreviate(response.responseName().get()));
        }
        if (response.responseValueLength() > 0) {
            throw peerFailure(FailureKind.PROTOCOL_VIOLATION, "the StartTLS success response carries a responseValue");
        }
        observe(result(Result.Ending.PLAINTEXT, false));
        // RFC 4511 §4.14.2 / CVE-2011-0411: TLS starts right after the response PDU; any byte already
        // buffered after it came in plaintext (response injection, security.md §5).
        beginClientHandshake();
        return new AwaitHandshake();
    }

    private State onRefusal(LdapMessage.ExtendedResponse response) {
        int code = response.resultCode();
        // RFC 4511 §4.14.2: "If the server does not support TLS (whether by design or by current
        // configuration), it returns with the resultCode set to protocolError": StartTLS is not offered.
        // Anything else (unavailable, operationsError, referral...) refuses an operation it knows.
        FailureKind kind =
                code == LdapMessage.PROTOCOL_ERROR ? FailureKind.STARTTLS_NOT_OFFERED : FailureKind.STARTTLS_REFUSED;
        boolean temporary = code == LdapMessage.BUSY || code == LdapMessage.UNAVAILABLE;
        String detail = "the server " + (kind == FailureKind.STARTTLS_NOT_OFFERED ? "does not support" : "refused")
                + " StartTLS: " + describe(response);
        Result plaintext = result(Result.Ending.PLAINTEXT, false);
        if (options.level().requiresTls()) {
            // protocols.md §0.1.6: required TLS fails closed; RFC 4511 §4.3: Unbind first, then close.
            write(LdapMessage.unbindRequest(START_TLS_ID + 1));
            failNow(
                    Failure.policy(
                                    kind,
                                    Phase.UPGRADE,
                                    detail + "; TLS is required at level " + options.level()
                                            + ", so the connection is closed (lower the level to MAY to allow"
                                            + " plaintext)")
                            .withTemporary(temporary),
                    plaintext);
            return new Done(Phase.UPGRADE);
        }
        // RFC 4511 §4.14.2: a non-success response leaves the session as it was, without TLS.
        emit(new Step.UpgradeUnavailable(
                Failure.peer(kind, Phase.UPGRADE, detail).withTemporary(temporary), plaintext));
        return new Done(Phase.UPGRADE);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        // RFC 4513 §3.1.5: nothing learned before TLS is kept; there was nothing but the response.
        // The Bind (RFC 4513 §5) belongs to the application, over TLS.
        state = complete(result(Result.Ending.UPGRADED, true));
    }

    private State complete(Result result) {
        emit(new Step.Completed(result));
        return new Done(result.tlsActive() ? Phase.SESSION : Phase.UPGRADE);
    }

    private static Result result(Result.Ending ending, boolean tls) {
        return new Result(Protocol.LDAP, ending, tls, "", Capabilities.NONE, Capabilities.NONE, ByteBuffer.allocate(0));
    }

    private static String describe(LdapMessage.ExtendedResponse response) {
        String text = response.diagnosticMessage().isEmpty() ? "" : " " + abbreviate(response.diagnosticMessage());
        return LdapMessage.resultName(response.resultCode()) + " (" + response.resultCode() + ")" + text;
    }

    static String abbreviate(String text) {
        String printable = text.codePoints()
                .map(c -> c < 0x20 || c == 0x7f ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return '"' + (printable.length() > 200 ? printable.substring(0, 200) + "..." : printable) + '"';
    }
}
