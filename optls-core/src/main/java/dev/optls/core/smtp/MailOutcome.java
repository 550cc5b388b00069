package dev.optls.core.smtp;

import java.util.List;
import java.util.Objects;

/**
 * How an {@link SmtpMailTransaction} ended when the server answered every command: the message was delivered to
 * some recipients, the server refused it at some step, or it was not sent because the server had said up front
 * that it could not take it.
 */
public sealed interface MailOutcome permits MailOutcome.Delivered, MailOutcome.Refused, MailOutcome.NotSent {

    /** Whether the server took responsibility for the message for at least one recipient. */
    default boolean delivered() {
        return this instanceof Delivered;
    }

    /** The server's answer to one {@code RCPT TO}. */
    record RecipientResult(String recipient, SmtpReply reply) {
        /** Requires both. */
        public RecipientResult {
            Objects.requireNonNull(recipient, "recipient");
            Objects.requireNonNull(reply, "reply");
        }

        /** RFC 5321 §4.1.1.3: 250 or 251 (any 2yz) accepts the recipient. */
        public boolean accepted() {
            return reply.isPositive();
        }
    }

    /**
     * The end of the data was answered with 2yz (RFC 5321 §4.1.1.4): the server took the message for the accepted
     * recipients; the others were refused at {@code RCPT TO}.
     *
     * @param recipients the answer to each {@code RCPT TO}, in envelope order
     * @param reply the answer to the end of the data ({@code 250 2.0.0 Ok: queued as …})
     */
    record Delivered(List<RecipientResult> recipients, SmtpReply reply) implements MailOutcome {
        /** Copies the list. */
        public Delivered {
            recipients = List.copyOf(recipients);
            Objects.requireNonNull(reply, "reply");
        }

        /** The recipients the message was delivered to. */
        public List<String> accepted() {
            return recipients.stream()
                    .filter(RecipientResult::accepted)
                    .map(RecipientResult::recipient)
                    .toList();
        }

        /** The recipients refused at {@code RCPT TO}, with the server's answer. */
        public List<RecipientResult> refused() {
            return recipients.stream().filter(r -> !r.accepted()).toList();
        }
    }

    /** The step of the transaction at which a server refused the message. */
    enum Stage {
        /** {@code MAIL FROM} was refused. */
        MAIL,
        /** Every {@code RCPT TO} was refused; no data was sent. */
        RCPT,
        /** {@code DATA} was refused (no 354). */
        DATA,
        /** The message was sent and refused at its end ({@code <CRLF>.<CRLF>}). */
        END_OF_DATA
    }

    /**
     * The server refused the message with a 4yz or 5yz reply.
     *
     * @param stage where
     * @param reply the refusing reply; at {@link Stage#RCPT} a temporary refusal if any recipient got one (a retry
     *     may succeed), otherwise the first
     * @param recipients the answers to {@code RCPT TO} so far (empty at {@link Stage#MAIL})
     */
    record Refused(Stage stage, SmtpReply reply, List<RecipientResult> recipients) implements MailOutcome {
        /** Copies the list. */
        public Refused {
            Objects.requireNonNull(stage, "stage");
            Objects.requireNonNull(reply, "reply");
            recipients = List.copyOf(recipients);
        }

        /** RFC 5321 §4.2.1: 5yz, do not retry the same transaction. */
        public boolean permanent() {
            return reply.code() / 100 == 5;
        }

        /** RFC 5321 §4.2.1: 4yz, a later retry may succeed (421 also means the server is closing). */
        public boolean temporary() {
            return reply.isTransient();
        }
    }

    /**
     * Not sent: the server's EHLO reply said it cannot take this message (RFC 1870 {@code SIZE} too small, 8-bit
     * data without {@code 8BITMIME}). Sending it would only earn a refusal; a retry at the same server will not
     * help.
     *
     * @param reason what the server advertised and what the message needs
     */
    record NotSent(String reason) implements MailOutcome {
        /** Requires a reason. */
        public NotSent {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
