package dev.optls.core.ftp;

import dev.optls.core.Blame;
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
 * The server side of an FTP control connection up to and including {@code AUTH TLS} (RFC 4217, RFC
 * 2228). It answers {@code FEAT}, {@code AUTH}, {@code PBSZ}, {@code CCC} and {@code QUIT} itself, checks
 * {@code PROT} and delivers every other command ({@code USER}, {@code PASS}, {@code EPSV}, {@code LIST},
 * ...) to the application, which answers with {@link #respond(String)}.
 *
 * <p>{@code PROT} is checked here (TLS active, {@code PBSZ} first, level {@code C} or {@code P}) and
 * then delivered, because the application must know the data-channel protection and decides whether it
 * accepts clear data channels ({@code 200}) or refuses them by policy ({@code 534}). {@code CCC} is always
 * refused with 533: a control connection that went back to clear text could be hijacked.
 *
 * <p>After {@link Step.BeginHandshake} and the handshake, it completes with {@link
 * Result.Ending#UPGRADED}; the application continues with a new {@code FtpServer} built from {@link
 * ServerOptions#afterUpgrade()}. While {@link ServerOptions#tlsRequired()} holds and TLS is not active,
 * {@code USER}, {@code PASS} and {@code ACCT} are refused with 530 and never delivered.
 *
 * <p>The application must send data-transfer preliminary replies ({@code 150}) itself on the control
 * connection before it answers the command with {@link #respond(String)}: this negotiation has no output
 * pending while a command is delivered.
 */
public final class FtpServer extends BaseNegotiation {
    private final ServerOptions options;
    private State state;

    /** A server negotiation; writes the greeting at once when {@link ServerOptions#greet()}. */
    public FtpServer(ServerOptions options) {
        super(Protocol.FTP, options.limits());
        this.options = options;
        if (options.greet()) {
            // RFC 959 §5.4: 220 "Service ready for new user".
            write("220 " + options.hostname() + " " + options.greeting() + "\r\n");
        }
        state = new Session(0, false);
    }

    private sealed interface State {}

    /**
     * Reading commands; {@code errors} counts bad commands, {@code bufferSizeSet} after a PBSZ over TLS
     * (RFC 4217 §8: PBSZ must precede PROT).
     */
    private record Session(int errors, boolean bufferSizeSet) implements State {}

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
        int sp = trimmed.indexOf(' ');
        // RFC 959 §5.3: command codes are case-insensitive and separated from arguments by a space.
        String verb = (sp < 0 ? trimmed : trimmed.substring(0, sp)).toUpperCase(Locale.ROOT);
        String args = sp < 0 ? "" : trimmed.substring(sp + 1).strip();
        switch (verb) {
            case "" -> {
                return error(session, "500 Syntax error, command unrecognized");
            }
            case "FEAT" -> write(featReply());
            case "AUTH" -> {
                return auth(session, args);
            }
            case "PBSZ" -> {
                return pbsz(session, args);
            }
            case "PROT" -> {
                return prot(session, args, line, raw);
            }
            case "CCC" -> {
                // RFC 4217 §11 (CCC): a server may refuse with 533 "Command protection level denied for
                // policy reasons". We always do: a control channel back in clear text can be hijacked.
                return error(
                        session,
                        options.tlsActive()
                                ? "533 CCC denied: the control connection stays protected"
                                : "503 CCC without TLS");
            }
            case "QUIT" -> {
                // RFC 959 §4.1.1 / §5.4: 221 "Service closing control connection".
                write("221 Goodbye\r\n");
                emit(new Step.Completed(sessionResult(options, Result.Ending.CLOSED, ByteBuffer.allocate(0))));
                state = new Done();
            }
            case "USER", "PASS", "ACCT" -> {
                if (options.tlsRequired() && !options.tlsActive()) {
                    // RFC 4217 §4.2 (server wants a secured session): refuse login until AUTH TLS; RFC 959
                    // 530 "Not logged in". No credential is looked at in plaintext (security.md §5 #21).
                    return error(session, "530 TLS required: issue AUTH TLS first");
                }
                return deliverCommand(session, verb, args, line, raw);
            }
            default -> {
                return deliverCommand(session, verb, args, line, raw);
            }
        }
        return true;
    }

    private boolean auth(Session session, String args) {
        String mechanism = args.toUpperCase(Locale.ROOT);
        if (mechanism.isEmpty()) {
            // RFC 959 §4.2: 501 syntax error in parameters.
            return error(session, "501 AUTH needs a mechanism: AUTH TLS");
        }
        if (options.tlsActive()) {
            // security.md §5 #18: no second handshake inside TLS. RFC 959 503 "Bad sequence of commands".
            return error(session, "503 TLS is already active");
        }
        if (!options.tlsAvailable()) {
            // RFC 2228 §4 (AUTH): 502 command not implemented; no certificate, no TLS.
            return error(session, "502 AUTH not available: no TLS on this server");
        }
        // RFC 4217 §4.1: the mechanism name is "TLS" ("TLS-C" of the drafts is the same). "SSL" is refused:
        // in the drafts AUTH SSL also implied PROT P, and RFC 4217 defines no such shortcut.
        if (!mechanism.equals("TLS") && !mechanism.equals("TLS-C")) {
            // RFC 2228 §4: 504 "Command not implemented for that parameter" (mechanism unknown).
            return error(session, "504 Unknown mechanism: use AUTH TLS");
        }
        // RFC 4217 §4.1 / CVE-2011-1575: bytes after the AUTH TLS line go to TLS unparsed.
        state = new AwaitHandshake();
        beginServerHandshake("234 AUTH TLS successful\r\n");
        return true;
    }

    private boolean pbsz(Session session, String args) {
        if (!options.tlsActive()) {
            // RFC 2228 §3 (PBSZ) / RFC 4217 §8: PBSZ needs a completed security exchange first: 503.
            return error(session, "503 PBSZ needs AUTH TLS first");
        }
        if (args.isEmpty() || !args.chars().allMatch(c -> c >= '0' && c <= '9') || args.length() > 10) {
            // RFC 2228 §3: PBSZ <decimal-integer>; anything else is a syntax error.
            return error(session, "501 PBSZ takes a decimal number: PBSZ 0");
        }
        // RFC 4217 §8: TLS is a stream protection; the buffer size is always 0, and a server that got
        // another value answers with "PBSZ=0".
        write("200 PBSZ=0\r\n");
        state = new Session(session.errors(), true);
        return true;
    }

    private boolean prot(Session session, String args, String line, byte[] raw) {
        if (!options.tlsActive() || !session.bufferSizeSet()) {
            // RFC 4217 §9 / RFC 2228 §3 (PROT): PROT must follow a successful PBSZ: 503.
            return error(session, "503 PROT needs PBSZ first");
        }
        String level = args.toUpperCase(Locale.ROOT);
        if (level.equals("S") || level.equals("E")) {
            // RFC 4217 §9: TLS provides no Safe-only or Confidential-only protection: 536.
            return error(session, "536 PROT " + level + " not supported with TLS");
        }
        if (!level.equals("C") && !level.equals("P")) {
            // RFC 2228 §3: 504 for an unknown protection level.
            return error(session, "504 Unknown protection level: use PROT P or PROT C");
        }
        return deliverCommand(session, "PROT", level, line, raw);
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
            // RFC 959 §4.2: 421 "closing control connection".
            write("421 Too many errors, closing control connection\r\n");
            failNow(Failure.peer(
                    FailureKind.TOO_MANY_ERRORS,
                    Phase.SESSION,
                    "the client sent " + count + " bad commands (limit " + limits.maxErrors() + ")"));
            state = new Done();
            return true;
        }
        write(reply + "\r\n");
        state = new Session(count, session.bufferSizeSet());
        return true;
    }

    private String featReply() {
        // RFC 2389 §3.2: "211-" first line, one feature per line starting with a space, "211 End".
        StringBuilder b = new StringBuilder("211-Features:\r\n");
        if (options.upgradeOffered()) {
            // RFC 4217 §6: the FEAT reply lists AUTH TLS, PBSZ and PROT; AUTH only while it can succeed.
            b.append(" AUTH TLS\r\n");
        }
        if (options.tlsAvailable() || options.tlsActive()) {
            b.append(" PBSZ\r\n PROT\r\n");
        }
        for (String entry : options.advertised()
                .without("AUTH")
                .without("PBSZ")
                .without("PROT")
                .entries()) {
            if (entry.indexOf('\r') >= 0 || entry.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("a feature must not contain CR or LF: " + entry);
            }
            b.append(' ').append(entry).append("\r\n");
        }
        return b.append("211 End\r\n").toString();
    }

    @Override
    protected String farewell(Failure failure) {
        // RFC 959 §4.2: 421 before the server closes the control connection on its own.
        return "421 " + (failure.kind() == FailureKind.LIMIT_EXCEEDED ? "Line too long" : "Closing")
                + ", closing control connection\r\n";
    }

    @Override
    protected void onResponded(String reply) {
        if (!(state instanceof AwaitAnswer waiting)) {
            throw new IllegalStateException("respond() without a delivered command");
        }
        FtpReply parsed = lastReply(reply);
        if (parsed == null) {
            state = new Done();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.PROTOCOL_VIOLATION,
                    Phase.SESSION,
                    "the application answered with something that is not an FTP reply",
                    false));
            throw new IllegalStateException("an FTP reply is one or more lines ending with \"xyz text\", was: "
                    + FtpReplyReader.printable(reply));
        }
        int code = parsed.code();
        if (code < 200) {
            // A 1yz reply promises another reply: the application writes preliminary replies itself and
            // answers here with the completion reply only (e.g. 226 after the transfer).
            state = new Done();
            failNow(new Failure(
                    Blame.LOCAL,
                    FailureKind.PROTOCOL_VIOLATION,
                    Phase.SESSION,
                    "the application answered " + code + " through respond()",
                    false));
            throw new IllegalStateException("a 1yz preliminary reply cannot end a command: write it to the connection"
                    + " yourself and respond() with the completion reply");
        }
        if (code == 221) {
            state = new Done();
            emit(new Step.Completed(sessionResult(options, Result.Ending.CLOSED, ByteBuffer.allocate(0))));
            return;
        }
        state = waiting.resume();
    }

    /** The reply the text ends with, or null when it is not a well-formed (possibly multi-line) reply. */
    private FtpReply lastReply(String reply) {
        FtpReplyReader reader = new FtpReplyReader(limits);
        FtpReply last = null;
        String[] lines = reply.split("\r?\n", -1);
        int n = lines.length;
        if (n > 1 && lines[n - 1].isEmpty()) {
            n--;
        }
        try {
            for (int i = 0; i < n; i++) {
                FtpReply r = reader.accept(lines[i]);
                if (r != null) {
                    last = r;
                } else if (i == n - 1) {
                    return null;
                }
            }
        } catch (FtpReplyReader.MalformedReplyException e) {
            return null;
        }
        return reader.inProgress() ? null : last;
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
        // RFC 2228 §3 (AUTH) / protocols.md §8.3: a successful AUTH resets the security state; a login
        // from before it is not honoured. The application continues with a new FtpServer built from
        // options.afterUpgrade().
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
