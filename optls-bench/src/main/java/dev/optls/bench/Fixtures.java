package dev.optls.bench;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import java.nio.charset.StandardCharsets;

/** The wire data and options the benchmarks share. Realistic sizes: what Postfix and Dovecot send. */
final class Fixtures {
    private Fixtures() {}

    /** An SMTP greeting (RFC 5321 §4.2). */
    static final byte[] SMTP_GREETING = ascii("220 mail.example.org ESMTP Postfix\r\n");

    /** A 10-line EHLO reply as Postfix sends it (RFC 5321 §4.1.1.1): the greeting line and 9 keywords. */
    static final byte[] SMTP_EHLO_REPLY = ascii("250-mail.example.org\r\n"
            + "250-PIPELINING\r\n"
            + "250-SIZE 10240000\r\n"
            + "250-VRFY\r\n"
            + "250-ETRN\r\n"
            + "250-STARTTLS\r\n"
            + "250-ENHANCEDSTATUSCODES\r\n"
            + "250-8BITMIME\r\n"
            + "250-DSN\r\n"
            + "250 SMTPUTF8\r\n");

    /** An IMAP CAPABILITY response as Dovecot sends it before login, with its tagged completion. */
    static final byte[] IMAP_CAPABILITY_RESPONSE =
            ascii("* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED\r\n"
                    + "A1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n");

    /** What an SMTP server offers; with the hostname line and STARTTLS its EHLO reply has 10 lines. */
    static final Capabilities SMTP_CAPABILITIES = Capabilities.of(
            "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8");

    /** SMTP after TLS: AUTH appears, STARTTLS goes (RFC 3207 §4.2); again a 10-line EHLO reply. */
    static final Capabilities SMTP_TLS_CAPABILITIES = Capabilities.of(
            "PIPELINING",
            "SIZE 10240000",
            "VRFY",
            "ETRN",
            "AUTH PLAIN LOGIN",
            "ENHANCEDSTATUSCODES",
            "8BITMIME",
            "DSN",
            "SMTPUTF8");

    /** The SMTP server of the in-memory and loopback negotiations. */
    static final ServerOptions SMTP_SERVER =
            ServerOptions.offering("localhost", SMTP_CAPABILITIES).withTlsCapabilities(SMTP_TLS_CAPABILITIES);

    /** The IMAP server of the in-memory negotiation (Dovecot-like lists). */
    static final ServerOptions IMAP_SERVER = ServerOptions.offering(
                    "localhost", Capabilities.of("IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE"))
            .withTlsCapabilities(
                    Capabilities.of("IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "AUTH=PLAIN"));

    /** The POP3 server of the in-memory negotiation. */
    static final ServerOptions POP3_SERVER = ServerOptions.offering(
                    "localhost", Capabilities.of("TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"))
            .withTlsCapabilities(
                    Capabilities.of("TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN"));

    /** Clients insist on TLS (the in-memory runs never verify a certificate: there is none). */
    static final ClientOptions CLIENT = ClientOptions.of(SecurityLevel.VERIFY);

    /** What the in-memory runs tell both sides instead of running TLS. */
    static final HandshakeSummary FAKE_HANDSHAKE = new HandshakeSummary("TLSv1.3", "TLS_AES_256_GCM_SHA384", "");

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
