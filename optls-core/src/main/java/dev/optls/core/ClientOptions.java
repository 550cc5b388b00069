package dev.optls.core;

import java.util.Objects;
import java.util.Optional;

/**
 * How a client negotiation behaves.
 *
 * @param level the security level; from {@link SecurityLevel#ENCRYPT} up the negotiation fails closed
 * @param helloName the EHLO/LHLO argument (SMTP/LMTP); for XMPP server-to-server the {@code from} domain
 *     of the stream header (RFC 6120 §4.7.1)
 * @param implicitTls the connection is already TLS (smtps, imaps, pop3s): read the greeting and
 *     capabilities, never send the upgrade command (RFC 8314 §3)
 * @param limits input bounds
 * @param serviceDomain the domain the client wants service for, where the protocol names it on the wire:
 *     the XMPP stream header's {@code to} (RFC 6120 §4.7.2: the domainpart of the JID, never the SRV
 *     target). Empty: the adapter uses the reference identity / the host connected to
 * @param greetingOnly at level {@link SecurityLevel#NONE}: read the server's greeting and complete, without
 *     asking for capabilities (a relay whose client asks them itself: the gateway in front of a plaintext
 *     backend). For the protocols whose server greets first with a reply: SMTP, LMTP, submission, IMAP,
 *     POP3, NNTP and FTP
 */
public record ClientOptions(
        SecurityLevel level,
        String helloName,
        boolean implicitTls,
        Limits limits,
        Optional<String> serviceDomain,
        boolean greetingOnly) {
    public ClientOptions {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(serviceDomain, "serviceDomain");
        if (helloName == null || helloName.isBlank() || helloName.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            throw new IllegalArgumentException("helloName must be a non-empty printable ASCII name, was: " + helloName);
        }
        serviceDomain.ifPresent(d -> {
            if (d.isBlank() || d.codePoints().anyMatch(c -> c <= ' ' || c == 127 || c == '\'' || c == '"')) {
                throw new IllegalArgumentException("serviceDomain must be a domain name without spaces, was: " + d);
            }
        });
        if (greetingOnly && (level != SecurityLevel.NONE || implicitTls)) {
            // Deciding on STARTTLS needs the capabilities; an implicit-TLS session reads them over TLS.
            throw new IllegalArgumentException("greetingOnly is for plaintext sessions at level NONE only");
        }
    }

    /** Options without a service domain. */
    public ClientOptions(SecurityLevel level, String helloName, boolean implicitTls, Limits limits) {
        this(level, helloName, implicitTls, limits, Optional.empty(), false);
    }

    /** Options that ask for the capabilities. */
    public ClientOptions(
            SecurityLevel level, String helloName, boolean implicitTls, Limits limits, Optional<String> serviceDomain) {
        this(level, helloName, implicitTls, limits, serviceDomain, false);
    }

    /** Options for {@code level} with the EHLO name {@code localhost} and default limits. */
    public static ClientOptions of(SecurityLevel level) {
        return new ClientOptions(level, "localhost", false, Limits.DEFAULT);
    }

    public ClientOptions withHelloName(String name) {
        return new ClientOptions(level, name, implicitTls, limits, serviceDomain, greetingOnly);
    }

    public ClientOptions withImplicitTls(boolean implicit) {
        return new ClientOptions(level, helloName, implicit, limits, serviceDomain, greetingOnly);
    }

    public ClientOptions withLimits(Limits newLimits) {
        return new ClientOptions(level, helloName, implicitTls, newLimits, serviceDomain, greetingOnly);
    }

    /** The same options with the service domain (XMPP {@code to}) set. */
    public ClientOptions withServiceDomain(String domain) {
        return new ClientOptions(level, helloName, implicitTls, limits, Optional.of(domain), greetingOnly);
    }

    /** The same options, completing after the greeting (see {@link #greetingOnly()}); level NONE only. */
    public ClientOptions withGreetingOnly() {
        return new ClientOptions(level, helloName, implicitTls, limits, serviceDomain, true);
    }
}
