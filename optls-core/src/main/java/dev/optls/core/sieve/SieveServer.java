package dev.optls.core.sieve;

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
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The server side of a ManageSieve session up to and including {@code STARTTLS} (RFC 5804). The greeting
 * is the capability list ({@link ServerOptions#advertised()}, each entry {@code NAME value} sent as
 * {@code "NAME" "value"}, plus {@code "STARTTLS"} while the upgrade is offered) ended by {@code OK
 * "<greeting>"}. It answers {@code CAPABILITY}, {@code STARTTLS}, {@code NOOP} and {@code LOGOUT} itself, refuses
 * {@code AUTHENTICATE} with {@code NO (ENCRYPT-NEEDED)} while TLS is required and not active, and
 * delivers every other command ({@code AUTHENTICATE}, {@code HAVESPACE}, {@code PUTSCRIPT}, {@code
 * LISTSCRIPTS}, ...) to the application with its literals read in full ({@link
 * SieveStrings#arguments(String)} unquotes them).
 *
 * <p>The application answers with {@link #respond(String)}: complete response lines ending with {@code
 * OK}, {@code NO} or {@code BYE}. A SASL challenge (a bare string) cannot be sent that way: call {@link
 * #handOver()} for an {@code AUTHENTICATE} that needs one.
 *
 * <p>After the handshake it completes with {@link Result.Ending#UPGRADED}; continue with a new {@code
 * SieveServer} built from {@link ServerOptions#afterUpgrade()}, which starts by sending the capability
 * list again, as RFC 5804 §2.2 requires even though {@link ServerOptions#greet()} is false then.
 */
public final class SieveServer extends BaseNegotiation {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    /** RFC 5804 §2: the commands handed to the application. */
    private static final Set<String> DELIVERED = Set.of(
            "AUTHENTICATE",
            "HAVESPACE",
            "PUTSCRIPT",
            "LISTSCRIPTS",
            "SETACTIVE",
            "GETSCRIPT",
            "DELETESCRIPT",
            "RENAMESCRIPT",
            "CHECKSCRIPT",
            "UNAUTHENTICATE");

    private sealed interface State {}

    /** RFC 5804 §2: before a successful AUTHENTICATE; STARTTLS is valid here. */
    private record NonAuthenticated() implements State {}

    /** After the application accepted AUTHENTICATE. */
    private record Authenticated() implements State {}

    /** A command was delivered; {@code resume} is the state to return to once it is answered. */
    private record AwaitAnswer(Command command, State resume) implements State {}

    private record AwaitHandshake(Capabilities before) implements State {}

    private record Done() implements State {}

    private final ServerOptions options;
    private final SieveFramer framer;
    private State state = new NonAuthenticated();
    private int errors;

    /**
     * A server negotiation; writes the capability list at once when {@link ServerOptions#greet()} or when
     * TLS is active (RFC 5804 §2.2: after STARTTLS the server re-issues it unasked).
     */
    public SieveServer(ServerOptions options) {
        super(Protocol.SIEVE, options.limits());
        this.options = options;
        this.framer = new SieveFramer(options.limits());
        if (options.greet()) {
            // RFC 5804 §1.7: "the server sends the capabilities as the greeting".
            write(capabilityList() + ok(options.greeting().isBlank() ? "ManageSieve ready" : options.greeting()));
        } else if (options.tlsActive()) {
            // RFC 5804 §2.2: "After the TLS layer is established, the server MUST re-issue the capability
            // results, followed by an OK response."
            write(capabilityList() + ok("TLS negotiation successful"));
        }
    }

    /** What this server advertises now, as {@code NAME value} entries. */
    Capabilities capabilities() {
        return capabilities(options, state instanceof Authenticated);
    }

    static Capabilities capabilities(ServerOptions options, boolean authenticated) {
        Capabilities caps = options.advertised().without("STARTTLS");
        if (options.tlsRequired() && !options.tlsActive() && caps.has("SASL")) {
            // No mechanism may be used before TLS, so none is listed: "SASL" "" as Dovecot sends with
            // plaintext authentication disabled (RFC 5804 §1.7 makes SASL a string, possibly empty).
            caps = new Capabilities(caps.entries().stream()
                    .map(e -> Capabilities.keywordOf(e).equals("SASL") ? "SASL" : e)
                    .toList());
        }
        if (options.upgradeOffered() && !authenticated) {
            // RFC 5804 §1.7: "STARTTLS" is listed only while the command can succeed: TLS available, not
            // active, not yet authenticated.
            caps = caps.with("STARTTLS");
        }
        return caps;
    }

    private String capabilityList() {
        StringBuilder out = new StringBuilder();
        for (String entry : capabilities().entries()) {
            int sp = entry.indexOf(' ');
            String name = sp < 0 ? entry : entry.substring(0, sp);
            String value = sp < 0 ? null : entry.substring(sp + 1);
            out.append(SieveParser.encode(name, false));
            if (value != null || name.equalsIgnoreCase("SASL")) {
                // RFC 5804 §1.7: "SASL" always carries a string, even an empty one.
                out.append(' ').append(SieveParser.encode(value == null ? "" : value, false));
            }
            out.append("\r\n");
        }
        return out.toString();
    }

    private static String ok(String text) {
        return "OK " + SieveParser.encode(text, false) + "\r\n";
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof NonAuthenticated || state instanceof Authenticated)) {
            return false;
        }
        int length;
        try {
            length = framer.scan(in);
        } catch (SieveSyntaxException e) {
            // Limits: a line or literal over its bound ends the session, never grows a buffer.
            write("BYE " + SieveParser.encode(cap(e.getMessage()), false) + "\r\n");
            state = new Done();
            throw peerFailure(FailureKind.LIMIT_EXCEEDED, "the client sent a " + e.getMessage());
        }
        if (length == SieveFramer.INCOMPLETE) {
            return false;
        }
        byte[] raw = in.take(length);
        List<SieveValue> values;
        try {
            values = SieveParser.parse(raw);
        } catch (SieveSyntaxException e) {
            no("Syntax error: " + e.getMessage());
            return true;
        }
        if (values.isEmpty() || !(values.get(0) instanceof SieveValue.Atom verbAtom)) {
            no("Syntax error: a command starts with its name");
            return true;
        }
        // RFC 5804 §4: command names are case-insensitive.
        String verb = verbAtom.text().toUpperCase(Locale.ROOT);
        String line = lineText(raw);
        int sp = line.indexOf(' ');
        String arguments = sp < 0 ? "" : line.substring(sp + 1);
        boolean hasArguments = values.size() > 1;
        switch (verb) {
            case "CAPABILITY" -> {
                if (hasArguments) {
                    no("CAPABILITY takes no arguments");
                } else {
                    // RFC 5804 §2.4: the capability list, then OK.
                    write(capabilityList() + ok("Capability completed."));
                }
            }
            case "LOGOUT" -> {
                if (hasArguments) {
                    no("LOGOUT takes no arguments");
                } else {
                    // RFC 5804 §2.3: the server answers OK and closes the connection.
                    write(ok("Logout completed."));
                    Capabilities caps = capabilities();
                    state = new Done();
                    emit(new Step.Completed(result(Result.Ending.CLOSED, caps, EMPTY)));
                }
            }
            case "STARTTLS" -> startTls(hasArguments);
            case "NOOP" -> noop(values);
            case "AUTHENTICATE" -> {
                if (state instanceof Authenticated) {
                    no("Already authenticated");
                } else if (options.tlsRequired() && !options.tlsActive()) {
                    // RFC 5804 §1.3 ENCRYPT-NEEDED: authentication needs an encrypted connection first.
                    // No credential is looked at (security.md §5 B.21).
                    write("NO (ENCRYPT-NEEDED) \"TLS is required: issue STARTTLS first\"\r\n");
                } else {
                    deliverCommand(verb, arguments, line, raw);
                }
            }
            default -> {
                if (DELIVERED.contains(verb)) {
                    deliverCommand(verb, arguments, line, raw);
                } else {
                    no("Unknown command.");
                }
            }
        }
        return true;
    }

    private void startTls(boolean hasArguments) {
        if (hasArguments) {
            no("STARTTLS takes no arguments");
        } else if (options.tlsActive()) {
            // RFC 5804 §2.2: TLS is already active; ManageSieve has no BAD, refusals are NO.
            no("TLS is already active");
        } else if (!options.tlsAvailable()) {
            no("STARTTLS is not available on this server");
        } else if (state instanceof Authenticated) {
            // RFC 5804 §2.2 / RFC 2595 §3.1 pattern: STARTTLS belongs before authentication.
            no("STARTTLS is only valid before authentication");
        } else {
            Capabilities before = capabilities();
            state = new AwaitHandshake(before);
            // RFC 5804 §2.2 / CVE-2011-0411: every byte after the STARTTLS line goes to TLS unparsed.
            beginServerHandshake(ok("Begin TLS negotiation now."));
        }
    }

    /**
     * RFC 5804 §2.13: NOOP with an optional string, echoed in a TAG response code. sieve-connect sends
     * {@code NOOP "STARTTLS-RESYNC-CAPA"} right after TLS to find the end of the re-issued list.
     */
    private void noop(List<SieveValue> values) {
        if (values.size() == 1) {
            write(ok("NOOP completed."));
        } else if (values.size() == 2 && values.get(1) instanceof SieveValue.Str tag) {
            write("OK (TAG " + SieveParser.encode(tag.text(), false) + ") \"Done\"\r\n");
        } else {
            no("NOOP takes at most one string");
        }
    }

    private void deliverCommand(String verb, String arguments, String line, byte[] raw) {
        Command command = new Command("", verb, arguments, line, options.tlsActive());
        state = new AwaitAnswer(command, state);
        deliver(command, raw);
    }

    private void no(String text) {
        errors++;
        if (errors > limits.maxErrors()) {
            write("BYE \"Too many errors\"\r\n");
            state = new Done();
            failNow(Failure.peer(
                    FailureKind.TOO_MANY_ERRORS,
                    phase(),
                    "the client sent more than " + limits.maxErrors() + " bad commands (Limits.maxErrors)"));
            return;
        }
        write("NO " + SieveParser.encode(cap(text), false) + "\r\n");
    }

    private static String cap(String text) {
        return text.length() > 200 ? text.substring(0, 200) : text;
    }

    @Override
    protected String farewell(Failure failure) {
        return "BYE \"Too much input\"\r\n";
    }

    @Override
    protected void onResponded(String reply) {
        if (!(state instanceof AwaitAnswer waiting)) {
            throw new IllegalStateException("respond() without a delivered command");
        }
        String last = lastLine(reply);
        String status = statusOf(last);
        if (status == null) {
            state = new Done();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.CONFIGURATION,
                    phase(),
                    "the application's reply to " + waiting.command().verb() + " does not end with OK, NO or BYE",
                    false));
            throw new IllegalStateException("a reply must end with an OK, NO or BYE line; a SASL challenge"
                    + " (a bare string) cannot be sent through respond(): call handOver() for AUTHENTICATE and run"
                    + " the exchange yourself; the negotiation is now failed. Was: " + cap(last));
        }
        String verb = waiting.command().verb();
        if (status.equals("BYE")) {
            Capabilities caps = capabilities();
            state = new Done();
            emit(new Step.Completed(result(Result.Ending.CLOSED, caps, EMPTY)));
        } else if (status.equals("OK") && verb.equals("AUTHENTICATE")) {
            // RFC 5804 §2.1: a successful AUTHENTICATE enters the authenticated state.
            state = new Authenticated();
        } else if (status.equals("OK") && verb.equals("UNAUTHENTICATE")) {
            // RFC 5804 §2.14.1: UNAUTHENTICATE returns to the non-authenticated state.
            state = new NonAuthenticated();
        } else {
            state = waiting.resume();
        }
    }

    /** OK, NO or BYE when {@code line} is a response line, else null. */
    private static String statusOf(String line) {
        int sp = line.indexOf(' ');
        String word = (sp < 0 ? line : line.substring(0, sp)).toUpperCase(Locale.ROOT);
        return word.equals("OK") || word.equals("NO") || word.equals("BYE") ? word : null;
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
        if (!(state instanceof AwaitAnswer waiting)) {
            throw new IllegalStateException("handOver() without a delivered command");
        }
        state = new Done();
        return result(
                Result.Ending.HANDED_OVER, capabilities(options, waiting.resume() instanceof Authenticated), remaining);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake handshaking)) {
            throw new IllegalStateException("handshakeCompleted() while not in a handshake");
        }
        state = new Done();
        // The session continues with a new SieveServer(options.afterUpgrade()), which re-issues the
        // capability list: nothing from before TLS carries over (RFC 5804 §2.2; security.md §5 A.5).
        emit(new Step.Completed(new Result(
                Protocol.SIEVE,
                Result.Ending.UPGRADED,
                true,
                options.greeting(),
                handshaking.before(),
                capabilities(options.afterUpgrade(), false),
                EMPTY)));
    }

    @Override
    protected Phase phase() {
        if (state instanceof AwaitHandshake) {
            return Phase.HANDSHAKE;
        }
        return options.tlsActive() ? Phase.SESSION : Phase.UPGRADE;
    }

    private Result result(Result.Ending ending, Capabilities caps, ByteBuffer remaining) {
        boolean tls = options.tlsActive();
        return new Result(
                Protocol.SIEVE,
                ending,
                tls,
                options.greeting(),
                tls ? Capabilities.NONE : caps,
                tls ? caps : Capabilities.NONE,
                remaining);
    }

    private static String lineText(byte[] raw) {
        int n = raw.length - 1;
        if (n > 0 && raw[n - 1] == '\r') {
            n--;
        }
        return new String(raw, 0, n, StandardCharsets.UTF_8);
    }
}
