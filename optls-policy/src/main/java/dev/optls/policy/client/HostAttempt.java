package dev.optls.policy.client;

import dev.optls.policy.engine.Requirement;
import dev.optls.policy.rpt.TlsRptResult;
import java.util.Objects;
import java.util.Optional;

/**
 * One step of a delivery attempt: a session with one address of an MX host, or a host that was not tried.
 *
 * @param host the MX host name
 * @param address the address connected to (IPv4 or IPv6 text); empty when no connection was made
 * @param requirement what the host had to offer
 * @param outcome how it went
 * @param reported the TLS-RPT result type recorded as a failure, if one was
 * @param reason what happened, for people and logs
 */
public record HostAttempt(
        String host,
        Optional<String> address,
        Requirement requirement,
        Outcome outcome,
        Optional<TlsRptResult> reported,
        String reason) {

    /** How one step ended. */
    public enum Outcome {
        /** The session met the host's requirement and is handed over. */
        CONNECTED,
        /** The session (or the address lookup) failed; the next address or host is tried. */
        FAILED,
        /** The plan says not to connect to this host at all. */
        SKIPPED
    }

    /** Requires every field. */
    public HostAttempt {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(requirement, "requirement");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(reported, "reported");
        Objects.requireNonNull(reason, "reason");
    }

    /** One line: host, address, outcome and reason. */
    public String describe() {
        return host + address.map(a -> " [" + a + "]").orElse("") + ": "
                + outcome.name().toLowerCase(java.util.Locale.ROOT)
                + reported.map(r -> " (" + r.wireName() + ")").orElse("") + ": " + reason;
    }
}
