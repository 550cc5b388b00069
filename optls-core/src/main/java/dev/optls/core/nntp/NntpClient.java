package dev.optls.core.nntp;

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
import dev.optls.core.internal.NegotiationException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of an NNTP upgrade: greeting, {@code CAPABILITIES} (RFC 3977 §5.2), {@code STARTTLS}
 * (RFC 4642 §2.2 as updated by RFC 8143), TLS, and {@code CAPABILITIES} again. On an implicit-TLS
 * connection (nntps, port 563) it reads the greeting and capabilities only.
 *
 * <p>It ends in {@link Step.Completed}, {@link Step.UpgradeUnavailable} (level {@code MAY}, the server
 * cannot upgrade; the connection is at a clean command boundary) or {@link Step.Failed}.
 */
public final class NntpClient extends BaseNegotiation {
    private static final String CAPABILITIES = "CAPABILITIES\r\n";
    private static final String STARTTLS = "STARTTLS\r\n";
    private static final String QUIT = "QUIT\r\n";

    private final ClientOptions options;
    private State state = new ExpectGreeting();

    /** A client negotiation with these options. */
    public NntpClient(ClientOptions options) {
        super(Protocol.NNTP, options.limits());
        this.options = options;
    }

    private sealed interface State {
        Phase phase();
    }

    private record ExpectGreeting() implements State {
        @Override
        public Phase phase() {
            return Phase.GREETING;
        }
    }

