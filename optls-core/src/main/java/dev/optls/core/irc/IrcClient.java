package dev.optls.core.irc;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import dev.optls.core.internal.InputBuffer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of an IRC upgrade with the IRCv3 {@code tls} extension (deprecated, still deployed):
 * {@code CAP LS 302}, {@code STARTTLS} when {@code tls} is listed, {@code 670 RPL_STARTTLS}, TLS, and
 * {@code CAP LS 302} again. On an implicit-TLS connection (ircs, 6697) it only lists the capabilities.
 *
 * <p>It sends neither {@code NICK} nor {@code USER}: registration is the application's job once this
 * negotiation has ended. {@code CAP LS} suspends registration (IRCv3 capability negotiation), so the
 * application ends with {@code CAP END} (or {@code CAP REQ} first), also after {@link
 * Step.UpgradeUnavailable} at level MAY.
 *
 * <p>Lines before the answer it waits for are skipped: {@code NOTICE} ("*** Looking up your
 * hostname..."), {@code PING} (not answered: a registration cookie PING belongs to registration),
 * informational numerics such as {@code 020}; at most {@link dev.optls.core.Limits#maxReplyLines()} of
 * them. A server that never answers is handled by the adapter's read timeout.
 */
public final class IrcClient extends BaseNegotiation {
    private static final String CAP_LS = "CAP LS 302\r\n";
    private static final String STARTTLS = "STARTTLS\r\n";
    private static final String QUIT = "QUIT\r\n";

    private final ClientOptions options;
    private State state;

    /** A client negotiation with these options; it sends {@code CAP LS 302} at once. */
    public IrcClient(ClientOptions options) {
        super(Protocol.IRC, options.limits());
        this.options = options;
        // IRCv3 capability negotiation: "CAP LS 302" first; the server suspends registration until CAP END.
        write(CAP_LS);
        state = new ExpectCapLs(List.of(), 0, 0);
    }

    private sealed interface State {
        Phase phase();
    }

    /** CAP LS sent before TLS (or on an implicit-TLS connection); {@code caps} gathered so far. */
    private record ExpectCapLs(List<String> caps, int capLines, int skipped) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES;
        }
    }

    private record ExpectStarttlsReply(Capabilities before, int skipped) implements State {
        @Override
        public Phase phase() {
            return Phase.UPGRADE;
        }
    }

    private record AwaitHandshake(Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.HANDSHAKE;
        }
    }

    /** CAP LS re-sent over TLS; {@code before} is carried for the report only. */
    private record ExpectCapLsAfterTls(Capabilities before, List<String> caps, int capLines, int skipped)
            implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES_AFTER_TLS;
        }
    }

    private record Done(Phase phase) implements State {}

    @Override
    protected Phase phase() {
        return state.phase();
    }

    @Override
    protected boolean advance() {
        if (state instanceof AwaitHandshake || state instanceof Done) {
            return false;
        }
        byte[] raw = in.takeRawLine(Math.min(limits.maxLineLength(), IrcMessage.MAX_LINE));
        if (raw == null) {
            return false;
        }
        String line = InputBuffer.decodeLine(raw);
        IrcMessage.Parsed parsed = IrcMessage.parse(line, raw.length);
        if (parsed.problem() == IrcMessage.Problem.TOO_LONG) {
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED,
                    "the server sent a line longer than IRC allows (512 bytes, 8191 more for tags)");
        }
        if (parsed.problem() != null) {
            throw peerFailure(FailureKind.MALFORMED, "the server sent a malformed IRC line: " + abbreviate(line));
        }
        IrcMessage m = parsed.message();
        if (m == null) {
            return true; // RFC 1459 §2.3.1: empty messages are silently ignored.
        }
        State s = state;
        if (m.command().equals("ERROR")) {
            // RFC 1459 §4.6.4: ERROR reports a serious problem and precedes the server closing the link.
            throw new dev.optls.core.internal.NegotiationException(Failure.peer(
                    FailureKind.SERVICE_UNAVAILABLE, s.phase(), "the server closed the link: " + abbreviate(line)));
        }
        // Java 17: no pattern matching for switch yet, hence the instanceof chain.
        if (s instanceof ExpectCapLs c) {
            state = onCapLs(c, m, line);
        } else if (s instanceof ExpectStarttlsReply r) {
            state = onStarttlsReply(r, m, line);
        } else if (s instanceof ExpectCapLsAfterTls c) {
            state = onCapLsAfterTls(c, m, line);
        }
        return true;
    }

    /** Whether {@code m} is CAP LS; returns its entries and whether more lines follow, or null. */
    private static CapLs capLs(IrcMessage m) {
        // IRCv3 CAP LS 302: ":srv CAP <nick> LS [*] :cap1 cap2=value"; "*" marks a continuation.
        if (!m.command().equals("CAP")
                || !m.param(1).equalsIgnoreCase("LS")
                || m.params().size() < 3) {
            return null;
        }
        boolean more = m.params().size() >= 4 && m.param(2).equals("*");
        List<String> entries = new ArrayList<>();
        for (String token : m.last().split(" ")) {
            if (!token.isEmpty()) {
                entries.add(token);
            }
        }
        return new CapLs(entries, more);
    }

    private record CapLs(List<String> entries, boolean more) {}

    /** Skippable noise before the awaited reply: NOTICE, PING, informational numerics (e.g. 020). */
    private int skip(IrcMessage m, String line, int skipped) {
        boolean noise = m.command().equals("NOTICE")
                || m.command().equals("PING")
                || m.isNumeric() && m.command().compareTo("400") < 0;
        if (!noise) {
            throw peerFailure(FailureKind.PROTOCOL_VIOLATION, "unexpected line from the server: " + abbreviate(line));
        }
        if (skipped + 1 > limits.maxReplyLines()) {
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED,
                    "the server sent more than " + limits.maxReplyLines() + " lines before answering");
        }
        return skipped + 1;
    }

    private List<String> gather(List<String> caps, int capLines, CapLs ls) {
        if (capLines + 1 > limits.maxReplyLines()) {
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED, "the CAP LS reply has more than " + limits.maxReplyLines() + " lines");
        }
        List<String> next = new ArrayList<>(caps);
        next.addAll(ls.entries());
        return List.copyOf(next);
    }

    private State onCapLs(ExpectCapLs s, IrcMessage m, String line) {
        CapLs ls = capLs(m);
        if (ls == null) {
            if (isUnknownCommand(m)) {
                // RFC 1459 421 ERR_UNKNOWNCOMMAND (or 451 ERR_NOTREGISTERED): no capability negotiation,
                // hence no "tls" capability either.
                return afterCapabilities(Capabilities.NONE, line);
            }
            return new ExpectCapLs(s.caps(), s.capLines(), skip(m, line, s.skipped()));
        }
        List<String> caps = gather(s.caps(), s.capLines(), ls);
        if (ls.more()) {
            return new ExpectCapLs(caps, s.capLines() + 1, s.skipped());
        }
        return afterCapabilities(new Capabilities(caps), line);
    }

    private State afterCapabilities(Capabilities caps, String line) {
        if (options.implicitTls()) {
            // RFC 8314-style implicit TLS (ircs): never STARTTLS inside TLS.
            return complete(new Result(
                    Protocol.IRC,
                    Result.Ending.IMPLICIT_TLS,
                    true,
                    "",
                    Capabilities.NONE,
                    caps.without("tls"),
                    none()));
        }
        Result plaintext =
                new Result(Protocol.IRC, Result.Ending.PLAINTEXT, false, "", caps, Capabilities.NONE, none());
        observe(plaintext);
        if (options.level() == SecurityLevel.NONE) {
            return complete(plaintext);
        }
        if (!hasTls(caps)) {
            return unavailable(
                    FailureKind.STARTTLS_NOT_OFFERED,
                    Phase.CAPABILITIES,
                    "the server does not list the \"tls\" capability in CAP LS",
                    false,
                    plaintext);
        }
        // IRCv3 tls extension: advertising "tls" means STARTTLS works, CAP REQ is not needed. The client
        // sends STARTTLS alone and waits for 670/691 (nothing may follow it before the handshake).
        write(STARTTLS);
        return new ExpectStarttlsReply(caps, 0);
    }

    private static boolean hasTls(Capabilities caps) {
        // A cap may carry a value ("tls=..."), never seen for tls but tolerated.
        return caps.entries().stream()
                .anyMatch(e -> e.equalsIgnoreCase("tls") || e.regionMatches(true, 0, "tls=", 0, 4));
    }

    private static boolean isUnknownCommand(IrcMessage m) {
        return m.isNumeric("421") || m.isNumeric("451");
    }

    private State onStarttlsReply(ExpectStarttlsReply s, IrcMessage m, String line) {
        Result plaintext =
                new Result(Protocol.IRC, Result.Ending.PLAINTEXT, false, "", s.before(), Capabilities.NONE, none());
        if (m.isNumeric("670")) {
            // IRCv3 tls: after 670 RPL_STARTTLS the client starts the TLS handshake at once. Anything
            // buffered after it came in plaintext: response injection (security.md §5).
            beginClientHandshake();
            return new AwaitHandshake(s.before());
        }
        if (m.isNumeric("691")) {
            // IRCv3 tls: 691 ERR_STARTTLS is a server-side TLS failure (e.g. no certificate loaded). Not
            // marked temporary: retrying the same server normally fails the same way.
            return unavailable(
                    FailureKind.STARTTLS_REFUSED,
                    Phase.UPGRADE,
                    "the server refused STARTTLS: " + abbreviate(line),
                    false,
                    plaintext);
        }
        if (isUnknownCommand(m)) {
            // protocols.md §7.2: 421 Unknown command / 451 not registered mean STARTTLS is not supported,
            // even though "tls" was listed.
            return unavailable(
                    FailureKind.STARTTLS_NOT_OFFERED,
                    Phase.UPGRADE,
                    "the server listed \"tls\" but does not know STARTTLS: " + abbreviate(line),
                    false,
                    plaintext);
        }
        return new ExpectStarttlsReply(s.before(), skip(m, line, s.skipped()));
    }

    private State unavailable(FailureKind kind, Phase phase, String detail, boolean temporary, Result plaintext) {
        if (options.level().requiresTls()) {
            // protocols.md §0.1.6: required TLS fails closed, never plaintext.
            write(QUIT);
            failNow(
                    new Failure(
                            Blame.POLICY,
                            kind,
                            phase,
                            detail + "; TLS is required at level " + options.level()
                                    + ", so the connection is closed (lower the level to MAY to allow plaintext)",
                            temporary),
                    plaintext);
            return new Done(phase);
        }
        emit(new Step.UpgradeUnavailable(new Failure(Blame.PEER, kind, phase, detail, temporary), plaintext));
        return new Done(phase);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake s)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        // Everything learned in plaintext is forgotten; capabilities may differ over TLS, so ask again.
        write(CAP_LS);
        state = new ExpectCapLsAfterTls(s.before(), List.of(), 0, 0);
    }

    private State onCapLsAfterTls(ExpectCapLsAfterTls s, IrcMessage m, String line) {
        CapLs ls = capLs(m);
        if (ls == null) {
            if (isUnknownCommand(m)) {
                return complete(upgraded(s.before(), Capabilities.NONE));
            }
            return new ExpectCapLsAfterTls(s.before(), s.caps(), s.capLines(), skip(m, line, s.skipped()));
        }
        List<String> caps = gather(s.caps(), s.capLines(), ls);
        if (ls.more()) {
            return new ExpectCapLsAfterTls(s.before(), caps, s.capLines() + 1, s.skipped());
        }
        // "tls" means nothing once TLS is active; some servers keep listing it, so it is dropped, not fatal.
        Capabilities after = new Capabilities(
                caps.stream().filter(e -> !hasTls(Capabilities.of(e))).toList());
        return complete(upgraded(s.before(), after));
    }

    private static Result upgraded(Capabilities before, Capabilities after) {
        return new Result(Protocol.IRC, Result.Ending.UPGRADED, true, "", before, after, none());
    }

    private State complete(Result result) {
        emit(new Step.Completed(result));
        return new Done(state.phase());
    }

    private static ByteBuffer none() {
        return ByteBuffer.allocate(0);
    }

    private static String abbreviate(String line) {
        return IrcMessage.abbreviate(line);
    }
}
