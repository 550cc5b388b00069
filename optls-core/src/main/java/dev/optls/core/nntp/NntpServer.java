package dev.optls.core.nntp;

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

/**
 * The server side of an NNTP session up to and including {@code STARTTLS} (RFC 3977, RFC 4642 as
 * updated by RFC 8143). It answers {@code CAPABILITIES}, {@code STARTTLS} and {@code QUIT} itself and
 * delivers every other command ({@code MODE READER}, {@code GROUP}, {@code AUTHINFO}, ...) to the
 * application, which answers with {@link #respond(String)} (a complete, possibly multi-line reply) or
 * takes the connection over with {@link #handOver()} (needed for {@code POST}/{@code IHAVE} articles and
 * SASL exchanges).
 *
 * <p>After {@link Step.BeginHandshake} and the handshake, it completes with {@link
 * Result.Ending#UPGRADED}; the application continues with a new {@code NntpServer} built from {@link
 * ServerOptions#afterUpgrade()}.
 *
 * <p>While {@link ServerOptions#tlsRequired()} holds and TLS is not active, {@code AUTHINFO} is refused
 * with 483 without looking at the credentials, and CAPABILITIES lists neither {@code AUTHINFO} nor
 * {@code SASL}.
 */
public final class NntpServer extends BaseNegotiation {
    private final ServerOptions options;
    private State state;

    /** A server negotiation; writes the greeting at once when {@link ServerOptions#greet()}. */
    public NntpServer(ServerOptions options) {
        super(Protocol.NNTP, options.limits());
        this.options = options;
        if (options.greet()) {
            // RFC 3977 §5.1.1: the initial 200 greeting (posting allowed; the application's commands
            // decide what is really permitted).
            write("200 " + options.hostname() + " " + options.greeting() + "\r\n");
        }
        state = new Session(0, false);
    }

    private sealed interface State {}

    /** Reading commands; {@code errors} counts bad commands, {@code authenticated} after AUTHINFO 281. */
    private record Session(int errors, boolean authenticated) implements State {}

    /** A command was delivered; the application's answer decides the next state. */
    private record AwaitAnswer(Command command, Session resume) implements State {}

    private record AwaitHandshake() implements State {}

    private record Done() implements State {}

