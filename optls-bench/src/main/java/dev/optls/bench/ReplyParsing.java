package dev.optls.bench;

import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import dev.optls.core.imap.ImapResponse;
import dev.optls.core.imap.ImapResponseParser;
import dev.optls.core.internal.InputBuffer;
import dev.optls.core.smtp.SmtpClient;
import dev.optls.core.smtp.SmtpReply;
import dev.optls.core.smtp.SmtpReplyReader;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Parsing cost of the replies a client reads during a negotiation.
 *
 * <ul>
 *   <li>{@link #smtpEhloReply}: one 10-line EHLO reply, bytes to {@link SmtpReply}, through the same
 *       {@link InputBuffer} and {@link SmtpReplyReader} the SMTP client uses. One op is one reply, so
 *       replies per second = 10⁹ / (ns/op). This is the honest "replies per second" figure: nothing but
 *       framing, line decoding and reply assembly.
 *   <li>{@link #smtpGreetingAndEhlo}: a new {@link SmtpClient} fed the greeting and the same EHLO reply
 *       until it asks to send STARTTLS: two replies, plus the client's construction, its EHLO and
 *       STARTTLS commands and the capability list. The dialect's cost around the parser.
 *   <li>{@link #imapCapability}: {@code * CAPABILITY ...} and the tagged {@code OK} through {@link
 *       ImapResponseParser}: two responses per op.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class ReplyParsing {
    private static final int MAX_LINE = Limits.DEFAULT.maxLineLength();
    private static final ClientOptions CLIENT = ClientOptions.of(SecurityLevel.MAY);

    private final ByteBuffer greeting = ByteBuffer.wrap(Fixtures.SMTP_GREETING).asReadOnlyBuffer();
    private final ByteBuffer ehlo = ByteBuffer.wrap(Fixtures.SMTP_EHLO_REPLY).asReadOnlyBuffer();
    private final ByteBuffer capability =
            ByteBuffer.wrap(Fixtures.IMAP_CAPABILITY_RESPONSE).asReadOnlyBuffer();
    private final ByteBuffer commands = ByteBuffer.allocate(256);
    private InputBuffer smtpInput;
    private SmtpReplyReader smtpReader;
    private InputBuffer imapInput;
    private ImapResponseParser imapParser;

    /** Fresh parsers; each benchmark is run once and its result checked, so a broken fixture fails fast. */
    @Setup
    public void setUp() {
        smtpInput = new InputBuffer(Limits.DEFAULT.maxBufferedBytes());
        smtpReader = new SmtpReplyReader(Limits.DEFAULT);
        imapInput = new InputBuffer(Limits.DEFAULT.maxBufferedBytes());
        imapParser = new ImapResponseParser(Limits.DEFAULT);
        SmtpReply reply = smtpEhloReply();
        if (reply.code() != 250 || reply.lines().size() != 10) {
            throw new IllegalStateException("EHLO fixture parsed as " + reply);
        }
        if (!(smtpGreetingAndEhlo() instanceof Step.WriteOutput)) {
            throw new IllegalStateException("the SMTP client did not ask to send STARTTLS");
        }
        ImapResponse[] two = imapCapabilityResponses();
        if (!(two[0] instanceof ImapResponse.UntaggedData data && data.name().equals("CAPABILITY"))
                || !(two[1] instanceof ImapResponse.Tagged tagged
                        && tagged.tag().equals("A1"))) {
            throw new IllegalStateException("CAPABILITY fixture parsed as " + two[0] + " / " + two[1]);
        }
    }

    /** Bytes of one 10-line EHLO reply to an {@link SmtpReply}. */
    @Benchmark
    public SmtpReply smtpEhloReply() {
        smtpInput.append(ehlo.rewind());
        while (true) {
            String line = smtpInput.takeLine(MAX_LINE);
            if (line == null) {
                throw new IllegalStateException("EHLO fixture ends without its last line");
            }
            SmtpReply reply = smtpReader.accept(line);
            if (reply != null) {
                return reply;
            }
        }
    }

    /** A new SMTP client reads the greeting and the EHLO reply, and asks to send STARTTLS. */
    @Benchmark
    public Step smtpGreetingAndEhlo() {
        SmtpClient client = new SmtpClient(Protocol.SMTP, CLIENT);
        client.receive(greeting.rewind());
        drain(client.poll(), client);
        client.receive(ehlo.rewind());
        Step step = client.poll();
        commands.clear();
        client.drainOutput(commands);
        return step;
    }

    private void drain(Step step, SmtpClient client) {
        if (!(step instanceof Step.WriteOutput)) {
            throw new IllegalStateException("expected EHLO to be written, got " + step);
        }
        commands.clear();
        client.drainOutput(commands);
    }

    /** {@code * CAPABILITY ...} and {@code A1 OK ...} through the IMAP response parser. */
    @Benchmark
    public void imapCapability(Blackhole bh) {
        imapInput.append(capability.rewind());
        bh.consume(imapParser.next(imapInput));
        bh.consume(imapParser.next(imapInput));
    }

    private ImapResponse[] imapCapabilityResponses() {
        imapInput.append(capability.rewind());
        return new ImapResponse[] {imapParser.next(imapInput), imapParser.next(imapInput)};
    }
}
