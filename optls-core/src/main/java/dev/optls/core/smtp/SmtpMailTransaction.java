package dev.optls.core.smtp;

import dev.optls.core.Capabilities;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Limits;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import dev.optls.core.internal.NegotiationException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One SMTP mail transaction (RFC 5321 §3.3) on a session that an {@link SmtpClient} left at a clean command
 * boundary: {@code MAIL FROM}, {@code RCPT TO} for each recipient, {@code DATA}, the message with dot-stuffing,
 * {@code .}, then {@code QUIT}. Bytes in, steps out, like the negotiations: poll, write what it asks for, feed it
 * what the server sends.
 *
 * <p>Commands are sent one at a time and each waits for its reply (no PIPELINING), so every reply is attributed to
 * its command. The capabilities are those of the last EHLO ({@link Result#after()} after TLS, {@link
 * Result#before()} in plaintext): {@code SIZE=} is declared when the server advertised {@code SIZE} (RFC 1870), and a
 * message larger than the advertised limit is not sent; 8-bit data is sent with {@code BODY=8BITMIME} when the
 * server advertised {@code 8BITMIME} (RFC 6152) and not sent otherwise.
 *
 * <p>It ends with {@link Step.Completed} once the server has answered everything that decides the outcome (the
 * {@code QUIT} reply, or the server closing after QUIT, ends it); {@link #outcome()} then says what happened to the
 * message. Replies that do not parse, that no command can get (a 354 to {@code MAIL}) or a connection closed in the
 * middle of the transaction end it with {@link Step.Failed}; the outcome is then unknown (RFC 5321 §6.1: a message
 * whose end-of-data reply was lost must be treated as not delivered).
 *
 * <p>The message must already use CRLF line ends (RFC 5321 §2.3.8): a bare CR or LF, or a line longer than 998
 * octets (§4.5.3.1.6), is a caller bug and throws. A missing CRLF at the very end is added.
 */
public final class SmtpMailTransaction extends BaseNegotiation {

    /** The longest line of the message, without its CRLF (RFC 5321 §4.5.3.1.6: 1000 octets with it). */
    public static final int MAX_MESSAGE_LINE = 998;

    /** About how many message bytes are queued at once while sending the data. */
    private static final int CHUNK = 16 * 1024;

    private sealed interface State {}

    private record ExpectMailReply() implements State {}

    private record ExpectRcptReply(int index, List<MailOutcome.RecipientResult> results) implements State {}

    private record ExpectDataReply(List<MailOutcome.RecipientResult> results) implements State {}

    private record SendData(int offset, List<MailOutcome.RecipientResult> results) implements State {}

    private record ExpectEndOfDataReply(List<MailOutcome.RecipientResult> results) implements State {}

    private record ExpectQuitReply(MailOutcome outcome) implements State {}

    private record Done(MailOutcome outcome) implements State {}

    private final Result session;
    private final MailEnvelope envelope;
    private final byte[] message;
    private final SmtpReplyReader replies;
    private State state;

    /**
     * A transaction that starts by writing {@code MAIL FROM}.
     *
     * @param session the result of the {@link SmtpClient} negotiation on this connection (its EHLO capabilities
     *     decide {@code SIZE} and {@code BODY}); SMTP or submission, not LMTP (whose per-recipient end-of-data
     *     replies are not handled)
     * @param envelope the reverse-path and recipients
     * @param message the whole message, headers and body, with CRLF line ends; not copied, do not change it
     * @param limits bounds on the replies
     * @throws IllegalArgumentException for LMTP, or a message with a bare CR or LF or an over-long line
     */
    public SmtpMailTransaction(Result session, MailEnvelope envelope, byte[] message, Limits limits) {
        super(checkProtocol(session.protocol()), limits);
        this.session = session;
        this.envelope = Objects.requireNonNull(envelope, "envelope");
        this.message = Objects.requireNonNull(message, "message");
        this.replies = new SmtpReplyReader(limits);
        boolean eightBit = checkMessage(message);
        Capabilities capabilities = session.tlsActive() ? session.after() : session.before();
        long size = declaredSize(message);
        long limit = sizeLimit(capabilities);
        if (limit > 0 && size > limit) {
            // RFC 1870 §6.1: a client SHOULD NOT send a message larger than the server's declared maximum.
            quitWith(new MailOutcome.NotSent("the message has " + size + " octets and the server accepts at most "
                    + limit + " (EHLO SIZE " + limit + ", RFC 1870)"));
            return;
        }
        if (eightBit && !capabilities.has("8BITMIME")) {
            // RFC 6152 §3 / RFC 5321 §2.4: 8-bit data only to a server that advertised 8BITMIME.
            quitWith(new MailOutcome.NotSent("the message contains 8-bit octets and the server does not advertise"
                    + " 8BITMIME (RFC 6152); encode it as 7-bit (base64 or quoted-printable)"));
            return;
        }
        StringBuilder mail =
                new StringBuilder("MAIL FROM:<").append(envelope.from()).append('>');
        if (capabilities.has("SIZE")) {
            // RFC 1870 §3: SIZE=<octets> declares the message size, counted with CRLF, before dot-stuffing.
            mail.append(" SIZE=").append(size);
        }
        if (eightBit) {
            mail.append(" BODY=8BITMIME");
        }
        write(mail.append("\r\n").toString());
        state = new ExpectMailReply();
    }

    private static Protocol checkProtocol(Protocol protocol) {
        if (protocol != Protocol.SMTP && protocol != Protocol.SUBMISSION) {
            throw new IllegalArgumentException("a mail transaction runs on SMTP or submission, not " + protocol
                    + " (LMTP answers the end of the data once per recipient)");
        }
        return protocol;
    }

    /** Checks line ends and lengths; returns whether any octet is 8-bit. */
    private static boolean checkMessage(byte[] m) {
        boolean eightBit = false;
        int lineStart = 0;
        for (int i = 0; i < m.length; i++) {
            byte b = m[i];
            if (b == '\r') {
                if (i + 1 >= m.length || m[i + 1] != '\n') {
                    throw new IllegalArgumentException("the message has a bare CR at offset " + i
                            + "; RFC 5321 §2.3.8 allows CR only before LF (convert line ends to CRLF)");
                }
                if (i - lineStart > MAX_MESSAGE_LINE) {
                    throw lineTooLong(lineStart, i - lineStart);
                }
                i++;
                lineStart = i + 1;
            } else if (b == '\n') {
                throw new IllegalArgumentException("the message has a bare LF at offset " + i
                        + "; RFC 5321 §2.3.8 allows LF only after CR (convert line ends to CRLF)");
            } else if (b < 0) {
                eightBit = true;
            }
        }
        if (m.length - lineStart > MAX_MESSAGE_LINE) {
            throw lineTooLong(lineStart, m.length - lineStart);
        }
        return eightBit;
    }

    private static IllegalArgumentException lineTooLong(int offset, int length) {
        return new IllegalArgumentException("the message line at offset " + offset + " has " + length
                + " octets; RFC 5321 §4.5.3.1.6 allows " + MAX_MESSAGE_LINE + " before CRLF (fold or encode it)");
    }

    private static boolean endsWithCrlf(byte[] m) {
        return m.length >= 2 && m[m.length - 2] == '\r' && m[m.length - 1] == '\n';
    }

    /** RFC 1870 §3: the size in octets with CRLF line ends, without dot-stuffing and the final dot. */
    private static long declaredSize(byte[] m) {
        return m.length + (m.length == 0 || endsWithCrlf(m) ? 0 : 2);
    }

    /** RFC 1870 §4: {@code SIZE [number]}; none, 0 or a bad number means no fixed limit. */
    static long sizeLimit(Capabilities capabilities) {
        Optional<String> size = capabilities.find("SIZE");
        if (size.isEmpty()) {
            return 0;
        }
        String[] parts = size.get().strip().split("\\s+");
        if (parts.length < 2
                || parts[1].isEmpty()
                || parts[1].length() > 18
                || !parts[1].chars().allMatch(c -> c >= '0' && c <= '9')) {
            return 0;
        }
        return Long.parseLong(parts[1]);
    }

    /** What happened to the message, once the transaction has {@link Step.Completed completed}. */
    public Optional<MailOutcome> outcome() {
        return state instanceof Done d ? Optional.of(d.outcome()) : Optional.empty();
    }

    /** The envelope this transaction sends. */
    public MailEnvelope envelope() {
        return envelope;
    }

    @Override
    protected Phase phase() {
        return Phase.SESSION;
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        throw new IllegalStateException("a mail transaction never asks for a TLS handshake");
    }

    @Override
    protected boolean advance() {
        if (state instanceof SendData s) {
            sendChunk(s);
            return true;
        }
        if (state instanceof ExpectQuitReply q) {
            return afterQuit(q.outcome());
        }
        if (state instanceof Done) {
            return false;
        }
        SmtpReply reply = readReply();
        if (reply == null) {
            return false;
        }
        if (reply.code() == 421) {
            // RFC 5321 §3.8: 421 means the server is closing the channel; it will not read a QUIT.
            finish(refusal(reply));
            return true;
        }
        if (state instanceof ExpectMailReply) {
            onMailReply(reply);
        } else if (state instanceof ExpectRcptReply r) {
            onRcptReply(r, reply);
        } else if (state instanceof ExpectDataReply d) {
            onDataReply(d, reply);
        } else if (state instanceof ExpectEndOfDataReply e) {
            onEndOfDataReply(e, reply);
        }
        return true;
    }

    private SmtpReply readReply() {
        while (true) {
            String line = nextLine();
            if (line == null) {
                return null;
            }
            try {
                SmtpReply reply = replies.accept(line);
                if (reply != null) {
                    return reply;
                }
            } catch (SmtpReplyReader.MalformedReplyException e) {
                throw peerFailure(e.kind(), e.getMessage());
            }
        }
    }

    private void onMailReply(SmtpReply reply) {
        if (reply.isPositive()) {
            sendRcpt(0);
            state = new ExpectRcptReply(0, List.of());
        } else if (isNegative(reply)) {
            quitWith(new MailOutcome.Refused(MailOutcome.Stage.MAIL, reply, List.of()));
        } else {
            violation("MAIL FROM", reply);
        }
    }

    private void sendRcpt(int index) {
        write("RCPT TO:<" + envelope.recipients().get(index) + ">\r\n");
    }

    private void onRcptReply(ExpectRcptReply r, SmtpReply reply) {
        if (!reply.isPositive() && !isNegative(reply)) {
            violation("RCPT TO", reply);
            return;
        }
        List<MailOutcome.RecipientResult> results = new ArrayList<>(r.results());
        results.add(new MailOutcome.RecipientResult(envelope.recipients().get(r.index()), reply));
        int next = r.index() + 1;
        if (next < envelope.recipients().size()) {
            sendRcpt(next);
            state = new ExpectRcptReply(next, List.copyOf(results));
            return;
        }
        if (results.stream().noneMatch(MailOutcome.RecipientResult::accepted)) {
            // RFC 5321 §3.3: without an accepted recipient DATA would only earn a 503/554.
            SmtpReply decisive = results.stream()
                    .map(MailOutcome.RecipientResult::reply)
                    .filter(SmtpReply::isTransient)
                    .findFirst()
                    .orElse(results.get(0).reply());
            quitWith(new MailOutcome.Refused(MailOutcome.Stage.RCPT, decisive, results));
            return;
        }
        write("DATA\r\n");
        state = new ExpectDataReply(List.copyOf(results));
    }

    private void onDataReply(ExpectDataReply d, SmtpReply reply) {
        if (reply.code() == 354) {
            // RFC 5321 §4.1.1.4: 354 asks for the mail data, ended by <CRLF>.<CRLF>.
            state = new SendData(0, d.results());
        } else if (isNegative(reply)) {
            quitWith(new MailOutcome.Refused(MailOutcome.Stage.DATA, reply, d.results()));
        } else {
            violation("DATA", reply);
        }
    }

    /** Queues the next lines of the message, dot-stuffed, and the end of data after the last. */
    private void sendChunk(SendData s) {
        ByteBuffer out = ByteBuffer.allocate(CHUNK + MAX_MESSAGE_LINE + 8);
        int i = s.offset();
        while (i < message.length && out.position() < CHUNK) {
            int end = i;
            while (end < message.length && message[end] != '\n') {
                end++;
            }
            int next = Math.min(end + 1, message.length);
            // RFC 5321 §4.5.2: a line that starts with a period gets one more, so that no line of the
            // message can read as the end of the data; the receiver removes it.
            if (message[i] == '.') {
                out.put((byte) '.');
            }
            out.put(message, i, next - i);
            i = next;
        }
        if (i >= message.length) {
            if (message.length > 0 && !endsWithCrlf(message)) {
                // RFC 5321 §4.1.1.4: the data ends with CRLF before the final ".".
                out.put((byte) '\r').put((byte) '\n');
            }
            out.put((byte) '.').put((byte) '\r').put((byte) '\n');
            state = new ExpectEndOfDataReply(s.results());
        } else {
            state = new SendData(i, s.results());
        }
        byte[] chunk = new byte[out.position()];
        out.flip().get(chunk);
        write(chunk);
    }

    private void onEndOfDataReply(ExpectEndOfDataReply e, SmtpReply reply) {
        if (reply.isPositive()) {
            // RFC 5321 §4.1.1.4: 250 after the end of data means the server has taken responsibility.
            quitWith(new MailOutcome.Delivered(e.results(), reply));
        } else if (isNegative(reply)) {
            quitWith(new MailOutcome.Refused(MailOutcome.Stage.END_OF_DATA, reply, e.results()));
        } else {
            violation("the end of the data", reply);
        }
    }

    /** After QUIT the outcome is known: its reply, a close, or even garbage ends the transaction. */
    private boolean afterQuit(MailOutcome outcome) {
        SmtpReply reply;
        try {
            reply = readReply();
        } catch (NegotiationException e) {
            finish(outcome);
            return true;
        }
        if (reply == null && !peerClosed()) {
            return false;
        }
        finish(outcome);
        return true;
    }

    private MailOutcome refusal(SmtpReply reply) {
        if (state instanceof ExpectRcptReply r) {
            List<MailOutcome.RecipientResult> results = new ArrayList<>(r.results());
            results.add(new MailOutcome.RecipientResult(envelope.recipients().get(r.index()), reply));
            return new MailOutcome.Refused(MailOutcome.Stage.RCPT, reply, results);
        } else if (state instanceof ExpectDataReply d) {
            return new MailOutcome.Refused(MailOutcome.Stage.DATA, reply, d.results());
        } else if (state instanceof ExpectEndOfDataReply e) {
            return new MailOutcome.Refused(MailOutcome.Stage.END_OF_DATA, reply, e.results());
        }
        return new MailOutcome.Refused(MailOutcome.Stage.MAIL, reply, List.of());
    }

    private static boolean isNegative(SmtpReply reply) {
        return reply.code() / 100 == 4 || reply.code() / 100 == 5;
    }

    private void quitWith(MailOutcome outcome) {
        // RFC 5321 §4.1.1.10: QUIT asks the server to reply 221 and close.
        write("QUIT\r\n");
        state = new ExpectQuitReply(outcome);
    }

    private void finish(MailOutcome outcome) {
        state = new Done(outcome);
        emit(new Step.Completed(new Result(
                protocol,
                Result.Ending.CLOSED,
                session.tlsActive(),
                session.greeting(),
                session.before(),
                session.after(),
                ByteBuffer.allocate(0))));
    }

    private void violation(String command, SmtpReply reply) {
        write("QUIT\r\n");
        failNow(Failure.peer(
                FailureKind.PROTOCOL_VIOLATION,
                Phase.SESSION,
                "unexpected reply to " + command + ": " + reply + "; the session is no longer in step, closing"));
    }
}
