package dev.optls.policy.client;

import dev.optls.core.smtp.MailOutcome;
import dev.optls.tls.blocking.MailTransactions;
import java.util.Objects;
import java.util.Optional;

/**
 * What became of one message sent under a delivery plan ({@link PolicyClient#deliver}): the connection step (which
 * host met its requirement, or why none did) and, when a session was open, the mail transaction on it.
 *
 * @param connection the connection step; {@link DeliveryAttempt.Deferred} means no transaction was tried
 * @param transaction the transaction on the connected session, when there was one
 */
public record MailDelivery(DeliveryAttempt connection, Optional<MailTransactions.Attempt> transaction) {

    /** Requires a transaction exactly when a session was connected. */
    public MailDelivery {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(transaction, "transaction");
        if ((connection instanceof DeliveryAttempt.Connected) != transaction.isPresent()) {
            throw new IllegalArgumentException("a transaction belongs to a connected session, and only there");
        }
    }

    /** Whether the server took the message for at least one recipient. */
    public boolean delivered() {
        return transaction
                .flatMap(MailTransactions.Attempt::outcome)
                .filter(MailOutcome.Delivered.class::isInstance)
                .map(o -> !((MailOutcome.Delivered) o).accepted().isEmpty())
                .orElse(false);
    }
}
