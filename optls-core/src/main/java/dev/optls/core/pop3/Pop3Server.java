package dev.optls.core.pop3;

import dev.optls.core.Blame;
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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * The server side of a POP3 session up to and including {@code STLS} (RFC 1939, RFC 2449 CAPA,
 * RFC 2595 §4). It answers {@code CAPA}, {@code STLS} and {@code QUIT} itself and delivers every other
 * known command ({@code USER}, {@code PASS}, {@code RETR}, ...) to the application, which answers with
 * {@link #respond(String)} (a complete, possibly multi-line, dot-stuffed reply) or takes the connection
 * over with {@link #handOver()} (needed for SASL exchanges with {@code +} continuations).
 *
 * <p>After {@link Step.BeginHandshake} and the handshake, it completes with {@link
 * Result.Ending#UPGRADED}; the application continues with a new {@code Pop3Server} built from {@link
 * ServerOptions#afterUpgrade()}, which is how the session starts afresh over TLS.
 *
 * <p>While {@link ServerOptions#tlsRequired()} holds and TLS is not active, {@code USER}, {@code
 * PASS}, {@code APOP} and {@code AUTH} are refused without checking any credential, and CAPA lists
 * neither {@code USER} nor {@code SASL}.
 *
 * <p>Commands are checked against the state: {@code USER PASS APOP AUTH UTF8} only in AUTHORIZATION,
 * {@code STAT LIST RETR DELE NOOP RSET TOP UIDL} only in TRANSACTION (RFC 1939 §4–6). Unknown verbs
 * and commands in the wrong state get {@code -ERR} from the dialect and count towards {@link
 * dev.optls.core.Limits#maxErrors()}; an application with its own extensions must take the
 * connection over before it sees them.
 */
public final class Pop3Server extends BaseNegotiation {
    /** Commands the dialect hands to the application (RFC 1939 §4–7, RFC 5034, RFC 6856). */
    private static final Set<String> AUTHORIZATION_COMMANDS = Set.of("USER", "PASS", "APOP", "AUTH", "UTF8");

    private static final Set<String> TRANSACTION_COMMANDS =
            Set.of("STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "TOP", "UIDL");

    /** Commands that carry credentials; refused before TLS when TLS is required. */
    private static final Set<String> CREDENTIAL_COMMANDS = Set.of("USER", "PASS", "APOP", "AUTH");

    private final ServerOptions options;
    private State state;

    /** A server negotiation; writes the greeting at once when {@link ServerOptions#greet()}. */
    public Pop3Server(ServerOptions options) {
        super(Protocol.POP3, options.limits());
        this.options = options;
        if (options.greet()) {
            // RFC 1939 §4: "Once the TCP connection has been opened ... the POP3 server issues a
            // one line greeting" starting with +OK.
            write("+OK " + options.greeting() + "\r\n");
        }
        state = new Authorization(0);
    }

    private sealed interface State {}

    /** RFC 1939 §4: the AUTHORIZATION state; {@code errors} counts bad commands so far. */
    private record Authorization(int errors) implements State {}

    /** RFC 1939 §5: the TRANSACTION state, entered when the application accepted credentials. */
    private record Transaction(int errors) implements State {}

    /** A command was delivered; the application's answer decides the next state. */
    private record AwaitAnswer(Command command, State resume) implements State {}

    private record AwaitHandshake() implements State {}

    private record Done() implements State {}

    @Override
    protected Phase phase() {
        return state instanceof AwaitHandshake ? Phase.HANDSHAKE : Phase.SESSION;
    }

    @Override
    protected boolean advance() {
        int errors;
        if (state instanceof Authorization a) {
            errors = a.errors();
        } else if (state instanceof Transaction t) {
            errors = t.errors();
        } else {
            return false;
        }
        byte[] raw = in.takeRawLine(limits.maxLineLength());
        if (raw == null) {
            return false;
        }
        String line = stripLineEnd(raw);
        int sp = line.indexOf(' ');
        String verb = (sp < 0 ? line : line.substring(0, sp)).toUpperCase(Locale.ROOT);
        String args = sp < 0 ? "" : line.substring(sp + 1);
        boolean authorization = state instanceof Authorization;
        switch (verb) {
            case "CAPA" -> {
                if (!args.isEmpty()) {
                    return error(errors, "-ERR CAPA takes no arguments");
                }
                write(capaReply());
            }
            case "STLS" -> {
                return stls(errors, args, authorization);
            }
            case "QUIT" -> {
                // RFC 1939 §6: QUIT in AUTHORIZATION ends the session without an UPDATE state;
                // QUIT in TRANSACTION belongs to the application (it must delete marked messages).
                if (!authorization) {
                    return deliverCommand(verb, args, line, raw, errors);
                }
                write("+OK Bye\r\n");
                emit(new Step.Completed(sessionResult(options, Result.Ending.CLOSED, ByteBuffer.allocate(0))));
                state = new Done();
            }
            default -> {
                if (authorization && AUTHORIZATION_COMMANDS.contains(verb)
                        || !authorization && TRANSACTION_COMMANDS.contains(verb)) {
                    if (CREDENTIAL_COMMANDS.contains(verb) && options.tlsRequired() && !options.tlsActive()) {
                        // RFC 2595 §4 / security.md §5 B.21: no credential is checked in plaintext when
                        // TLS is required. Wording and [AUTH] code as Dovecot (obs.).
                        return error(
                                errors,
                                "-ERR [AUTH] Plaintext authentication disallowed without TLS; issue STLS first");
                    }
                    return deliverCommand(verb, args, line, raw, errors);
                }
                if (AUTHORIZATION_COMMANDS.contains(verb) || TRANSACTION_COMMANDS.contains(verb)) {
                    return error(
                            errors,
                            "-ERR " + verb + " is not valid in the " + (authorization ? "AUTHORIZATION" : "TRANSACTION")
                                    + " state");
                }
                // RFC 1939 §3: unknown commands get -ERR.
                return error(errors, "-ERR Unknown command");
            }
        }
        return true;
    }

    private boolean stls(int errors, String args, boolean authorization) {
        if (!args.isEmpty()) {
            // RFC 2595 §4: STLS has no arguments.
            return error(errors, "-ERR STLS takes no arguments");
        }
        if (options.tlsActive()) {
            // RFC 2595 §4 example: "-ERR Command not permitted when TLS active".
            return error(errors, "-ERR Command not permitted when TLS active");
        }
        if (!options.tlsAvailable()) {
            return error(errors, "-ERR STLS not available");
        }
        if (!authorization) {
            // RFC 2595 §4: "The STLS command is only permitted in AUTHORIZATION state".
            return error(errors, "-ERR STLS not permitted after authentication");
        }
        // RFC 2595 §4 / CVE-2011-0411: everything after the STLS line goes to TLS unparsed.
        state = new AwaitHandshake();
        beginServerHandshake("+OK Begin TLS negotiation\r\n");
        return true;
    }

    private boolean deliverCommand(String verb, String args, String line, byte[] raw, int errors) {
        Command command = new Command("", verb, args, line, options.tlsActive());
        state = new AwaitAnswer(
                command, state instanceof Transaction ? new Transaction(errors) : new Authorization(errors));
        deliver(command, raw);
        return true;
    }

    private boolean error(int errors, String reply) {
        int count = errors + 1;
        if (count > limits.maxErrors()) {
            write("-ERR Too many errors\r\n");
            failNow(Failure.peer(
                    FailureKind.TOO_MANY_ERRORS,
                    Phase.SESSION,
                    "the client sent " + count + " bad commands (limit " + limits.maxErrors() + ")"));
            state = new Done();
            return true;
        }
        write(reply + "\r\n");
        state = state instanceof Transaction ? new Transaction(count) : new Authorization(count);
        return true;
    }

    private String capaReply() {
        Capabilities advertised = options.advertised().without("STLS");
        if (options.tlsRequired() && !options.tlsActive()) {
            // RFC 2449 §5: CAPA lists what is available in the current state. Login is refused until
            // TLS, so USER and SASL are not listed before it (as Dovecot with plaintext auth disabled).
            advertised = advertised.without("USER").without("SASL");
        }
        if (options.upgradeOffered()) {
            // RFC 2595 §4: STLS is listed only while TLS is available and not yet active.
            advertised = advertised.with("STLS");
        }
        return "+OK Capability list follows\r\n" + Pop3MultiLine.encode(advertised.entries());
    }

    @Override
    protected void onResponded(String reply) {
        if (!(state instanceof AwaitAnswer waiting)) {
            throw new IllegalStateException("respond() without a delivered command");
        }
        if (reply.startsWith("+ ") || reply.equals("+") || reply.startsWith("+\r")) {
            state = new Done();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.PROTOCOL_VIOLATION,
                    Phase.SESSION,
                    "the application answered with a SASL continuation through respond()",
                    false));
            throw new IllegalStateException("a \"+ \" continuation cannot be sent through respond(): call"
                    + " handOver() for AUTH and run the SASL exchange on the connection yourself");
        }
        if (!reply.startsWith("+OK") && !reply.startsWith("-ERR")) {
            state = new Done();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.PROTOCOL_VIOLATION,
                    Phase.SESSION,
                    "the application answered with a line that is not a POP3 status line",
                    false));
            throw new IllegalStateException(
                    "a POP3 reply starts with +OK or -ERR, was: " + Pop3Client.abbreviate(reply));
        }
        String verb = waiting.command().verb();
        if (reply.startsWith("+OK") && (verb.equals("PASS") || verb.equals("APOP") || verb.equals("AUTH"))) {
            // RFC 1939 §4: a successful PASS/APOP (or AUTH, RFC 5034) enters the TRANSACTION state.
            int errors = waiting.resume() instanceof Authorization a ? a.errors() : 0;
            state = new Transaction(errors);
        } else if (reply.startsWith("+OK") && verb.equals("QUIT")) {
            // RFC 1939 §6: QUIT in TRANSACTION moves to UPDATE and closes.
            state = new Done();
            emit(new Step.Completed(sessionResult(options, Result.Ending.CLOSED, ByteBuffer.allocate(0))));
        } else {
            state = waiting.resume();
        }
    }

    @Override
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        state = new Done();
        return sessionResult(options, Result.Ending.HANDED_OVER, remaining);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        state = new Done();
        // RFC 2595 §4: the session restarts over TLS in AUTHORIZATION state; the application does that
        // with a new Pop3Server built from options.afterUpgrade().
        emit(new Step.Completed(upgradedResult(options)));
    }

    private static String stripLineEnd(byte[] raw) {
        int end = raw.length - 1;
        if (end > 0 && raw[end - 1] == '\r') {
            end--;
        }
        return new String(raw, 0, end, StandardCharsets.UTF_8);
    }
}
