package dev.optls.core.smtp;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import dev.optls.core.internal.InputBuffer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Server side of SMTP, submission and LMTP STARTTLS (RFC 3207, RFC 5321, RFC 2033).
 *
 * <p>Owns the greeting, EHLO/HELO (LHLO for LMTP), STARTTLS and QUIT, and the "TLS required" gate;
 * hands every other command to the application as {@link Step.Deliver}. After the handshake it
 * completes with {@link Result.Ending#UPGRADED}: the application continues on the TLS connection with a
 * new {@code SmtpServer} built from {@link ServerOptions#afterUpgrade()}, which starts from a clean state
 * (RFC 3207 §4.2).
 */
public final class SmtpServer extends BaseNegotiation {

    private sealed interface State {}

    /** No EHLO/HELO/LHLO yet. */
    private record ExpectHello() implements State {}

    /** After EHLO/HELO/LHLO, outside a mail transaction. */
    private record Ready(String clientName) implements State {}

    /** MAIL was accepted: STARTTLS is refused until the transaction ends (RFC 3207 §4). */
    private record InTransaction(String clientName) implements State {}

    /** A command was delivered to the application and awaits its answer. */
    private record AwaitAnswer(Command command, State resume) implements State {}

    /** The go-ahead was sent; TLS is next. */
    private record Upgrading() implements State {}

    // RFC 3207 §4: while TLS is required, everything but these gets 530.
    private static final Set<String> ALLOWED_BEFORE_TLS = Set.of("NOOP", "EHLO", "LHLO", "STARTTLS", "QUIT");
    // ALPACA (security.md §3): a browser talking to a mail port; Postfix's smtpd_forbidden_commands.
    private static final Set<String> HTTP_VERBS = Set.of("GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS");

    private final ServerOptions options;
    // Options are fixed for the life of a negotiation, so the EHLO/LHLO reply is too.
    private final String helloReply;
    private State state;
    private int errors;

    /**
     * A server for {@link Protocol#SMTP}, {@link Protocol#SUBMISSION} or {@link Protocol#LMTP}.
     *
     * @throws IllegalArgumentException for other protocols
     */
    public SmtpServer(Protocol protocol, ServerOptions options) {
        super(SmtpClient.checkProtocol(protocol), options.limits());
        this.options = options;
        this.helloReply = helloReply(options.hostname(), advertised().entries());
        this.state = new ExpectHello();
        if (options.greet()) {
            // RFC 5321 §4.2: 220 <domain> <text>; RFC 2033 §4.1 for LMTP.
            write("220 " + options.hostname() + " " + (protocol == Protocol.LMTP ? "LMTP " : "ESMTP ")
                    + options.greeting() + "\r\n");
        }
    }

    @Override
    protected Phase phase() {
        if (state instanceof ExpectHello) {
            return Phase.GREETING;
        } else if (state instanceof Upgrading) {
            return Phase.HANDSHAKE;
        }
        return options.tlsActive() ? Phase.SESSION : Phase.CAPABILITIES;
    }

    @Override
    protected boolean advance() {
        if (state instanceof AwaitAnswer || state instanceof Upgrading) {
            return false;
        }
        byte[] raw = in.takeRawLine(limits.maxLineLength());
        if (raw == null) {
            return false;
        }
        String line = InputBuffer.decodeLine(raw);
        int sp = line.indexOf(' ');
        String verb = (sp < 0 ? line : line.substring(0, sp)).toUpperCase(Locale.ROOT);
        String args = sp < 0 ? "" : line.substring(sp + 1).strip();
        if (verb.isEmpty() || !verb.chars().allMatch(c -> c >= 'A' && c <= 'Z')) {
            error("500 5.5.2 Error: bad syntax");
            return true;
        }
        if (HTTP_VERBS.contains(verb) && sp > 0) {
            write("221 2.7.0 Error: I can break rules, too. Goodbye.\r\n");
            failNow(Failure.peer(FailureKind.PROTOCOL_VIOLATION, phase(), "HTTP request on a mail port: " + verb));
            return true;
        }
        String helloVerb = protocol == Protocol.LMTP ? "LHLO" : "EHLO";
        if (verb.equals(helloVerb) || (verb.equals("HELO") && protocol != Protocol.LMTP)) {
            hello(verb, args);
        } else if (verb.equals("STARTTLS")) {
            startTls(args);
        } else if (verb.equals("QUIT")) {
            write("221 2.0.0 Bye\r\n");
            emit(new Step.Completed(result(Result.Ending.CLOSED, ByteBuffer.allocate(0))));
        } else if (options.tlsRequired() && !options.tlsActive() && !ALLOWED_BEFORE_TLS.contains(verb)) {
            // RFC 3207 §4: a server that requires TLS answers other commands with 530 until STARTTLS.
            error("530 5.7.0 Must issue a STARTTLS command first");
        } else {
            Command command = new Command("", verb, args, line, options.tlsActive());
            state = new AwaitAnswer(command, state);
            deliver(command, raw);
        }
        return true;
    }

    private void hello(String verb, String args) {
        if (args.isEmpty()) {
            error("501 5.5.4 Syntax: " + verb + " hostname");
            return;
        }
        if (verb.equals("HELO")) {
            // RFC 5321 §4.1.1.1: HELO has no extensions, so no STARTTLS either.
            write("250 " + options.hostname() + "\r\n");
        } else {
            write(helloReply);
        }
        // RFC 5321 §4.1.4: EHLO/HELO also resets any transaction in progress.
        state = new Ready(args);
    }

    /** RFC 5321 §4.1.1.1: the first line names the server, each later line is one keyword. */
    private static String helloReply(String hostname, List<String> keywords) {
        StringBuilder reply = new StringBuilder();
        reply.append("250")
                .append(keywords.isEmpty() ? ' ' : '-')
                .append(hostname)
                .append("\r\n");
        for (int i = 0; i < keywords.size(); i++) {
            reply.append("250").append(i == keywords.size() - 1 ? ' ' : '-').append(keywords.get(i));
            reply.append("\r\n");
        }
        return reply.toString();
    }

    /** What EHLO lists now: STARTTLS only while it can be used, AUTH only where TLS is not required. */
    private Capabilities advertised() {
        Capabilities caps = options.advertised().without("STARTTLS");
        if (options.tlsRequired() && !options.tlsActive()) {
            // RFC 3207 §4 / security.md §5 B.21: no AUTH before TLS when TLS is required.
            caps = caps.without("AUTH");
        }
        // RFC 3207 §4.2: a server MUST NOT return the STARTTLS extension after the TLS handshake.
        return options.upgradeOffered() ? caps.with("STARTTLS") : caps;
    }

    private void startTls(String args) {
        if (!args.isEmpty()) {
            // RFC 3207 §4: STARTTLS takes no parameters; 501 Syntax error (no parameters allowed).
            error("501 5.5.4 Syntax error (no parameters allowed)");
        } else if (options.tlsActive()) {
            error("554 5.5.1 Error: TLS already active");
        } else if (!options.tlsAvailable()) {
            error("502 5.5.1 Error: command not implemented");
        } else if (state instanceof InTransaction) {
            error("503 5.5.1 Error: MAIL transaction in progress");
        } else {
            state = new Upgrading();
            // RFC 3207 §4.2 / CVE-2011-0411: bytes after STARTTLS\r\n go to TLS, never to the parser.
            beginServerHandshake("220 2.0.0 Ready to start TLS\r\n");
        }
    }

    private void error(String reply) {
        write(reply + "\r\n");
        countError();
    }

    private void countError() {
        errors++;
        if (errors >= limits.maxErrors()) {
            write("421 4.7.0 " + options.hostname() + " Error: too many errors\r\n");
            failNow(Failure.peer(FailureKind.TOO_MANY_ERRORS, phase(), errors + " bad commands; closing"));
        }
    }

    @Override
    protected void onResponded(String reply) {
        if (!(state instanceof AwaitAnswer answered)) {
            throw new IllegalStateException("no command awaits an answer");
        }
        int code = replyCode(reply);
        if (code / 100 == 3) {
            throw new IllegalStateException("a " + code + " reply starts a phase the negotiation cannot carry"
                    + " (DATA, AUTH): use handOver() and continue on the connection yourself");
        }
        String verb = answered.command().verb();
        State resume = answered.resume();
        String name =
                resume instanceof Ready r ? r.clientName() : resume instanceof InTransaction t ? t.clientName() : null;
        if (code / 100 == 2 && verb.equals("MAIL") && name != null) {
            state = new InTransaction(name);
        } else if (code / 100 == 2 && verb.equals("RSET") && name != null) {
            state = new Ready(name);
        } else {
            state = resume;
        }
        if (code / 100 == 5) {
            countError();
        }
    }

    private static int replyCode(String reply) {
        if (reply.length() < 3
                || !Character.isDigit(reply.charAt(0))
                || !Character.isDigit(reply.charAt(1))
                || !Character.isDigit(reply.charAt(2))) {
            throw new IllegalArgumentException("an SMTP reply starts with a three-digit code: " + reply);
        }
        return Integer.parseInt(reply.substring(0, 3));
    }

    @Override
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        return result(Result.Ending.HANDED_OVER, remaining);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        // RFC 3207 §4.2: the server MUST discard knowledge obtained from the client before TLS (the EHLO
        // argument among it). This negotiation ends here; the application continues with a new SmtpServer
        // built from options.afterUpgrade(), which knows nothing of the plaintext session.
        emit(new Step.Completed(upgradedResult(options)));
    }

    @Override
    protected String farewell(Failure failure) {
        return "421 4.7.0 " + options.hostname() + " Error: " + failure.detail() + "\r\n";
    }

    private Result result(Result.Ending ending, ByteBuffer remaining) {
        return new Result(
                protocol, ending, options.tlsActive(), options.greeting(), advertised(), Capabilities.NONE, remaining);
    }
}
