package dev.optls.gateway;

import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.tls.blocking.CommandHandler;
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
            case FTP ->
                "its data connections need their own TLS termination and PASV/EPSV rewriting, which the gateway "
                        + "does not do yet";
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
            case SMTP, SUBMISSION, LMTP, IMAP, POP3, NNTP -> Backend.GREETING_THEN_CAPABILITIES;
            case SIEVE, LDAP, POSTGRES, IRC, XMPP, XMPP_SERVER -> Backend.RAW;
            default -> null;
        };
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
            default -> CommandHandler.HAND_OVER;
        };
    }
}
