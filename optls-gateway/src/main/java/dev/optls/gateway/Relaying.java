package dev.optls.gateway;

import dev.optls.core.Command;
import dev.optls.core.Limits;
import dev.optls.core.Protocol;
import dev.optls.gateway.internal.Traffic;
import dev.optls.gateway.internal.ftp.FtpRelay;
import dev.optls.netty.Transport;
import dev.optls.tls.blocking.CommandHandler;
import io.netty.channel.Channel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.Future;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Per protocol: whether the gateway can terminate it, and what it does with the backend's opening. */
final class Relaying {
    private Relaying() {}

    /** What the backend says before the client's first command after TLS, and what happens to it. */
    enum Backend {
        /**
         * The backend greets, and the client after STARTTLS asks for capabilities again (RFC 3207 §4.2, RFC
         * 2595 §3.1, RFC 4642 §2.2.2): the gateway consumes the greeting (the core's client negotiation at
         * level NONE, greeting only), so that the client's fresh query is the first command the backend
         * answers.
         */
        GREETING,
        /**
         * Relayed as is: the backend says nothing first (LDAP, PostgreSQL, IRC, XMPP: the client opens the
         * new stream after TLS, RFC 6120 §5.4.3.3), or its greeting is exactly
         * what the client waits for after TLS (ManageSieve re-sends its capabilities, RFC 5804 §2.2).
         */
        RAW,
        /**
         * MySQL: the client answers the scramble in the server's greeting, so the gateway connects and reads
         * the backend's HandshakeV10 before it greets the client with it ({@code CLIENT_SSL} added), and
         * renumbers the connection phase after TLS for a backend that never saw the SSLRequest
         * ({@link MysqlConnection}).
         */
        GREETING_FIRST
    }

    static boolean supports(Protocol protocol) {
        return whyNot(protocol).isEmpty();
    }

    /** Empty when supported; otherwise the reason. */
    static String whyNot(Protocol protocol) {
        return switch (protocol) {
            default -> supportedSchemes().contains(protocol.scheme()) ? "" : "not implemented";
        };
    }

    static List<String> supportedSchemes() {
        return Arrays.stream(Protocol.values())
                .filter(p -> backendFor(p) != null)
                .map(Protocol::scheme)
                .toList();
    }

    /** How the backend's opening is handled after a STARTTLS upgrade (implicit TLS relays it as is). */
    static Backend backend(Protocol protocol) {
        Backend b = backendFor(protocol);
        if (b == null) {
            throw new IllegalArgumentException(protocol + " is not supported by the gateway");
        }
        return b;
    }

    private static Backend backendFor(Protocol protocol) {
        return switch (protocol) {
            // FTP too: the client asks FEAT again over TLS (RFC 2228 §3: AUTH resets the security state).
            case SMTP, SUBMISSION, LMTP, IMAP, POP3, NNTP, FTP -> Backend.GREETING;
            case SIEVE, LDAP, POSTGRES, IRC, XMPP, XMPP_SERVER -> Backend.RAW;
            case MYSQL -> Backend.GREETING_FIRST;
            default -> null;
        };
    }

    /**
     * Empty when the gateway can run {@code protocol}'s client side towards the upstream and hand the session
     * on at a command boundary; otherwise why not. The gateway's client negotiation reads the upstream's
     * greeting, upgrades, and asks the capabilities again over TLS; the client then gets the gateway's
     * greeting and its own capability query reaches the upstream over TLS. That holds where the capability
     * query may be repeated at any time (EHLO/LHLO: RFC 5321 §4.1.4; CAPABILITY: RFC 9051 §6.1.1; CAPA: RFC
     * 2449 §5; CAPABILITIES: RFC 3977 §5.2).
     */
    static String whyNotOriginate(Protocol protocol) {
        return switch (protocol) {
            case SMTP, SUBMISSION, LMTP, IMAP, POP3, NNTP -> "";
            case SIEVE ->
                "a ManageSieve server re-sends its capabilities after TLS (RFC 5804 §2.2) and the gateway's "
                        + "client reads them, so a client would wait for a greeting that never comes";
            case XMPP, XMPP_SERVER ->
                "the gateway's client restarts the stream after TLS (RFC 6120 §5.4.3.3), so the client's own "
                        + "stream header would be a second one";
            case LDAP ->
                "a client's own StartTLS extended request would reach a server that already runs TLS "
                        + "(RFC 4511 §4.14.1: operationsError)";
            case POSTGRES ->
                "a client's SSLRequest would reach the server inside TLS; the gateway would have to answer it "
                        + "(and GSSENCRequest) itself";
            case IRC -> "the gateway's client ends the capability negotiation the client expects to run itself";
            case MYSQL ->
                "the client's login answers the scramble of the greeting it got, and a MySQL server reuses that "
                        + "scramble inside TLS; the gateway would have to give the client the upstream's greeting "
                        + "and renumber the login for an upstream that saw the gateway's own SSLRequest";
            case FTP ->
                "the gateway would have to run TLS on every data connection towards the upstream as well; it "
                        + "terminates FTPS (listen-tls) towards a plaintext backend only";
            default -> whyNot(protocol).isEmpty() ? "not implemented" : whyNot(protocol);
        };
    }

