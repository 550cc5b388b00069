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
import java.util.Arrays;
import java.util.List;

/** Per protocol: whether the gateway can terminate it, and what it does with the backend's opening. */
final class Relaying {
    private Relaying() {}

    /** What the backend says before the client's first command after TLS, and what happens to it. */
    enum Backend {
        /**
         * The backend greets, and the client after STARTTLS asks for capabilities again (RFC 3207 §4.2, RFC
         * 2595 §3.1, RFC 4642 §2.2.2): the gateway reads the greeting and asks the capabilities itself (the
         * core's client negotiation at level NONE), so that the client's fresh query is the next thing the
         * backend answers.
         */
        GREETING_THEN_CAPABILITIES,
        /**
         * Relayed as is: the backend says nothing first (LDAP, PostgreSQL, IRC, XMPP: the client opens the
         * new stream after TLS, RFC 6120 §5.4.3.3), or its greeting is exactly
         * what the client waits for after TLS (ManageSieve re-sends its capabilities, RFC 5804 §2.2).
         */
        RAW
    }

    static boolean supports(Protocol protocol) {
        return whyNot(protocol).isEmpty();
    }

    /** Empty when supported; otherwise the reason. */
    static String whyNot(Protocol protocol) {
        return switch (protocol) {
            case MYSQL ->
                "a MySQL client authenticates against the scramble in the server's greeting, which the gateway "
                        + "would have to take from the backend before greeting";
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
            // FTP: the core's FtpClient at level NONE reads the greeting and asks FEAT (RFC 2389), which the
            // client asks again over TLS (RFC 2228 §3: AUTH resets the security state).
            case SMTP, SUBMISSION, LMTP, IMAP, POP3, NNTP, FTP -> Backend.GREETING_THEN_CAPABILITIES;
            case SIEVE, LDAP, POSTGRES, IRC, XMPP, XMPP_SERVER -> Backend.RAW;
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
