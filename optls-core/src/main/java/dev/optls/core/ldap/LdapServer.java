package dev.optls.core.ldap;

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

/**
 * The server side of an LDAP session up to and including StartTLS (RFC 4511 §4.14, RFC 4513 §3). It
 * reads LDAPMessages and answers these itself:
 *
 * <ul>
 *   <li>StartTLS ExtendedRequest: success (with responseName) and {@link Step.BeginHandshake} while TLS
 *       is available and not active; {@code operationsError} once TLS is active; {@code protocolError}
 *       when no certificate is configured;
 *   <li>BindRequest with credentials (a simple password or any SASL mechanism) while {@link
 *       ServerOptions#tlsRequired()} holds and TLS is not active: {@code confidentialityRequired}, with
 *       no credential checked (RFC 4513 §5.1.2, §6.2);
 *   <li>UnbindRequest: the session ends ({@link Result.Ending#CLOSED});
 *   <li>AbandonRequest: ignored, as nothing is outstanding (RFC 4511 §4.11).
 * </ul>
 *
 * <p>Every other request (Bind, Search, Modify, Add, Delete, ModifyDN, Compare, other extended
 * operations) is delivered as a {@link Command} with the messageID as {@link Command#tag()} and a verb
 * such as {@code BIND}, {@code SEARCH} or {@code EXTENDED}. LDAP answers are BER, which {@link
 * #respond(String)} cannot carry: the application must call {@link #handOver()} and answer on the
 * connection itself; {@link Result#remaining()} starts with the delivered PDU. Because the negotiation
 * ends at the first delivered request, no operation is ever outstanding when StartTLS arrives (RFC 4511
 * §4.14.1), and nothing after a StartTLS request is ever parsed in plaintext: it goes to TLS.
 *
 * <p>Malformed PDUs, response PDUs from the client and messageID 0 end the session with a Notice of
 * Disconnection ({@code protocolError}), as RFC 4511 §4.1.1 asks.
 */
public final class LdapServer extends BaseNegotiation {
    private final ServerOptions options;
    private State state = new Session(0);

    /** A server negotiation; LDAP servers send nothing before the client's first request. */
    public LdapServer(ServerOptions options) {
        super(Protocol.LDAP, options.limits());
        this.options = options;
    }

    private sealed interface State {}

    /** Reading requests; {@code errors} counts refused ones (bounded by {@code Limits.maxErrors()}). */
    private record Session(int errors) implements State {}

    /** A request was delivered; the application must take the connection over. */
    private record AwaitHandOver(Command command) implements State {}

    private record AwaitHandshake() implements State {}

    private record Done() implements State {}

