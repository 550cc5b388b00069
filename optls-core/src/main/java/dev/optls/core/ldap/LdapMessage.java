package dev.optls.core.ldap;

import dev.optls.core.internal.InputBuffer;
import java.util.Optional;

/**
 * The LDAP envelope (RFC 4511 §4.2): {@code LDAPMessage ::= SEQUENCE { messageID, protocolOp, controls
 * [0] OPTIONAL }}, the few PDUs the StartTLS exchange writes, and the framing of PDUs out of the input
 * buffer. Package-private: the dialects' wire format, nothing an application builds on.
 *
 * @param messageId the messageID (RFC 4511 §4.1.1.1)
 * @param op the protocolOp element; its tag says which operation it is
 * @param raw the whole PDU as received
 */
record LdapMessage(int messageId, Ber.Element op, byte[] raw) {

    /** RFC 4511 §4.14.1: the StartTLS extended operation. */
    static final String START_TLS_OID = "1.3.6.1.4.1.1466.20037";

    /** RFC 4511 §4.4.1: the Notice of Disconnection unsolicited notification. */
    static final String NOTICE_OF_DISCONNECTION_OID = "1.3.6.1.4.1.1466.20036";

    // RFC 4511 §4.2 and Appendix B: protocolOp tags ([APPLICATION n], constructed unless noted).
    static final int BIND_REQUEST = 0x60;
    static final int BIND_RESPONSE = 0x61;
    /** [APPLICATION 2] NULL, primitive. */
    static final int UNBIND_REQUEST = 0x42;

    static final int SEARCH_REQUEST = 0x63;
    static final int MODIFY_REQUEST = 0x66;
    static final int ADD_REQUEST = 0x68;
    /** [APPLICATION 10] LDAPDN, primitive. */
    static final int DEL_REQUEST = 0x4a;

    static final int MODIFY_DN_REQUEST = 0x6c;
    static final int COMPARE_REQUEST = 0x6e;
    /** [APPLICATION 16] MessageID, primitive. */
    static final int ABANDON_REQUEST = 0x50;

    static final int EXTENDED_REQUEST = 0x77;
    static final int EXTENDED_RESPONSE = 0x78;

    /** RFC 4511 §4.1.11: {@code controls [0] Controls OPTIONAL}. */
    static final int CONTROLS = 0xa0;

    // ExtendedRequest / ExtendedResponse fields (RFC 4511 §4.12), context-specific primitive.
    static final int REQUEST_NAME = 0x80;
    static final int REQUEST_VALUE = 0x81;
    /** LDAPResult {@code referral [3] Referral OPTIONAL} (constructed). */
    static final int REFERRAL = 0xa3;

    static final int RESPONSE_NAME = 0x8a;
    static final int RESPONSE_VALUE = 0x8b;

    /** BindRequest {@code AuthenticationChoice}: {@code simple [0] OCTET STRING}. */
    static final int AUTH_SIMPLE = 0x80;

    // RFC 4511 Appendix A resultCodes used here.
    static final int SUCCESS = 0;
    static final int OPERATIONS_ERROR = 1;
    static final int PROTOCOL_ERROR = 2;
    static final int CONFIDENTIALITY_REQUIRED = 13;
    static final int BUSY = 51;
    static final int UNAVAILABLE = 52;

    /**
     * Takes the next whole PDU from {@code in}; null while it is incomplete.
     *
     * @param maxBytes the largest PDU accepted (RFC 4511 leaves sizes to implementations)
     * @throws Ber.BerException for anything that is not an LDAPMessage, or a PDU over {@code maxBytes}
     */
    static byte[] takePdu(InputBuffer in, int maxBytes) {
        if (in.size() == 0) {
            return null;
        }
        // RFC 4511 §4.2: every PDU is an LDAPMessage SEQUENCE. Checked on the first byte, so that a peer
        // speaking another protocol (an SMTP banner, a TLS record) fails at once instead of being
        // waited for.
        if ((in.get(0) & 0xff) != Ber.SEQUENCE) {
            throw new Ber.BerException(
                    String.format("the first byte is 0x%02x, not 0x30 (an LDAPMessage SEQUENCE)", in.get(0) & 0xff),
                    false);
        }
        int total = Ber.elementLength(
                new Ber.Bytes() {
                    @Override
                    public int size() {
                        return in.size();
                    }

                    @Override
                    public byte get(int i) {
                        return in.get(i);
                    }
                },
                maxBytes);
        return total < 0 ? null : in.take(total);
    }

    /** Decodes a PDU framed by {@link #takePdu}: messageID, protocolOp, optional controls, nothing more. */
    static LdapMessage parse(byte[] pdu) {
        Ber.Reader top = new Ber.Reader(pdu);
        Ber.Element message = top.next(Ber.SEQUENCE, "LDAPMessage");
        top.expectEnd("the PDU");
        Ber.Reader fields = message.children();
        int id = fields.next(Ber.INTEGER, "messageID").nonNegativeInt();
        if (!fields.hasNext()) {
            throw new Ber.BerException("the LDAPMessage has no protocolOp", false);
        }
        Ber.Element op = fields.next();
        if (fields.peekTag() == CONTROLS) {
            // RFC 4511 §4.1.11: controls are checked for structure only; none matters to StartTLS.
            fields.next().children();
        }
        fields.expectEnd("the LDAPMessage");
        return new LdapMessage(id, op, pdu);
    }