    /**
     * The gateway's own greeting to a client whose upstream's greeting was read by the gateway (origination
     * and implicit-to-STARTTLS translation). The upstream's greeting text is relayed where it matters to the
     * client (POP3: an APOP timestamp, RFC 1939 §7; NNTP: 200 or 201, posting allowed, RFC 3977 §5.1.1),
     * without any response code: what was advertised before TLS is forgotten (RFC 3207 §4.2).
     */
    static String greeting(Protocol protocol, String upstreamGreeting, String hostname) {
        String text = printable(upstreamGreeting);
        return switch (protocol) {
            case SMTP, SUBMISSION -> "220 " + (text.isEmpty() ? hostname + " ESMTP optls gateway" : text);
            case LMTP -> "220 " + (text.isEmpty() ? hostname + " LMTP optls gateway" : text);
            // RFC 9051 §7.1: a bracketed response code (e.g. pre-TLS CAPABILITY) is dropped, not relayed.
            case IMAP -> "* OK " + (text.startsWith("[") ? "optls gateway ready" : text);
            case POP3 -> "+OK " + (text.isEmpty() ? "optls gateway ready" : text);
            // The core keeps NNTP's whole greeting line: 200 or 201 with its text.
            case NNTP -> text.matches("20[01] .*") ? text : "200 optls gateway ready";
            default -> throw new IllegalArgumentException(protocol + " is not originated by the gateway");
        };
    }

    /**
     * The temporary-failure reply a client gets when the upstream's TLS cannot be had at the route's level
     * (the connection is closed after it): SMTP 421 (RFC 5321 §3.8, RFC 3463 X.7.0), IMAP BYE [UNAVAILABLE]
     * (RFC 5530 §3), POP3 -ERR [SYS/TEMP] (RFC 3206 §4), NNTP 400 (RFC 3977 §5.1.1).
     */
    static String unavailable(Protocol protocol, String hostname) {
        String why = "TLS towards the upstream server failed, try again later";
        return switch (protocol) {
            case SMTP, SUBMISSION, LMTP -> "421 4.7.0 " + hostname + " " + why;
            case IMAP -> "* BYE [UNAVAILABLE] " + why;
            case POP3 -> "-ERR [SYS/TEMP] " + why;
            case NNTP -> "400 " + why;
            default -> throw new IllegalArgumentException(protocol + " is not originated by the gateway");
        };
    }

    /**
     * What a client of a termination route gets, over its TLS, when the backend cannot be reached or does not
     * greet: the protocol's temporary-failure reply where it has one (the connection is closed after it), or
     * nothing (an empty array: the connection is just closed). SMTP 421 with RFC 3463 X.4.1 "no answer from
     * host" (RFC 5321 §3.8: 421 may answer any command); IMAP untagged BYE [UNAVAILABLE] (RFC 9051 §7.1.5,
     * RFC 5530 §3); POP3 -ERR [SYS/TEMP] (RFC 3206 §4); NNTP 400 (RFC 3977 §5.1.1); ManageSieve BYE (TRYLATER)
     * (RFC 5804 §1.3); IRC ERROR (RFC 2812 §3.7.4); XMPP the stream error internal-server-error after the
     * server's stream header (RFC 6120 §4.9.1.2, §4.9.3.8); LDAP the Notice of Disconnection with resultCode
     * unavailable (RFC 4511 §4.4.1); PostgreSQL a FATAL ErrorResponse 57P03 cannot_connect_now (protocol
     * §55.7).
     */
    static byte[] backendDown(Protocol protocol, String hostname) {
        String why = "the backend server is unavailable, try again later";
        String text = switch (protocol) {
            case SMTP, SUBMISSION, LMTP -> "421 4.4.1 " + hostname + " " + why + "\r\n";
            case IMAP -> "* BYE [UNAVAILABLE] " + why + "\r\n";
            case POP3 -> "-ERR [SYS/TEMP] " + why + "\r\n";
            case NNTP -> "400 " + why + "\r\n";
            case SIEVE -> "BYE (TRYLATER) \"" + why + "\"\r\n";
            case IRC -> "ERROR :Closing link: " + why + "\r\n";
            case XMPP, XMPP_SERVER ->
                "<?xml version='1.0'?><stream:stream xmlns='jabber:"
                        + (protocol == Protocol.XMPP ? "client" : "server")
                        + "' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='"
                        + hostname.replaceAll("[^A-Za-z0-9.-]", "") + "'><stream:error>"
                        + "<internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                        + "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>" + why + "</text>"
                        + "</stream:error></stream:stream>";
            default -> "";
        };
        if (!text.isEmpty()) {
            return text.getBytes(StandardCharsets.US_ASCII);
        }
        return switch (protocol) {
            case LDAP -> ldapNoticeOfDisconnection(why);
            case POSTGRES -> postgresFatal("57P03", why);
            default -> new byte[0];
        };
    }

