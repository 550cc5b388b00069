package dev.optls.tls.blocking;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Phase;
import dev.optls.core.Result;
import dev.optls.core.Step;
import dev.optls.core.smtp.MailEnvelope;
import dev.optls.core.smtp.MailOutcome;
import dev.optls.core.smtp.SmtpMailTransaction;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Runs one {@link SmtpMailTransaction} over the socket of a {@link ClientSession} that {@link StartTlsClient} left at
 * a clean command boundary (TLS, or plaintext where the level allowed it), then closes the connection.
 *
 * <pre>{@code
 * try (ClientSession s = client.connect("relay.example.org", 25)) {
 *     MailTransactions.Attempt a = MailTransactions.send(s, MailEnvelope.of(from, to), message, Timeouts.DEFAULT);
 * }
 * }</pre>
 */
public final class MailTransactions {

    private MailTransactions() {}

    /**
     * What became of one transaction: the outcome when the server answered everything that decides it, otherwise
     * the failure (network, time limit, a reply out of step). Exactly one of the two is present.
     *
     * @param outcome delivered, refused or not sent
     * @param failure why the outcome is unknown; RFC 5321 §6.1: a message whose end-of-data reply was lost counts as
     *     not delivered (retrying may deliver it twice, which is the lesser evil)
     */
    public record Attempt(Optional<MailOutcome> outcome, Optional<Failure> failure) {
        /** Exactly one of the two. */
        public Attempt {
            if (outcome.isPresent() == failure.isPresent()) {
                throw new IllegalArgumentException("an attempt has an outcome or a failure, not both or neither");
            }
        }
    }

    /**
     * Sends {@code message} on {@code session}'s connection and closes it. Each reply must arrive within {@code
     * timeouts.reply()} of the last write (RFC 5321 §4.5.3.2 suggests up to 10 minutes for the end-of-data reply of
     * a busy server; pass a longer reply timeout where that matters).
     *
     * @throws IllegalArgumentException when the session has no open connection (it FAILED) or no negotiation
     *     result, or for a message {@link SmtpMailTransaction} refuses
     */
    public static Attempt send(ClientSession session, MailEnvelope envelope, byte[] message, Timeouts timeouts) {
        return send(session, envelope, message, timeouts.reply(), Limits.DEFAULT);
    }

    /** Like {@link #send(ClientSession, MailEnvelope, byte[], Timeouts)} with an explicit reply timeout and limits. */
    public static Attempt send(
            ClientSession session, MailEnvelope envelope, byte[] message, Duration replyTimeout, Limits limits) {
        Objects.requireNonNull(replyTimeout, "replyTimeout");
        if (session.status() == ClientSession.Status.FAILED
                || session.socket().isEmpty()
                || session.result().isEmpty()) {
            throw new IllegalArgumentException(
                    "a mail transaction needs an open session at a command boundary; this one " + session.status()
                            + session.failure().map(f -> ": " + f).orElse(""));
        }
        Result negotiated = session.result().get();
        SmtpMailTransaction transaction = new SmtpMailTransaction(negotiated, envelope, message, limits);
        Socket socket = session.socket().get();
        try {
            Step step = new Wire(socket).drive(transaction, replyTimeout);
            if (step instanceof Step.Completed) {
                return new Attempt(transaction.outcome(), Optional.empty());
            }
            if (step instanceof Step.Failed f) {
                return failed(f.failure());
            }
            throw new IllegalStateException("a mail transaction returned " + step);
        } catch (SocketTimeoutException e) {
            return failed(new Failure(
                    Blame.NETWORK,
                    FailureKind.TIMEOUT,
                    Phase.SESSION,
                    "no complete reply within " + replyTimeout.toMillis() + " ms during the mail transaction;"
                            + " raise the reply timeout if the server is slow",
                    true));
        } catch (IOException e) {
            return failed(new Failure(
                    Blame.NETWORK,
                    FailureKind.UNEXPECTED_EOF,
                    Phase.SESSION,
                    "connection broken during the mail transaction: " + StartTlsClient.message(e),
                    true));
        } finally {
            StartTlsClient.closeQuietly(socket);
        }
    }

    private static Attempt failed(Failure failure) {
        return new Attempt(Optional.empty(), Optional.of(failure));
    }
}
