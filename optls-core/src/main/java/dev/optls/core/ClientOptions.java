package dev.optls.core;

import java.util.Objects;

/**
 * How a client negotiation behaves.
 *
 * @param level the security level; from {@link SecurityLevel#ENCRYPT} up the negotiation fails closed
 * @param helloName the EHLO/LHLO argument (SMTP/LMTP only)
 * @param implicitTls the connection is already TLS (smtps, imaps, pop3s): read the greeting and
 *     capabilities, never send the upgrade command (RFC 8314 §3)
 * @param limits input bounds
 */
public record ClientOptions(SecurityLevel level, String helloName, boolean implicitTls, Limits limits) {
    public ClientOptions {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(limits, "limits");
        if (helloName == null || helloName.isBlank() || helloName.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            throw new IllegalArgumentException("helloName must be a non-empty printable ASCII name, was: " + helloName);
        }
    }

    /** Options for {@code level} with the EHLO name {@code localhost} and default limits. */
    public static ClientOptions of(SecurityLevel level) {
        return new ClientOptions(level, "localhost", false, Limits.DEFAULT);
    }

    public ClientOptions withHelloName(String name) {
        return new ClientOptions(level, name, implicitTls, limits);
    }

    public ClientOptions withImplicitTls(boolean implicit) {
        return new ClientOptions(level, helloName, implicit, limits);
    }

    public ClientOptions withLimits(Limits newLimits) {
        return new ClientOptions(level, helloName, implicitTls, newLimits);
    }
}