    @Override
    protected Phase phase() {
        return state instanceof AwaitHandshake ? Phase.HANDSHAKE : Phase.SESSION;
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof Session session)) {
            return false;
        }
        LdapMessage message;
        try {
            byte[] pdu = LdapMessage.takePdu(in, limits.maxBufferedBytes());
            if (pdu == null) {
                return false;
            }
            message = LdapMessage.parse(pdu);
            onRequest(session, message);
        } catch (Ber.BerException e) {
            disconnect(
                    e.overLimit() ? FailureKind.LIMIT_EXCEEDED : FailureKind.MALFORMED,
                    "the client sent a PDU that is not a valid LDAPMessage: " + e.getMessage());
        }
        return true;
    }

    private void onRequest(Session session, LdapMessage message) {
        int tag = message.op().tag();
        if (message.messageId() == 0) {
            // RFC 4511 §4.1.1.1: messageID 0 is reserved for unsolicited notifications.
            disconnect(FailureKind.PROTOCOL_VIOLATION, "the client sent a request with messageID 0");
            return;
        }
        switch (tag) {
            case LdapMessage.EXTENDED_REQUEST -> onExtended(session, message);
            case LdapMessage.BIND_REQUEST -> onBind(session, message);
            case LdapMessage.UNBIND_REQUEST -> {
                // RFC 4511 §4.3: no response; the server terminates the session.
                state = new Done();
                emit(new Step.Completed(result(Result.Ending.CLOSED, ByteBuffer.allocate(0))));
            }
            case LdapMessage.ABANDON_REQUEST -> {
                // RFC 4511 §4.11: no response; nothing is outstanding, so there is nothing to abandon.
            }
            case LdapMessage.SEARCH_REQUEST -> deliverRequest(message, "SEARCH", firstString(message));
            case LdapMessage.MODIFY_REQUEST -> deliverRequest(message, "MODIFY", firstString(message));
            case LdapMessage.ADD_REQUEST -> deliverRequest(message, "ADD", firstString(message));
            case LdapMessage.DEL_REQUEST ->
                deliverRequest(message, "DELETE", message.op().text());
            case LdapMessage.MODIFY_DN_REQUEST -> deliverRequest(message, "MODIFY_DN", firstString(message));
            case LdapMessage.COMPARE_REQUEST -> deliverRequest(message, "COMPARE", firstString(message));
            default ->
                // RFC 4511 §4.1.1: "the tag of the protocolOp is not recognized as a request" → Notice of
                // Disconnection with protocolError, then terminate.
                disconnect(
                        FailureKind.PROTOCOL_VIOLATION,
                        String.format("the client sent protocolOp tag 0x%02x, which is not an LDAP request", tag));
        }
    }

    private void onExtended(Session session, LdapMessage message) {
        Ber.Reader fields = message.op().children();
        String oid = fields.next(LdapMessage.REQUEST_NAME, "requestName").text();
        boolean hasValue = false;
        if (fields.peekTag() == LdapMessage.REQUEST_VALUE) {
            fields.next();
            hasValue = true;
        }
        fields.expectEnd("the ExtendedRequest");
        if (!oid.equals(LdapMessage.START_TLS_OID)) {
            deliverRequest(message, "EXTENDED", oid);
            return;
        }
        int id = message.messageId();
        if (hasValue) {
            // RFC 4511 §4.14.1: "The requestValue field is absent."
            refuse(
                    session,
                    LdapMessage.extendedResponse(
                            id,
                            LdapMessage.PROTOCOL_ERROR,
                            "StartTLS takes no requestValue",
                            LdapMessage.START_TLS_OID));
        } else if (options.tlsActive()) {
            // RFC 4513 §3.1.1: StartTLS while TLS is established is a sequencing error.
            refuse(
                    session,
                    LdapMessage.extendedResponse(
                            id, LdapMessage.OPERATIONS_ERROR, "TLS already established", LdapMessage.START_TLS_OID));
        } else if (!options.tlsAvailable()) {
            // RFC 4511 §4.14.2: a server that does not support TLS answers protocolError.
            refuse(
                    session,
                    LdapMessage.extendedResponse(id, LdapMessage.PROTOCOL_ERROR, "StartTLS is not supported", null));
        } else {
            // RFC 4511 §4.14.2: success, then TLS right after this PDU. RFC 4511 §4.14.1 / CVE-2011-0411:
            // every byte after the request (a pipelined Bind, say) goes to TLS unparsed, never answered.
            write(LdapMessage.extendedResponse(id, LdapMessage.SUCCESS, "", LdapMessage.START_TLS_OID));
            state = new AwaitHandshake();
            emit(new Step.BeginHandshake(in.takeAll()));
        }
    }

    private void onBind(Session session, LdapMessage message) {
        Ber.Reader fields = message.op().children();
        fields.next(Ber.INTEGER, "version").nonNegativeInt();
        String name = fields.next(Ber.OCTET_STRING, "name").text();
        if (!fields.hasNext()) {
            throw new Ber.BerException("the BindRequest has no authentication choice", false);
        }
        Ber.Element auth = fields.next();
        fields.expectEnd("the BindRequest");
        boolean anonymous = auth.tag() == LdapMessage.AUTH_SIMPLE && auth.length() == 0 && name.isEmpty();
        if (options.tlsRequired() && !options.tlsActive() && !anonymous) {
            // RFC 4513 §5.1.2 / §6.2 / security.md §5 B.21: with TLS required, no credential is checked
            // in plaintext; the answer is the same whatever the password.
            refuse(
                    session,
                    LdapMessage.bindResponse(
                            message.messageId(),
                            LdapMessage.CONFIDENTIALITY_REQUIRED,
                            "TLS confidentiality required: send StartTLS before binding"));
            return;
        }
        deliverRequest(message, "BIND", name);
    }

    private void deliverRequest(LdapMessage message, String verb, String arguments) {
        String tag = Integer.toString(message.messageId());
        Command command = new Command(
                tag,
                verb,
                arguments,
                tag + " " + verb + (arguments.isEmpty() ? "" : " " + arguments),
                options.tlsActive());
        state = new AwaitHandOver(command);
        deliver(command, message.raw());
    }

    /** Answers with a refusal; past {@code Limits.maxErrors()} refusals the session ends instead. */
    private void refuse(Session session, byte[] response) {
        int errors = session.errors() + 1;
        if (errors > limits.maxErrors()) {
            disconnect(
                    FailureKind.TOO_MANY_ERRORS,
                    "the client sent " + errors + " refused requests (limit " + limits.maxErrors() + ")");
            return;
        }
        write(response);
        state = new Session(errors);
    }

    /** The first OCTET STRING of a request (the entry or base DN), checked for structure only. */
    private static String firstString(LdapMessage message) {
        return message.op().children().next(Ber.OCTET_STRING, "the entry name").text();
    }

    /**
     * RFC 4511 §4.1.1: "the server SHOULD return the Notice of Disconnection ... with the resultCode set
     * to protocolError, and MUST immediately terminate the LDAP session".
     */
    private void disconnect(FailureKind kind, String detail) {
        write(LdapMessage.noticeOfDisconnection(LdapMessage.PROTOCOL_ERROR, truncate(detail)));
        state = new Done();
        failNow(Failure.peer(kind, Phase.SESSION, detail));
    }

    private static String truncate(String detail) {
        return detail.length() > 200 ? detail.substring(0, 200) : detail;
    }

    @Override
    protected void onResponded(String reply) {
        state = new Done();
        failNow(new Failure(
                Blame.LOCAL,
                FailureKind.PROTOCOL_VIOLATION,
                Phase.SESSION,
                "the application answered an LDAP request with text through respond()",
                false));
        throw new IllegalStateException("LDAP answers are BER, which respond(String) cannot carry: call handOver()"
                + " and answer on the connection; Result.remaining() starts with the delivered request");
    }

    @Override
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        state = new Done();
        return result(Result.Ending.HANDED_OVER, remaining);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        state = new Done();
        // RFC 4513 §3.1.5: the session continues over TLS; the application does that with a new
        // LdapServer built from options.afterUpgrade(), which knows nothing of the plaintext phase.
        emit(new Step.Completed(new Result(
                Protocol.LDAP,
                Result.Ending.UPGRADED,
                true,
                "",
                Capabilities.NONE,
                Capabilities.NONE,
                ByteBuffer.allocate(0))));
    }

    private Result result(Result.Ending ending, ByteBuffer remaining) {
        return new Result(
                Protocol.LDAP, ending, options.tlsActive(), "", Capabilities.NONE, Capabilities.NONE, remaining);
    }
}
