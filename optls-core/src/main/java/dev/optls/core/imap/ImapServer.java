package dev.optls.core.imap;

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
import java.util.Locale;

/**
 * IMAP server side of the upgrade (RFC 9051 §6.2.1, RFC 2595 §3). It greets with {@code * OK
 * [CAPABILITY ...]}, answers {@code CAPABILITY}, {@code STARTTLS} and {@code LOGOUT} itself, refuses
 * {@code LOGIN} and {@code AUTHENTICATE} with {@code NO [PRIVACYREQUIRED]} while TLS is required and not
 * active, and delivers every other command to the application.
 *
 * <p>The application answers a delivered command with {@link #respond(String)}: complete response lines
 * ending with the tagged completion (or {@code * BYE}). A command that needs a continuation request
 * ({@code +}) — {@code AUTHENTICATE}, {@code IDLE}, any command ending in a synchronizing literal {@code
 * {n}} (see {@link ImapCommand#pendingLiteral()}) — cannot be answered through the negotiation: reject it
 * with a tagged response, or call {@link #handOver()} and send the {@code +} yourself. A delivered
 * command whose arguments end with {@code {n}} is waiting for that {@code +}: its literal has not been
 * sent.
 *
 * <p>After the handshake the negotiation completes with {@link Result.Ending#UPGRADED}; continue with a
 * new {@code ImapServer} built with {@link ServerOptions#afterUpgrade()}: fresh state, no greeting, no
 * {@code STARTTLS} (RFC 9051 §6.2.1: the server remains in the not-authenticated state).
 */
public final class ImapServer extends BaseNegotiation {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private sealed interface State {}

    /** RFC 9051 §3.1: not authenticated; STARTTLS is valid here. */
    private record NotAuthenticated() implements State {}

    /** RFC 9051 §3.2: after the application accepted LOGIN or AUTHENTICATE. */
    private record Authenticated() implements State {}

    /** A command was delivered; {@code resume} is the state to return to once it is answered. */
    private record AwaitingResponse(ImapCommand command, State resume) implements State {}

    private record Handshaking(Capabilities before) implements State {}

    private record Closed() implements State {}

    private final ServerOptions options;
    private final ImapCommandParser parser;
    private State state = new NotAuthenticated();
    private int errors;

    /** A server negotiation for {@code options}; queues the greeting when {@code options.greet()}. */
    public ImapServer(ServerOptions options) {
        super(Protocol.IMAP, options.limits());
        this.options = options;
        this.parser = new ImapCommandParser(options.limits());
        if (options.greet()) {
            // RFC 9051 §7.1: the CAPABILITY response code in the greeting saves the client a round trip.
            String text = options.greeting().isBlank() ? "IMAP server ready" : options.greeting();
            write("* OK [CAPABILITY " + String.join(" ", capabilities().entries()) + "] " + text + "\r\n");
        }
    }

    /** What this server advertises in its current state. */
    Capabilities capabilities() {
        return capabilities(options, state instanceof Authenticated);
    }

