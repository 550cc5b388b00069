package dev.optls.core;

import java.util.Objects;

/**
 * How a server negotiation behaves. The application supplies the greeting and what it advertises; the
 * dialect adds the upgrade capability itself, only while TLS is available and not yet active (RFC 3207
 * §4.2, RFC 2595 §3.1/§4).
 *
 * @param hostname the server's name for greetings and EHLO replies
 * @param greeting the greeting text after the code ({@code 220 <hostname> <greeting>}, {@code * OK
 *     <greeting>}, {@code +OK <greeting>})
 * @param plaintextCapabilities advertised before TLS (without STARTTLS/STLS, which the dialect adds)
 * @param tlsCapabilities advertised once TLS is active
 * @param tlsAvailable a certificate is configured, so the upgrade may be offered
 * @param tlsRequired refuse authentication and mail transactions until TLS is active
 * @param tlsActive the connection is already protected (implicit TLS, or continuing after an upgrade)
 * @param greet send the greeting first (false when continuing after an upgrade)
 * @param limits input bounds
 */
public record ServerOptions(
        String hostname,
        String greeting,
        Capabilities plaintextCapabilities,
        Capabilities tlsCapabilities,
        boolean tlsAvailable,
        boolean tlsRequired,
        boolean tlsActive,
        boolean greet,
        Limits limits) {

    public ServerOptions {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(greeting, "greeting");
        Objects.requireNonNull(plaintextCapabilities, "plaintextCapabilities");
        Objects.requireNonNull(tlsCapabilities, "tlsCapabilities");
        Objects.requireNonNull(limits, "limits");
        if (tlsRequired && !tlsAvailable && !tlsActive) {
            throw new IllegalArgumentException("tlsRequired needs tlsAvailable (a certificate) or tlsActive");
        }
        if (hostname.isBlank() || hostname.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            throw new IllegalArgumentException("hostname must be printable ASCII without spaces: " + hostname);
        }
        if (greeting.indexOf('\r') >= 0 || greeting.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("greeting must be one line");
        }
    }

    /** A server that offers STARTTLS and advertises the same capabilities before and after TLS. */
    public static ServerOptions offering(String hostname, Capabilities capabilities) {
        return new ServerOptions(
                hostname, "ready", capabilities, capabilities, true, false, false, true, Limits.DEFAULT);
    }

    /** A server without TLS: it never offers the upgrade. */
    public static ServerOptions withoutTls(String hostname, Capabilities capabilities) {
        return new ServerOptions(
                hostname, "ready", capabilities, capabilities, false, false, false, true, Limits.DEFAULT);
    }

    public ServerOptions withGreeting(String text) {
        return new ServerOptions(
                hostname,
                text,
                plaintextCapabilities,
                tlsCapabilities,
                tlsAvailable,
                tlsRequired,
                tlsActive,
                greet,
                limits);
    }

    public ServerOptions withTlsCapabilities(Capabilities caps) {
        return new ServerOptions(
                hostname, greeting, plaintextCapabilities, caps, tlsAvailable, tlsRequired, tlsActive, greet, limits);
    }

    public ServerOptions withTlsRequired(boolean required) {
        return new ServerOptions(
                hostname,
                greeting,
                plaintextCapabilities,
                tlsCapabilities,
                tlsAvailable,
                required,
                tlsActive,
                greet,
                limits);
    }

    public ServerOptions withLimits(Limits newLimits) {
        return new ServerOptions(
                hostname,
                greeting,
                plaintextCapabilities,
                tlsCapabilities,
                tlsAvailable,
                tlsRequired,
                tlsActive,
                greet,
                newLimits);
    }

    /** For an implicit-TLS listener: TLS is active from the start, the greeting comes inside TLS. */
    public ServerOptions implicitTls() {
        return new ServerOptions(
                hostname,
                greeting,
                plaintextCapabilities,
                tlsCapabilities,
                tlsAvailable,
                tlsRequired,
                true,
                true,
                limits);
    }

    /** For continuing a session right after an upgrade: TLS active, no second greeting. */
    public ServerOptions afterUpgrade() {
        return new ServerOptions(
                hostname,
                greeting,
                plaintextCapabilities,
                tlsCapabilities,
                tlsAvailable,
                tlsRequired,
                true,
                false,
                limits);
    }

    /** What to advertise in the current state, before the dialect adds its upgrade keyword. */
    public Capabilities advertised() {
        return tlsActive ? tlsCapabilities : plaintextCapabilities;
    }

    /** Whether the upgrade may be offered and accepted now. */
    public boolean upgradeOffered() {
        return tlsAvailable && !tlsActive;
    }
}
