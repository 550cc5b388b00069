package dev.optls.bench;

import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.Step;
import dev.optls.core.imap.ImapClient;
import dev.optls.core.imap.ImapServer;
import dev.optls.core.pop3.Pop3Client;
import dev.optls.core.pop3.Pop3Server;
import dev.optls.core.smtp.SmtpClient;
import dev.optls.core.smtp.SmtpServer;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the core adds per negotiation: a whole STARTTLS negotiation, client and server, in memory and
 * without TLS (both sides are told the handshake completed). One op is one connection's negotiation on
 * both sides: new client and server, every line each side writes and parses, and a fresh server for the
 * TLS leg, exactly as {@code StartTlsServer.serve} runs it.
 *
 * <ul>
 *   <li>SMTP: greeting, EHLO (10-line reply), STARTTLS, 220, handshake, EHLO again (10-line reply).
 *   <li>IMAP: greeting with {@code [CAPABILITY ...]}, STARTTLS, OK, handshake, CAPABILITY again.
 *   <li>POP3: greeting, CAPA, STLS, +OK, handshake, CAPA again.
 * </ul>
 *
 * {@link #smtpClient()} and {@link #smtpServer()} split {@link #smtp()} by side: each replays to one new
 * negotiation what that side received in a recorded run, and discards what it writes.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class InMemoryNegotiation {
    private final ByteBuffer scratch = ByteBuffer.allocate(8192);
    private InMemory.Recording smtpRecording;

    /**
     * Runs each negotiation once and checks that it upgraded with the expected capabilities; records the
     * SMTP run for the one-sided benchmarks and checks that each side alone follows it.
     */
    @Setup
    public void setUp() {
        smtpRecording = new InMemory.Recording();
        check(
                InMemory.run(
                        new SmtpClient(Protocol.SMTP, Fixtures.CLIENT),
                        new SmtpServer(Protocol.SMTP, Fixtures.SMTP_SERVER),
                        () -> new SmtpServer(Protocol.SMTP, Fixtures.SMTP_SERVER.afterUpgrade()),
                        scratch,
                        smtpRecording),
                "STARTTLS",
                "AUTH");
        if (!(smtpClient() instanceof Step.Completed done) || !done.result().tlsActive()) {
            throw new IllegalStateException("the SMTP client alone did not follow the recording");
        }
        if (!(smtpServer() instanceof Step.NeedInput)) {
            throw new IllegalStateException("the SMTP server alone did not follow the recording");
        }
        check(smtp(), "STARTTLS", "AUTH");
        check(imap(), "STARTTLS", "AUTH=PLAIN");
        check(pop3(), "STLS", "USER");
    }

    private static void check(Result result, String upgradeKeyword, String afterTlsKeyword) {
        if (!result.tlsActive()
                || !result.before().has(upgradeKeyword)
                || result.after().has(upgradeKeyword)
                || !result.after().has(afterTlsKeyword)) {
            throw new IllegalStateException("unexpected negotiation result: " + result);
        }
    }

    /** SMTP STARTTLS (RFC 3207), both sides. */
    @Benchmark
    public Result smtp() {
        return InMemory.run(
                new SmtpClient(Protocol.SMTP, Fixtures.CLIENT),
                new SmtpServer(Protocol.SMTP, Fixtures.SMTP_SERVER),
                () -> new SmtpServer(Protocol.SMTP, Fixtures.SMTP_SERVER.afterUpgrade()),
                scratch);
    }

    /** The client side of {@link #smtp()} alone, fed the server's recorded replies. */
    @Benchmark
    public Step smtpClient() {
        return InMemory.replay(new SmtpClient(Protocol.SMTP, Fixtures.CLIENT), smtpRecording.toClient, null, scratch);
    }

    /** The server side of {@link #smtp()} alone, fed the client's recorded commands. */
    @Benchmark
    public Step smtpServer() {
        return InMemory.replay(
                new SmtpServer(Protocol.SMTP, Fixtures.SMTP_SERVER),
                smtpRecording.toServer,
                () -> new SmtpServer(Protocol.SMTP, Fixtures.SMTP_SERVER.afterUpgrade()),
                scratch);
    }

    /** IMAP STARTTLS (RFC 9051 §6.2.1), both sides. */
    @Benchmark
    public Result imap() {
        return InMemory.run(
                new ImapClient(Fixtures.CLIENT),
                new ImapServer(Fixtures.IMAP_SERVER),
                () -> new ImapServer(Fixtures.IMAP_SERVER.afterUpgrade()),
                scratch);
    }

    /** POP3 STLS (RFC 2595 §4), both sides. */
    @Benchmark
    public Result pop3() {
        return InMemory.run(
                new Pop3Client(Fixtures.CLIENT),
                new Pop3Server(Fixtures.POP3_SERVER),
                () -> new Pop3Server(Fixtures.POP3_SERVER.afterUpgrade()),
                scratch);
    }
}