    /** CAPABILITIES sent in plaintext (or on an implicit-TLS connection), status line expected. */
    private record ExpectCapsReply(String greeting) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES;
        }
    }

    private record ExpectCapsBody(String greeting, List<String> lines) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES;
        }
    }

    /** STARTTLS sent because CAPABILITIES listed it. */
    private record ExpectStarttlsReply(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.UPGRADE;
        }
    }

    /** STARTTLS sent without an advertisement, because the server refused CAPABILITIES (pre-3977). */
    private record ExpectBlindStarttlsReply(String greeting) implements State {
        @Override
        public Phase phase() {
            return Phase.UPGRADE;
        }
    }

    private record AwaitHandshake(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.HANDSHAKE;
        }
    }

    /** CAPABILITIES re-sent over TLS; greeting and {@code before} are carried for the report only. */
    private record ExpectCapsReplyAfterTls(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES_AFTER_TLS;
        }
    }

    private record ExpectCapsBodyAfterTls(String greeting, Capabilities before, List<String> lines) implements State {
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
        String line = nextLine();
        if (line == null) {
            return false;
        }
        // Java 17: no pattern matching for switch yet, hence the instanceof chain.
        State s = state;
        if (s instanceof ExpectGreeting) {
            state = onGreeting(line);
        } else if (s instanceof ExpectCapsReply r) {
            state = onCapsReply(r, line);
        } else if (s instanceof ExpectCapsBody b) {
            state = onCapsBody(b, line);
        } else if (s instanceof ExpectStarttlsReply r) {
            state = onStarttlsReply(r.greeting(), r.before(), true, line);
        } else if (s instanceof ExpectBlindStarttlsReply r) {
            state = onStarttlsReply(r.greeting(), Capabilities.NONE, false, line);
        } else if (s instanceof ExpectCapsReplyAfterTls r) {
            state = onCapsReplyAfterTls(r, line);
        } else if (s instanceof ExpectCapsBodyAfterTls b) {
            state = onCapsBodyAfterTls(b, line);
        }
        return true;
    }

    private NntpReply parse(String line, String what) {
        return NntpReply.parse(line)
                .orElseThrow(() -> peerFailure(
                        FailureKind.MALFORMED, "expected an NNTP status line " + what + ", got: " + abbreviate(line)));
    }

    private State onGreeting(String line) {
        NntpReply greeting = parse(line, "as the greeting");
        // RFC 3977 §5.1.1: 200 (posting allowed) or 201 (no posting); 400 (temporarily unavailable)
        // or 502 (permanently unavailable) mean the server will close the connection.
        if (greeting.code() != 200 && greeting.code() != 201) {
            throw new NegotiationException(Failure.peer(
                            FailureKind.SERVICE_UNAVAILABLE,
                            Phase.GREETING,
                            "the server refused the session: " + abbreviate(line))
                    .withTemporary(greeting.temporary()));
        }
        if (options.greetingOnly()) {
            return complete(new Result(
                    Protocol.NNTP, Result.Ending.PLAINTEXT, false, line, Capabilities.NONE, Capabilities.NONE, none()));
        }
        // RFC 3977 §5.2: CAPABILITIES is available at any time, in particular right after the greeting.
        write(CAPABILITIES);
        return new ExpectCapsReply(line);
    }

    private State onCapsReply(ExpectCapsReply s, String line) {
        NntpReply reply = parse(line, "to CAPABILITIES");
        if (reply.code() == 101) {
            return new ExpectCapsBody(s.greeting(), List.of());
        }
        // A server older than RFC 3977 answers CAPABILITIES with 500 (unknown command): the list is empty.
        if (options.implicitTls()) {
            return completeImplicit(s.greeting(), Capabilities.NONE);
        }
        if (options.level() == SecurityLevel.NONE) {
            return complete(new Result(
                    Protocol.NNTP,
                    Result.Ending.PLAINTEXT,
                    false,
                    s.greeting(),
                    Capabilities.NONE,
                    Capabilities.NONE,
                    none()));
        }
        // protocols.md (obs.), as for POP3 CAPA: old servers without CAPABILITIES may still accept
        // STARTTLS (RFC 4642 predates RFC 3977 deployments); try it blindly. At MAY a refusal simply
        // means "no TLS"; from ENCRYPT up it fails closed.
        write(STARTTLS);
        return new ExpectBlindStarttlsReply(s.greeting());
    }

    private State onCapsBody(ExpectCapsBody s, String line) {
        if (!isTerminator(line)) {
            return new ExpectCapsBody(s.greeting(), append(s.lines(), line));
        }
        Capabilities caps = new Capabilities(s.lines());
        if (options.implicitTls()) {
            // RFC 8143 §3: implicit TLS on 563; never STARTTLS inside it.
            return completeImplicit(s.greeting(), caps);
        }
        Result plaintext = new Result(
                Protocol.NNTP, Result.Ending.PLAINTEXT, false, s.greeting(), caps, Capabilities.NONE, none());
        observe(plaintext);
        if (options.level() == SecurityLevel.NONE) {
            return complete(plaintext);
        }
        // RFC 4642 §2.1: the STARTTLS capability label advertises the command (keywords are
        // case-insensitive, RFC 3977 §3.3.2).
        if (!caps.has("STARTTLS")) {
            String detail = "the server does not list STARTTLS in its CAPABILITIES reply";
            if (options.level().requiresTls()) {
                // protocols.md §0.1.6: required TLS fails closed; QUIT first while the session is sane.
                write(QUIT);
                failNow(
                        Failure.policy(
                                FailureKind.STARTTLS_NOT_OFFERED,
                                Phase.CAPABILITIES,
                                detail + "; TLS is required at level " + options.level()
                                        + ", so the connection is closed (lower the level to MAY to allow plaintext)"),
                        plaintext);
                return new Done(Phase.CAPABILITIES);
            }
            emit(new Step.UpgradeUnavailable(
                    Failure.peer(FailureKind.STARTTLS_NOT_OFFERED, Phase.CAPABILITIES, detail), plaintext));
            return new Done(Phase.CAPABILITIES);
        }
        // RFC 4642 §2.2.2: STARTTLS is sent alone; nothing may follow it before the handshake.
        write(STARTTLS);
        return new ExpectStarttlsReply(s.greeting(), caps);
    }

    private State onStarttlsReply(String greeting, Capabilities before, boolean advertised, String line) {
        NntpReply reply = parse(line, "to STARTTLS");
        if (reply.code() == 382) {
            // RFC 4642 §2.2.2: after 382 the client MUST start the TLS negotiation at once. Any byte
            // already buffered came in plaintext: response injection (security.md §5).
            beginClientHandshake();
            return new AwaitHandshake(greeting, before);
        }
        // RFC 4642 §2.2.2: 580 "can not initiate TLS negotiation", 502 "command unavailable" (e.g.
        // already authenticated or TLS active), 501 syntax, 483 and others: no TLS on this connection.
        // Without an advertisement the refusal just says there is no TLS support.
        FailureKind kind = advertised ? FailureKind.STARTTLS_REFUSED : FailureKind.STARTTLS_NOT_OFFERED;
        String detail = (advertised
                        ? "the server refused STARTTLS: "
                        : "the server refused CAPABILITIES and then STARTTLS (no TLS support): ")
                + abbreviate(line);
        Result plaintext =
                new Result(Protocol.NNTP, Result.Ending.PLAINTEXT, false, greeting, before, Capabilities.NONE, none());
        if (options.level().requiresTls()) {
            write(QUIT);
            failNow(
                    new Failure(
                            Blame.POLICY,
                            kind,
                            Phase.UPGRADE,
                            detail + "; TLS is required at level " + options.level() + ", so the connection is closed",
                            reply.temporary()),
                    plaintext);
            return new Done(Phase.UPGRADE);
        }
        emit(new Step.UpgradeUnavailable(
                Failure.peer(kind, Phase.UPGRADE, detail).withTemporary(reply.temporary()), plaintext));
        return new Done(Phase.UPGRADE);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake s)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        // RFC 4642 §2.2.2: the client MUST discard knowledge obtained from the server before TLS and
        // SHOULD re-issue CAPABILITIES. Only the report keeps what was seen before TLS.
        write(CAPABILITIES);
        state = new ExpectCapsReplyAfterTls(s.greeting(), s.before());
    }

    private State onCapsReplyAfterTls(ExpectCapsReplyAfterTls s, String line) {
        NntpReply reply = parse(line, "to CAPABILITIES after TLS");
        if (reply.code() == 101) {
            return new ExpectCapsBodyAfterTls(s.greeting(), s.before(), List.of());
        }
        return complete(upgraded(s.greeting(), s.before(), Capabilities.NONE));
    }

    private State onCapsBodyAfterTls(ExpectCapsBodyAfterTls s, String line) {
        if (!isTerminator(line)) {
            return new ExpectCapsBodyAfterTls(s.greeting(), s.before(), append(s.lines(), line));
        }
        Capabilities after = new Capabilities(s.lines());
        if (after.has("STARTTLS")) {
            // RFC 4642 §2.2.2: the server MUST NOT advertise STARTTLS once TLS is active.
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION, "the server lists STARTTLS again after TLS was established");
        }
        return complete(upgraded(s.greeting(), s.before(), after));
    }

    private List<String> append(List<String> lines, String line) {
        // Limits: a capability list longer than maxReplyLines is a failure, never unbounded growth.
        if (lines.size() >= limits.maxReplyLines()) {
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED,
                    "the CAPABILITIES reply has more than " + limits.maxReplyLines() + " lines");
        }
        List<String> next = new ArrayList<>(lines.size() + 1);
        next.addAll(lines);
        // RFC 3977 §3.1.1: a leading dot of a multi-line block line is doubled ("dot-stuffing").
        String entry = line.startsWith(".") ? line.substring(1) : line;
        if (!entry.isBlank()) {
            next.add(entry);
        }
        return List.copyOf(next);
    }

    /** RFC 3977 §3.1.1: a multi-line block ends with a line holding a single dot. */
    static boolean isTerminator(String line) {
        return line.equals(".");
    }

    private State completeImplicit(String greeting, Capabilities caps) {
        return complete(
                new Result(Protocol.NNTP, Result.Ending.IMPLICIT_TLS, true, greeting, Capabilities.NONE, caps, none()));
    }

    private static Result upgraded(String greeting, Capabilities before, Capabilities after) {
        return new Result(Protocol.NNTP, Result.Ending.UPGRADED, true, greeting, before, after, none());
    }

    private State complete(Result result) {
        emit(new Step.Completed(result));
        return new Done(state.phase());
    }

    private static ByteBuffer none() {
        return ByteBuffer.allocate(0);
    }

    static String abbreviate(String line) {
        String printable = line.codePoints()
                .map(c -> c < 0x20 || c == 0x7f ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return '"' + (printable.length() > 200 ? printable.substring(0, 200) + "..." : printable) + '"';
    }
}
