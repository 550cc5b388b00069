package dev.optls.core.irc;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The server side of an IRC connection up to and including {@code STARTTLS} (IRCv3 {@code tls}
 * extension). It greets nothing, answers {@code CAP LS [302]} itself (the application's capabilities
 * plus {@code tls} while the upgrade is offered), {@code STARTTLS} ({@code 670} or {@code 691}) and
 * {@code QUIT} ({@code ERROR :Closing link}), and delivers every other message ({@code NICK}, {@code
 * USER}, {@code PING}, {@code CAP REQ}, {@code CAP END}, ...) to the application, which answers with
 * {@link #respond(String)} (zero or more complete IRC lines) or takes the connection over with {@link
 * #handOver()}.
 *
 * <p>STARTTLS must precede registration: once both {@code NICK} and {@code USER} were delivered and
 * answered, STARTTLS gets {@code 691}. While {@link ServerOptions#tlsRequired()} holds and TLS is not
 * active, {@code PASS}, {@code AUTHENTICATE} and {@code OPER} are refused with an IRCv3 standard reply
 * ({@code FAIL <command> TLS_REQUIRED}) without checking any credential.
 *
 * <p>After {@link Step.BeginHandshake} and the handshake it completes with {@link
 * Result.Ending#UPGRADED}; the application continues with a new {@code IrcServer} built from {@link
 * ServerOptions#afterUpgrade()}.
 */
public final class IrcServer extends BaseNegotiation {
    /** Commands that carry credentials; refused before TLS when TLS is required. */
    private static final Set<String> CREDENTIAL_COMMANDS = Set.of("PASS", "AUTHENTICATE", "OPER");

    /** Room for the capabilities in one CAP LS line: 512 minus prefix, command and CR LF, with margin. */
    private static final int CAP_LINE_ROOM = 400;

    private final ServerOptions options;
    private State state;

    /** A server negotiation; it writes nothing until the client speaks. */
    public IrcServer(ServerOptions options) {
        super(Protocol.IRC, options.limits());
        this.options = options;
        state = new Unregistered(0, false, false);
    }

    private sealed interface State {}

    /** Before registration; {@code nick}/{@code user}: NICK / USER were answered by the application. */
    private record Unregistered(int errors, boolean nick, boolean user) implements State {}

    /** NICK and USER both answered: STARTTLS is no longer possible. */
    private record Registered(int errors) implements State {}

    /** A message was delivered; the application's answer decides the next state. */
    private record AwaitAnswer(Command command, State resume) implements State {}

    private record AwaitHandshake() implements State {}

    private record Done() implements State {}

    @Override
    protected Phase phase() {
        return state instanceof AwaitHandshake ? Phase.HANDSHAKE : Phase.SESSION;
    }

    @Override
    protected String farewell(Failure failure) {
        return "ERROR :Closing link (line too long)\r\n";
    }

    @Override
    protected boolean advance() {
        int errors;
        if (state instanceof Unregistered u) {
            errors = u.errors();
        } else if (state instanceof Registered r) {
            errors = r.errors();
        } else {
            return false;
        }
        byte[] raw = in.takeRawLine(Math.min(limits.maxLineLength(), IrcMessage.MAX_LINE));
        if (raw == null) {
            return false;
        }
        String line = InputBuffer.decodeLine(raw);
        IrcMessage.Parsed parsed = IrcMessage.parse(line, raw.length);
        if (parsed.problem() == IrcMessage.Problem.TOO_LONG) {
            write("ERROR :Closing link (line too long)\r\n");
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED,
                    "the client sent a line longer than IRC allows (512 bytes, 8191 more for tags)");
        }
        if (parsed.problem() != null) {
            return error(errors, ":" + options.hostname() + " 421 * * :Malformed message");
        }
        IrcMessage m = parsed.message();
        if (m == null) {
            return true; // RFC 1459 §2.3.1: empty messages are silently ignored.
        }
        switch (m.command()) {
            case "CAP" -> {
                if (m.param(0).equalsIgnoreCase("LS")) {
                    write(capLs());
                    return true;
                }
                return deliverMessage(m, line, raw, errors);
            }
            case "STARTTLS" -> {
                return starttls(errors, m);
            }
            case "QUIT" -> {
                // RFC 1459 §4.1.6: the server acknowledges QUIT with ERROR and closes the link.
                write("ERROR :Closing link\r\n");
                emit(new Step.Completed(sessionResult(options, Result.Ending.CLOSED, ByteBuffer.allocate(0))));
                state = new Done();
                return true;
            }
            default -> {
                if (CREDENTIAL_COMMANDS.contains(m.command()) && options.tlsRequired() && !options.tlsActive()) {
                    // security.md §5: no credential is checked in plaintext when TLS is required.
                    return error(errors, "FAIL " + m.command() + " TLS_REQUIRED :Issue STARTTLS first");
                }
                return deliverMessage(m, line, raw, errors);
            }
        }
    }

    private boolean starttls(int errors, IrcMessage m) {
        String host = ":" + options.hostname();
        if (!m.params().isEmpty()) {
            // IRCv3 tls: STARTTLS has no parameters; the only error numeric is 691.
            return error(errors, host + " 691 * :STARTTLS failed (STARTTLS takes no parameters)");
        }
        if (options.tlsActive()) {
            return error(errors, host + " 691 * :STARTTLS failed (already using TLS)");
        }
        if (!options.tlsAvailable()) {
            // protocols.md §7.2: servers without the extension answer 421 Unknown command.
            return error(errors, host + " 421 * STARTTLS :Unknown command");
        }
        if (state instanceof Registered) {
            // IRCv3 tls: STARTTLS must precede registration.
            return error(errors, host + " 691 * :STARTTLS failed (already registered)");
        }
        // IRCv3 tls / CVE-2011-0411: everything after the STARTTLS line goes to TLS unparsed.
        state = new AwaitHandshake();
        beginServerHandshake(host + " 670 * :STARTTLS successful, go ahead with TLS handshake\r\n");
        return true;
    }

    private String capLs() {
        List<String> caps = new ArrayList<>(options.advertised().without("tls").entries());
        if (options.upgradeOffered()) {
            // IRCv3 tls: listed only while TLS is available and not yet active.
            caps.add("tls");
        }
        // IRCv3 CAP LS 302: long lists are split, every line but the last carrying "*".
        String head = ":" + options.hostname() + " CAP * LS ";
        List<String> lines = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String cap : caps) {
            if (current.length() > 0 && current.length() + 1 + cap.length() > CAP_LINE_ROOM) {
                lines.add(current.toString());
                current.setLength(0);
            }
            if (current.length() > 0) {
                current.append(' ');
            }
            current.append(cap);
        }
        lines.add(current.toString());
        StringBuilder reply = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            reply.append(head)
                    .append(i < lines.size() - 1 ? "* :" : ":")
                    .append(lines.get(i))
                    .append("\r\n");
        }
        return reply.toString();
    }

    private boolean deliverMessage(IrcMessage m, String line, byte[] raw, int errors) {
        String args = String.join(" ", m.params());
        Command command = new Command("", m.command(), args, line, options.tlsActive());
        State resume =
                state instanceof Unregistered u ? new Unregistered(errors, u.nick(), u.user()) : new Registered(errors);
        state = new AwaitAnswer(command, resume);
        deliver(command, raw);
        return true;
    }

    private boolean error(int errors, String reply) {
        int count = errors + 1;
        if (count > limits.maxErrors()) {
            write("ERROR :Closing link (too many errors)\r\n");
            failNow(Failure.peer(
                    FailureKind.TOO_MANY_ERRORS,
                    Phase.SESSION,
                    "the client sent " + count + " bad commands (limit " + limits.maxErrors() + ")"));
            state = new Done();
            return true;
        }
        write(reply + "\r\n");
        state = state instanceof Unregistered u ? new Unregistered(count, u.nick(), u.user()) : new Registered(count);
        return true;
    }

    @Override
    protected void onResponded(String reply) {
        if (!(state instanceof AwaitAnswer waiting)) {
            throw new IllegalStateException("respond() without a delivered command");
        }
        State resume = waiting.resume();
        if (resume instanceof Unregistered u) {
            String verb = waiting.command().verb();
            boolean nick = u.nick() || verb.equals("NICK");
            boolean user = u.user() || verb.equals("USER");
            // Registration completes with NICK and USER (RFC 2812 §3.1); STARTTLS is refused from then on.
            state = nick && user ? new Registered(u.errors()) : new Unregistered(u.errors(), nick, user);
        } else {
            state = resume;
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
        // The session restarts over TLS, unregistered; the application continues with a new IrcServer
        // built from options.afterUpgrade().
        emit(new Step.Completed(upgradedResult(options)));
    }
}