    /** RFC 4511 §4.4.1: messageID 0, ExtendedResponse, resultCode unavailable (52), the notice's OID. */
    private static byte[] ldapNoticeOfDisconnection(String message) {
        byte[] text = message.getBytes(StandardCharsets.US_ASCII);
        byte[] oid = "1.3.6.1.4.1.1466.20036".getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream response = new ByteArrayOutputStream();
        response.writeBytes(new byte[] {0x0A, 0x01, 52}); // resultCode ENUMERATED unavailable
        response.writeBytes(new byte[] {0x04, 0x00}); // matchedDN ""
        tlv(response, 0x04, text); // diagnosticMessage
        tlv(response, 0x8A, oid); // [10] responseName
        ByteArrayOutputStream ldapMessage = new ByteArrayOutputStream();
        ldapMessage.writeBytes(new byte[] {0x02, 0x01, 0x00}); // messageID 0: unsolicited
        tlv(ldapMessage, 0x78, response.toByteArray()); // [APPLICATION 24] ExtendedResponse
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tlv(out, 0x30, ldapMessage.toByteArray());
        return out.toByteArray();
    }

    /** A BER tag-length-value with a short or one-byte long length (the notice is under 256 bytes). */
    private static void tlv(ByteArrayOutputStream out, int tag, byte[] value) {
        out.write(tag);
        if (value.length < 128) {
            out.write(value.length);
        } else {
            out.write(0x81);
            out.write(value.length);
        }
        out.writeBytes(value);
    }

    /** PostgreSQL ErrorResponse ('E'): severity FATAL, SQLSTATE {@code code}, message. */
    private static byte[] postgresFatal(String code, String message) {
        ByteArrayOutputStream fields = new ByteArrayOutputStream();
        for (String field : List.of("SFATAL", "VFATAL", "C" + code, "M" + message)) {
            fields.writeBytes(field.getBytes(StandardCharsets.US_ASCII));
            fields.write(0);
        }
        fields.write(0);
        byte[] body = fields.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(1 + 4 + body.length);
        out.put((byte) 'E').putInt(4 + body.length).put(body);
        return out.array();
    }

    /**
     * FTP termination: relays the client's control connection (TLS up) to the plaintext backend through an
     * {@link FtpRelay}, which answers PBSZ/PROT/CCC itself and carries the passive data connections (each
     * TLS from the client, resuming the control connection's session, plaintext to the backend).
     */
    static void relayFtp(
            Route route,
            Transport transport,
            SocketChannel client,
            Future<Channel> backendReady,
            Gateway.Events events) {
        Traffic traffic = Traffic.of(client);
        FtpRelay.start(
                client,
                backendReady,
                new FtpRelay.Settings(
                        route.tls(), Limits.DEFAULT, route.replyTimeout(), route.handshakeTimeout(), transport, true),
                // Implicit TLS (990): the backend's greeting is the client's; after AUTH TLS the gateway read it.
                route.listenTls() == Route.ListenTls.IMPLICIT,
                traffic.fromClient(),
                traffic.toClient(),
                (reason, detail) -> events.ftpRefused(route, client.remoteAddress(), reason, detail));
    }

    private static String printable(String text) {
        int end = text.indexOf('\n');
        String first = end < 0 ? text : text.substring(0, end);
        return first.chars()
                .filter(c -> c >= ' ' && c < 127)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString()
                .strip();
    }

    /**
     * Answers commands a client sends before TLS that the dialect hands to the application: the gateway
     * serves nothing in plaintext. Binary protocols are taken over, and the gateway closes them.
     */
    static CommandHandler beforeTls(Protocol protocol) {
        return (Command c) -> switch (protocol) {
            case IMAP -> c.tag() + " NO [PRIVACYREQUIRED] " + c.verb() + " needs TLS: use STARTTLS first"; // RFC 5530
            case POP3 -> "-ERR " + c.verb() + " needs TLS: use STLS first";
            case SIEVE -> "NO \"" + c.verb() + " needs TLS: use STARTTLS first\"";
            case NNTP -> "483 " + c.verb() + " needs TLS: use STARTTLS first"; // RFC 4642 §2.2.2 / RFC 3977 §3.2.1
            case SMTP, SUBMISSION, LMTP -> "530 5.7.0 Must issue a STARTTLS command first"; // RFC 3207 §4
            // RFC 4217 §4: a server that requires TLS refuses commands before AUTH TLS; RFC 959 530 "Not logged in".
            case FTP -> "530 " + c.verb() + " needs TLS: use AUTH TLS first";
            default -> CommandHandler.HAND_OVER;
        };
    }
}