    /** What a server with {@code options} advertises, before or after authentication. */
    static Capabilities capabilities(ServerOptions options, boolean authenticated) {
        Capabilities caps = options.advertised().without("STARTTLS").without("LOGINDISABLED");
        if (options.tlsRequired() && !options.tlsActive()) {
            // RFC 9051 §6.2.3 / RFC 2595 §3.2: LOGIN is disabled until TLS is active; no SASL mechanism is
            // usable before TLS either, so none is advertised.
            caps = new Capabilities(caps.entries().stream()
                    .filter(e -> !e.toUpperCase(Locale.ROOT).startsWith("AUTH="))
                    .toList());
        }
        if (options.upgradeOffered() && !authenticated) {
            // RFC 2595 §3.1: STARTTLS only in the not-authenticated state and never once TLS is active.
            caps = caps.with("STARTTLS");
        }
        if (options.tlsRequired() && !options.tlsActive()) {
            caps = caps.with("LOGINDISABLED");
        }
        return caps;
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof NotAuthenticated || state instanceof Authenticated)) {
            return false;
        }
        ImapCommand command;
        try {
            command = parser.next(in);
        } catch (ImapParseException e) {
            if (e.kind() == FailureKind.LIMIT_EXCEEDED) {
                write("* BYE " + e.getMessage() + "\r\n");
                state = new Closed();
                throw peerFailure(FailureKind.LIMIT_EXCEEDED, "client command over a limit: " + e.getMessage());
            }
            bad(e.tag().orElse("*"), "Syntax error: " + e.getMessage());
            return true;
        }
        if (command == null) {
            return false;
        }
        handle(command);
        return true;
    }

    private void handle(ImapCommand c) {
        boolean tlsPending = options.tlsRequired() && !options.tlsActive();
        switch (c.name()) {
            case "CAPABILITY" -> {
                if (c.hasArguments()) {
                    bad(c.tag(), "CAPABILITY takes no arguments");
                    return;
                }
                write("* CAPABILITY " + String.join(" ", capabilities().entries()) + "\r\n");
                write(c.tag() + " OK CAPABILITY completed\r\n");
            }
            case "LOGOUT" -> {
                if (c.hasArguments()) {
                    bad(c.tag(), "LOGOUT takes no arguments");
                    return;
                }
                // RFC 9051 §6.1.3: untagged BYE, then the tagged OK.
                write("* BYE " + options.hostname() + " logging out\r\n");
                write(c.tag() + " OK LOGOUT completed\r\n");
                Capabilities caps = capabilities();
                state = new Closed();
                emit(new Step.Completed(result(Result.Ending.CLOSED, caps, EMPTY)));
            }
            case "STARTTLS" -> startTls(c);
            case "LOGIN", "AUTHENTICATE" -> {
                if (tlsPending) {
                    // RFC 9051 §6.2.3, §7.1 PRIVACYREQUIRED; RFC 2595 §3.2 LOGINDISABLED. No credential is
                    // looked at. A synchronizing literal is rejected before the client sends it (§4.3).
                    write(c.tag() + " NO [PRIVACYREQUIRED] TLS is required: issue STARTTLS first\r\n");
                    return;
                }
                deliverCommand(c);
            }
            default -> deliverCommand(c);
        }
    }

    private void startTls(ImapCommand c) {
        if (c.hasArguments()) {
            bad(c.tag(), "STARTTLS takes no arguments");
        } else if (options.tlsActive()) {
            // RFC 9051 §6.2.1: BAD on a connection that is already protected.
            bad(c.tag(), "TLS already active");
        } else if (state instanceof Authenticated) {
            // RFC 2595 §3.1: STARTTLS is only valid in the not-authenticated state.
            bad(c.tag(), "STARTTLS is only valid before authentication");
        } else if (!options.tlsAvailable()) {
            bad(c.tag(), "STARTTLS is not available on this server");
        } else {
            Capabilities before = capabilities();
            state = new Handshaking(before);
            // RFC 9051 §6.2.1 / CVE-2011-0411: every byte after the STARTTLS line goes to TLS unparsed.
            beginServerHandshake(c.tag() + " OK Begin TLS negotiation now\r\n");
        }
    }

    private void deliverCommand(ImapCommand c) {
        State resume = state;
        state = new AwaitingResponse(c, resume);
        byte[] raw = new byte[c.raw().remaining()];
        c.raw().get(raw);
        deliver(new Command(c.tag(), c.name(), c.argumentText(), c.line(), options.tlsActive()), raw);
    }

    private void bad(String tag, String text) {
        write(tag + " BAD " + text + "\r\n");
        errors++;
        if (errors > limits.maxErrors()) {
            write("* BYE Too many errors\r\n");
            state = new Closed();
            failNow(Failure.peer(
                    FailureKind.TOO_MANY_ERRORS,
                    phase(),
                    "the client sent more than " + limits.maxErrors() + " bad commands (Limits.maxErrors)"));
        }
    }

    @Override
    protected void onResponded(String reply) {
        if (!(state instanceof AwaitingResponse waiting)) {
            throw new IllegalStateException("respond() without a delivered command");
        }
        String last = lastLine(reply);
        String tag = waiting.command().tag();
        if (last.startsWith("+")) {
            state = new Closed();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.CONFIGURATION,
                    phase(),
                    "the application answered " + waiting.command().name() + " with a continuation request",
                    false));
            throw new IllegalStateException("a continuation request ('+') cannot be answered through respond():"
                    + " call handOver() and send it yourself; the negotiation is now failed");
        }
        String upper = last.toUpperCase(Locale.ROOT);
        if (upper.startsWith("* BYE")) {
            Capabilities caps = capabilities();
            state = new Closed();
            emit(new Step.Completed(result(Result.Ending.CLOSED, caps, EMPTY)));
            return;
        }
        if (!last.startsWith(tag + " ")) {
            state = new Closed();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.CONFIGURATION,
                    phase(),
                    "the application's reply did not complete command " + tag,
                    false));
            throw new IllegalStateException("the reply to " + waiting.command().name() + " must end with its tagged"
                    + " response '" + tag + " OK|NO|BAD ...' (or '* BYE'); was: " + last);
        }
        String status = upper.substring(tag.length() + 1);
        String name = waiting.command().name();
        if (status.startsWith("OK") && (name.equals("LOGIN") || name.equals("AUTHENTICATE"))) {
            // RFC 9051 §3.2: a successful LOGIN/AUTHENTICATE enters the authenticated state; STARTTLS is
            // no longer valid (RFC 2595 §3.1).
            state = new Authenticated();
        } else {
            state = waiting.resume();
        }
    }

    private static String lastLine(String reply) {
        String[] lines = reply.split("\r?\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (!lines[i].isEmpty()) {
                return lines[i];
            }
        }
        return "";
    }

    @Override
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        if (!(state instanceof AwaitingResponse waiting)) {
            throw new IllegalStateException("handOver() without a delivered command");
        }
        state = new Closed();
        return result(
                Result.Ending.HANDED_OVER, capabilities(options, waiting.resume() instanceof Authenticated), remaining);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof Handshaking handshaking)) {
            throw new IllegalStateException("handshakeCompleted() while not in a handshake");
        }
        state = new Closed();
        // The session continues with a new ImapServer(options.afterUpgrade()): nothing from before TLS
        // carries over (RFC 9051 §6.2.1; security.md §5 A.5).
        Capabilities after = capabilities(options.afterUpgrade(), false);
        emit(new Step.Completed(new Result(
                Protocol.IMAP, Result.Ending.UPGRADED, true, options.greeting(), handshaking.before(), after, EMPTY)));
    }

    @Override
    protected Phase phase() {
        if (state instanceof Handshaking) {
            return Phase.HANDSHAKE;
        }
        return options.tlsActive() ? Phase.SESSION : Phase.UPGRADE;
    }

    private Result result(Result.Ending ending, Capabilities caps, ByteBuffer remaining) {
        boolean tls = options.tlsActive();
        return new Result(
                Protocol.IMAP,
                ending,
                tls,
                options.greeting(),
                tls ? Capabilities.NONE : caps,
                tls ? caps : Capabilities.NONE,
                remaining);
    }
}
