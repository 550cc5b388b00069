package dev.optls.policy.client;

import dev.optls.policy.engine.MxPlan;
import dev.optls.tls.blocking.ClientSession;
import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What {@link PolicyClient#connect} produced: an open session on the first host that met its requirement, or
 * "deferred" with every host's reason.
 */
public sealed interface DeliveryAttempt extends Closeable permits DeliveryAttempt.Connected, DeliveryAttempt.Deferred {

    /** Every step, in order: sessions with each address tried and hosts skipped. */
    List<HostAttempt> attempts();

    /**
     * A session that met its host's requirement, open at a clean command boundary after the EHLO that followed
     * STARTTLS (or after the plaintext EHLO where the plan allowed plaintext): ready for MAIL FROM. The caller owns
     * it and closes it.
     *
     * @param host the plan of the host connected to
     * @param address the address connected to
     * @param session the open session ({@link ClientSession.Status#TLS}, or {@code PLAINTEXT} under opportunistic
     *     TLS)
     * @param attempts every step, this one last
     */
    record Connected(MxPlan host, String address, ClientSession session, List<HostAttempt> attempts)
            implements DeliveryAttempt {
        /** Copies the steps. */
        public Connected {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(session, "session");
            attempts = List.copyOf(attempts);
        }

        /** Whether the session is protected by TLS. */
        public boolean tls() {
            return session.status() == ClientSession.Status.TLS;
        }

        /** Closes the session. */
        @Override
        public void close() throws IOException {
            session.close();
        }
    }

    /**
     * No host met its requirement (or none may be used): keep the message queued and try again later (RFC 5321
     * §4.5.4.1; RFC 7672 §2.2 and RFC 8461 §4.2 never fall back to an unauthenticated or plaintext session).
     *
     * @param reason why, in a sentence
     * @param attempts every step, with each host's reason
     */
    record Deferred(String reason, List<HostAttempt> attempts) implements DeliveryAttempt {
        /** Copies the steps. */
        public Deferred {
            Objects.requireNonNull(reason, "reason");
            attempts = List.copyOf(attempts);
        }

        /** The reason followed by every step, one per line. */
        public String describe() {
            return reason + attempts.stream().map(a -> "\n  " + a.describe()).collect(Collectors.joining());
        }

        /** Nothing to close. */
        @Override
        public void close() {}
    }
}
