package dev.optls.core;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The STARTTLS-style protocols optls knows, with their ports and ALPN identifiers.
 *
 * <p>Ports follow the IANA registry and RFC 8314; ALPN ids the IANA TLS ALPN registry (there is no
 * id for SMTP, submission or LMTP, so none is sent).
 */
public enum Protocol {
    /** SMTP relay, RFC 5321 + RFC 3207. Port 25 has no implicit-TLS sibling (465 is submission). */
    SMTP("smtp", 25, null, 0, null),
    /** Message submission, RFC 6409; implicit TLS on 465 per RFC 8314 §3.3. */
    SUBMISSION("submission", 587, "submissions", 465, null),
    /** LMTP, RFC 2033: no port assigned; 24 is common. */
    LMTP("lmtp", 24, null, 0, null),
    /** IMAP, RFC 9051 / RFC 3501 + RFC 2595; imaps on 993. */
    IMAP("imap", 143, "imaps", 993, "imap"),
    /** POP3, RFC 1939 + RFC 2449 + RFC 2595; pop3s on 995. */
    POP3("pop3", 110, "pop3s", 995, "pop3"),
    /** ManageSieve, RFC 5804: STARTTLS only, no implicit-TLS port; ALPN id {@code managesieve}. */
    SIEVE("sieve", 4190, null, 0, "managesieve"),
    /**
     * PostgreSQL frontend/backend protocol 3.0 with SSLRequest-negotiated TLS; ALPN {@code postgresql}
     * (sent on the negotiated path too: PostgreSQL 17 requires it only for direct TLS). Direct TLS
     * (PostgreSQL 17 {@code sslnegotiation=direct}) uses the same port, so there is no implicit scheme.
     */
    POSTGRES("postgres", 5432, null, 0, "postgresql"),
    /** LDAP, RFC 4511 §4.14 StartTLS; ldaps on 636 (not in RFC 8314, but IANA-registered). No ALPN id. */
    LDAP("ldap", 389, "ldaps", 636, null),
    /**
     * MySQL / MariaDB client/server protocol: TLS is negotiated with an SSLRequest packet after the
     * server's HandshakeV10 greeting. No implicit-TLS port and no ALPN id are registered.
     */
    MYSQL("mysql", 3306, null, 0, null),
    /** NNTP, RFC 3977 + RFC 4642 (as updated by RFC 8143); nntps on 563, ALPN id {@code nntp}. */
    NNTP("nntp", 119, "nntps", 563, "nntp"),
    /**
     * IRC with the IRCv3 {@code tls} extension (STARTTLS, deprecated but deployed); ircs on 6697 (RFC 7194).
     * ALPN id {@code irc}.
     */
    IRC("irc", 6667, "ircs", 6697, "irc"),
    /**
     * XMPP client-to-server, RFC 6120 §5 STARTTLS; direct TLS (XEP-0368) on 5223, the traditional port
     * (XEP-0368 finds the real one through {@code _xmpps-client._tcp} SRV records). ALPN id {@code
     * xmpp-client}.
     */
    XMPP("xmpp", 5222, "xmpps", 5223, "xmpp-client"),
    /**
     * XMPP server-to-server, RFC 6120 §5 STARTTLS on 5269. Direct TLS for s2s (XEP-0368 {@code
     * _xmpps-server._tcp}) has no fixed port, so there is no implicit scheme. ALPN id {@code xmpp-server}.
     */
    XMPP_SERVER("xmpp-server", 5269, null, 0, "xmpp-server"),
    /**
     * FTP with {@code AUTH TLS}, RFC 959 + RFC 2228 + RFC 4217; ftps (implicit TLS) on 990. ALPN id {@code
     * ftp} (IANA registry).
     */
    FTP("ftp", 21, "ftps", 990, "ftp");

    private final String scheme;
    private final int defaultPort;
    private final String implicitScheme;
    private final int implicitPort;
    private final String alpn;

    Protocol(String scheme, int defaultPort, String implicitScheme, int implicitPort, String alpn) {
        this.scheme = scheme;
        this.defaultPort = defaultPort;
        this.implicitScheme = implicitScheme;
        this.implicitPort = implicitPort;
        this.alpn = alpn;
    }

    /** URI scheme of the plaintext + STARTTLS service, e.g. {@code smtp}. */
    public String scheme() {
        return scheme;
    }

    /** Default port of the plaintext + STARTTLS service. */
    public int defaultPort() {
        return defaultPort;
    }

    /** URI scheme of the implicit-TLS service, if there is one (e.g. {@code imaps}). */
    public Optional<String> implicitScheme() {
        return Optional.ofNullable(implicitScheme);
    }

    /** Default port of the implicit-TLS service, if there is one. */
    public Optional<Integer> implicitPort() {
        return implicitScheme == null ? Optional.empty() : Optional.of(implicitPort);
    }

    /** The IANA ALPN protocol id, where one is registered (RFC 7301). */
    public Optional<String> alpn() {
        return Optional.ofNullable(alpn);
    }

    /**
     * The protocol named by a URI scheme, plaintext or implicit: {@code smtp}, {@code submission},
     * {@code lmtp}, {@code imap}, {@code pop3}, {@code sieve}, {@code postgres}, {@code ldap}, {@code
     * smtps}/{@code submissions}, {@code imaps}, {@code pop3s}, {@code ldaps}, {@code ftp}/{@code ftps}. {@code smtps} is an alias of
     * {@code submissions} (RFC 8314 §7.3), {@code postgresql} of {@code postgres} (libpq accepts both).
     */
    public static Optional<Protocol> forScheme(String scheme) {
        String s = scheme.toLowerCase(Locale.ROOT);
        if (s.equals("smtps")) {
            return Optional.of(SUBMISSION);
        }
        if (s.equals("postgresql")) {
            return Optional.of(POSTGRES);
        }
        return Arrays.stream(values())
                .filter(p -> p.scheme.equals(s) || s.equals(p.implicitScheme))
                .findFirst();
    }

    /** Whether a URI scheme names the implicit-TLS service. */
    public static boolean isImplicitScheme(String scheme) {
        String s = scheme.toLowerCase(Locale.ROOT);
        return s.equals("smtps") || Arrays.stream(values()).anyMatch(p -> s.equals(p.implicitScheme));
    }
}