    /** What an ExtendedResponse (RFC 4511 §4.12) says. */
    record ExtendedResponse(
            int resultCode, String diagnosticMessage, Optional<String> responseName, int responseValueLength) {}

    /** Decodes an ExtendedResponse: COMPONENTS OF LDAPResult, then responseName and responseValue. */
    static ExtendedResponse parseExtendedResponse(Ber.Element op) {
        Ber.Reader r = op.children();
        int code = r.next(Ber.ENUMERATED, "resultCode").nonNegativeInt();
        r.next(Ber.OCTET_STRING, "matchedDN");
        String diagnostic = r.next(Ber.OCTET_STRING, "diagnosticMessage").text();
        if (r.peekTag() == REFERRAL) {
            r.next().children();
        }
        Optional<String> name = Optional.empty();
        if (r.peekTag() == RESPONSE_NAME) {
            name = Optional.of(r.next().text());
        }
        int valueLength = -1;
        if (r.peekTag() == RESPONSE_VALUE) {
            valueLength = r.next().length();
        }
        r.expectEnd("the ExtendedResponse");
        return new ExtendedResponse(code, diagnostic, name, valueLength);
    }

    /** RFC 4511 §4.14.1 / protocols.md §9.1: {@code ExtendedRequest { requestName [0] StartTLS OID }}. */
    static byte[] startTlsRequest(int messageId) {
        return envelope(messageId, Ber.Writer.element(EXTENDED_REQUEST, Ber.Writer.text(REQUEST_NAME, START_TLS_OID)));
    }

    /** RFC 4511 §4.3: {@code UnbindRequest ::= [APPLICATION 2] NULL}. */
    static byte[] unbindRequest(int messageId) {
        return envelope(messageId, Ber.Writer.element(UNBIND_REQUEST));
    }

    /** An ExtendedResponse; {@code responseName} is omitted when null. */
    static byte[] extendedResponse(int messageId, int resultCode, String diagnostic, String responseName) {
        byte[] result = ldapResult(resultCode, diagnostic);
        byte[] name = responseName == null ? new byte[0] : Ber.Writer.text(RESPONSE_NAME, responseName);
        return envelope(messageId, Ber.Writer.element(EXTENDED_RESPONSE, result, name));
    }

    /** A BindResponse without serverSaslCreds (RFC 4511 §4.2.2). */
    static byte[] bindResponse(int messageId, int resultCode, String diagnostic) {
        return envelope(messageId, Ber.Writer.element(BIND_RESPONSE, ldapResult(resultCode, diagnostic)));
    }

    /** RFC 4511 §4.4.1: messageID 0, responseName 1.3.6.1.4.1.1466.20036; the session ends after it. */
    static byte[] noticeOfDisconnection(int resultCode, String diagnostic) {
        return extendedResponse(0, resultCode, diagnostic, NOTICE_OF_DISCONNECTION_OID);
    }

    /** resultCode, empty matchedDN, diagnosticMessage (RFC 4511 §4.1.9), without the enclosing tag. */
    private static byte[] ldapResult(int resultCode, String diagnostic) {
        byte[] code = Ber.Writer.integer(Ber.ENUMERATED, resultCode);
        byte[] matched = Ber.Writer.text(Ber.OCTET_STRING, "");
        byte[] text = Ber.Writer.text(Ber.OCTET_STRING, diagnostic);
        byte[] all = new byte[code.length + matched.length + text.length];
        System.arraycopy(code, 0, all, 0, code.length);
        System.arraycopy(matched, 0, all, code.length, matched.length);
        System.arraycopy(text, 0, all, code.length + matched.length, text.length);
        return all;
    }

    private static byte[] envelope(int messageId, byte[] op) {
        return Ber.Writer.element(Ber.SEQUENCE, Ber.Writer.integer(Ber.INTEGER, messageId), op);
    }

    /** The RFC 4511 Appendix A name of a resultCode, for messages. */
    static String resultName(int code) {
        return switch (code) {
            case 0 -> "success";
            case 1 -> "operationsError";
            case 2 -> "protocolError";
            case 3 -> "timeLimitExceeded";
            case 7 -> "authMethodNotSupported";
            case 8 -> "strongerAuthRequired";
            case 10 -> "referral";
            case 11 -> "adminLimitExceeded";
            case 12 -> "unavailableCriticalExtension";
            case 13 -> "confidentialityRequired";
            case 14 -> "saslBindInProgress";
            case 48 -> "inappropriateAuthentication";
            case 49 -> "invalidCredentials";
            case 50 -> "insufficientAccessRights";
            case 51 -> "busy";
            case 52 -> "unavailable";
            case 53 -> "unwillingToPerform";
            case 80 -> "other";
            default -> "resultCode " + code;
        };
    }
}
