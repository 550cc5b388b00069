package dev.optls.core;

/** What went wrong. Each kind has a short stable wire name used in JSON reports. */
public enum FailureKind {
    /** The server did not advertise the upgrade (STRIPTLS, or simply no TLS). */
    STARTTLS_NOT_OFFERED("starttls-not-offered"),
    /** The server answered the upgrade command with an error. */
    STARTTLS_REFUSED("starttls-refused"),
    /** Bytes arrived after the upgrade go-ahead and before TLS: response injection (CVE-2011-0411 class). */
    BYTES_AFTER_UPGRADE_REPLY("bytes-after-upgrade-reply"),
    /** IMAP {@code PREAUTH} greeting on a connection that must be protected (RFC 9051 §7.1.4). */
    PREAUTH_WITHOUT_TLS("preauth-without-tls"),
    /** The server rejected the greeting-phase (554/421 greeting, {@code * BYE}, {@code -ERR}). */
    SERVICE_UNAVAILABLE("service-unavailable"),
    /** EHLO/LHLO was refused: a HELO-only server has no extensions, hence no STARTTLS. */
    EXTENDED_HELLO_REFUSED("extended-hello-refused"),
    /** A reply or command that does not parse. */
    MALFORMED("malformed"),
    /** A line, reply or buffer went over its limit. */
    LIMIT_EXCEEDED("limit-exceeded"),
    /** The peer closed the connection in the middle of an exchange. */
    UNEXPECTED_EOF("unexpected-eof"),
    /** Too many bad commands from a client. */
    TOO_MANY_ERRORS("too-many-errors"),
    /** Something the protocol forbids at this point (e.g. STARTTLS advertised after TLS). */
    PROTOCOL_VIOLATION("protocol-violation"),
    /** The TLS handshake failed. */
    HANDSHAKE_FAILED("handshake-failed"),
    /** The certificate chain or name did not verify. */
    CERTIFICATE_INVALID("certificate-invalid"),
    /** A phase took longer than its timeout. */
    TIMEOUT("timeout"),
    /** The TCP connection could not be made. */
    CONNECT_FAILED("connect-failed"),
    /** Local configuration is unusable (no certificate, unreadable file). */
    CONFIGURATION("configuration");

    private final String wireName;

    FailureKind(String wireName) {
        this.wireName = wireName;
    }

    /** Stable lower-case name for JSON output and logs. */
    public String wireName() {
        return wireName;
    }
}