    @Override
    protected Phase phase() {
        return state instanceof AwaitHandshake ? Phase.HANDSHAKE : Phase.SESSION;
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof Session session)) {
            return false;
        }
        byte[] raw = in.takeRawLine(limits.maxLineLength());
        if (raw == null) {
            return false;
        }
        String line = stripLineEnd(raw);
        String trimmed = line.strip();
        int sp = indexOfBlank(trimmed);
        // RFC 3977 §3.1: keywords are case-insensitive; arguments are separated by spaces or tabs.
        String verb = (sp < 0 ? trimmed : trimmed.substring(0, sp)).toUpperCase(Locale.ROOT);
        String args = sp < 0 ? "" : trimmed.substring(sp + 1).strip();
        if (verb.isEmpty()) {
            // RFC 3977 §3.2.1: 500 for an unknown (here: empty) command.
            return error(session, "500 Unknown command");
        }
        switch (verb) {
            case "CAPABILITIES" -> write(capabilitiesReply()); // RFC 3977 §5.2.2: an optional keyword is ignored.
            case "STARTTLS" -> {
                return starttls(session, args);
            }
            case "QUIT" -> {
                // RFC 3977 §5.4: "205 Connection closing".
                write("205 Connection closing\r\n");
                emit(new Step.Completed(sessionResult(options, Result.Ending.CLOSED, ByteBuffer.allocate(0))));
                state = new Done();
            }
            case "AUTHINFO" -> {
                if (options.tlsRequired() && !options.tlsActive()) {
                    // RFC 4642 §2.2.2 / RFC 3977 §3.2.1: 483 "encryption or stronger authentication
                    // required"; no credential is looked at in plaintext (security.md §5).
                    return error(session, "483 Encryption required: issue STARTTLS first");
                }
                return deliverCommand(session, verb, args, line, raw);
            }
            default -> {
                return deliverCommand(session, verb, args, line, raw);
            }
        }
        return true;
    }

    private boolean starttls(Session session, String args) {
        if (!args.isEmpty()) {
            // RFC 4642 §2.2.2: STARTTLS takes no arguments; RFC 3977 §3.2.1: 501 syntax error.
            return error(session, "501 STARTTLS takes no arguments");
        }
        if (options.tlsActive()) {
            // RFC 4642 §2.2.2: 502 when a TLS layer is already active.
            return error(session, "502 Command unavailable: TLS is already active");
        }
        if (session.authenticated()) {
            // RFC 4642 §2.2.2: STARTTLS after successful authentication gets 502.
            return error(session, "502 Command unavailable after authentication");
        }
        if (!options.tlsAvailable()) {
            // RFC 4642 §2.2.2: 580 "Can not initiate TLS negotiation".
            return error(session, "580 Can not initiate TLS negotiation");
        }
        // RFC 4642 §2.2.2 / CVE-2011-0411: everything after the STARTTLS line goes to TLS unparsed.
        state = new AwaitHandshake();
        beginServerHandshake("382 Continue with TLS negotiation\r\n");
        return true;
    }

    private boolean deliverCommand(Session session, String verb, String args, String line, byte[] raw) {
        Command command = new Command("", verb, args, line, options.tlsActive());
        state = new AwaitAnswer(command, session);
        deliver(command, raw);
        return true;
    }

    private boolean error(Session session, String reply) {
        int count = session.errors() + 1;
        if (count > limits.maxErrors()) {
            // RFC 3977 §3.2.1: 400 "service temporarily unavailable" before closing.
            write("400 Too many errors\r\n");
            failNow(Failure.peer(
                    FailureKind.TOO_MANY_ERRORS,
                    Phase.SESSION,
                    "the client sent " + count + " bad commands (limit " + limits.maxErrors() + ")"));
            state = new Done();
            return true;
        }
        write(reply + "\r\n");
        state = new Session(count, session.authenticated());
        return true;
    }

    private String capabilitiesReply() {
        Capabilities advertised = options.advertised().without("STARTTLS").without("VERSION");
        if (options.tlsRequired() && !options.tlsActive()) {
            // RFC 3977 §5.2: the list reflects what is available now; authentication is refused until
            // TLS, so AUTHINFO and SASL are not listed before it.
            advertised = advertised.without("AUTHINFO").without("SASL");
        }
        StringBuilder b = new StringBuilder("101 Capability list:\r\n");
        // RFC 3977 §5.2.2: VERSION is always the first capability.
        b.append("VERSION 2\r\n");
        for (String entry : advertised.entries()) {
            if (entry.indexOf('\r') >= 0 || entry.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("a capability must not contain CR or LF: " + entry);
            }
            b.append(entry.startsWith(".") ? "." + entry : entry).append("\r\n");
        }
        if (options.upgradeOffered()) {
            // RFC 4642 §2.1: STARTTLS is listed only while TLS is available and not yet active.
            b.append("STARTTLS\r\n");
        }
        return b.append(".\r\n").toString();
    }

    @Override
    protected String farewell(Failure failure) {
        // RFC 3977 §3.2.1: a server closing on its own sends 400 first.
        return "400 " + (failure.kind() == FailureKind.LIMIT_EXCEEDED ? "Line too long" : "Closing") + "\r\n";
    }

    @Override
    protected void onResponded(String reply) {
        if (!(state instanceof AwaitAnswer waiting)) {
            throw new IllegalStateException("respond() without a delivered command");
        }
        int nl = reply.indexOf('\n');
        String first = nl < 0 ? reply : reply.substring(0, nl);
        if (first.endsWith("\r")) {
            first = first.substring(0, first.length() - 1);
        }
        NntpReply parsed = NntpReply.parse(first).orElse(null);
        if (parsed == null) {
            state = new Done();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.PROTOCOL_VIOLATION,
                    Phase.SESSION,
                    "the application answered with a line that is not an NNTP status line",
                    false));
            throw new IllegalStateException(
                    "an NNTP reply starts with a three-digit status code, was: " + NntpClient.abbreviate(reply));
        }
        int code = parsed.code();
        if (code == 335 || code == 340 || code == 383) {
            // RFC 3977 §6.3.1/§6.3.2 (send article) and RFC 4643 §2.4 (SASL continuation): the client
            // then sends data this dialect does not read.
            state = new Done();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.PROTOCOL_VIOLATION,
                    Phase.SESSION,
                    "the application answered " + code + " through respond()",
                    false));
            throw new IllegalStateException("a " + code + " continuation cannot be sent through respond(): call"
                    + " handOver() for POST, IHAVE and AUTHINFO SASL and run the exchange on the connection yourself");
        }
        Session resume = waiting.resume();
        if (code == 281 && waiting.command().verb().equals("AUTHINFO")) {
            // RFC 4643 §2.3/§2.4: 281 is authentication success; STARTTLS is no longer allowed.
            state = new Session(resume.errors(), true);
        } else if (code == 205) {
            state = new Done();
            emit(new Step.Completed(sessionResult(options, Result.Ending.CLOSED, ByteBuffer.allocate(0))));
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
        // RFC 4642 §2.2.2: the server MUST discard knowledge obtained from the client before TLS; the
        // application continues with a new NntpServer built from options.afterUpgrade().
        emit(new Step.Completed(upgradedResult(options)));
    }

    private static int indexOfBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ' || s.charAt(i) == '\t') {
                return i;
            }
        }
        return -1;
    }

    private static String stripLineEnd(byte[] raw) {
        int end = raw.length - 1;
        if (end > 0 && raw[end - 1] == '\r') {
            end--;
        }
        return new String(raw, 0, end, StandardCharsets.UTF_8);
    }
}
