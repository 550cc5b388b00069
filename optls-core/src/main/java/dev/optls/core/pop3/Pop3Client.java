package dev.optls.core.pop3;

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
 * The client side of a POP3 upgrade: greeting, {@code CAPA} (RFC 2449), {@code STLS} (RFC 2595 §4),
 * TLS, and {@code CAPA} again. On an implicit-TLS connection (pop3s, RFC 8314) it reads the greeting
 * and capabilities only.
 *
 * <p>It ends in {@link Step.Completed} (TLS up, or plaintext on purpose at {@link
 * dev.optls.core.SecurityLevel#NONE}), {@link Step.UpgradeUnavailable} (level {@code MAY}, the
 * server cannot upgrade; the connection is at a clean command boundary) or {@link Step.Failed}.
 */
public final class Pop3Client extends BaseNegotiation {
    private static final String CAPA = "CAPA\r\n";
    private static final String STLS = "STLS\r\n";
    private static final String QUIT = "QUIT\r\n";

    private final ClientOptions options;
    private State state = new ExpectGreeting();

    /** A client negotiation with these options. */
    public Pop3Client(ClientOptions options) {
        super(Protocol.POP3, options.limits());
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

    /** CAPA sent in plaintext (or on an implicit-TLS connection), status line expected. */
    private record ExpectCapaReply(String greeting) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES;
        }
    }

    private record ExpectCapaBody(String greeting, List<String> lines) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES;
        }
    }

    /** STLS sent because CAPA listed it. */
    private record ExpectStlsReply(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.UPGRADE;
        }
    }

    /** STLS sent without an advertisement, because the server answered CAPA with -ERR. */
    private record ExpectBlindStlsReply(String greeting) implements State {
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

    /** CAPA re-sent over TLS. The greeting and {@code before} are carried for the report only. */
    private record ExpectCapaReplyAfterTls(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES_AFTER_TLS;
        }
    }

    private record ExpectCapaBodyAfterTls(String greeting, Capabilities before, List<String> lines) implements State {
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
        } else if (s instanceof ExpectCapaReply r) {
            state = onCapaReply(r, line);
        } else if (s instanceof ExpectCapaBody b) {
            state = onCapaBody(b, line);
        } else if (s instanceof ExpectStlsReply r) {
            state = onStlsReply(r.greeting(), r.before(), true, line);
        } else if (s instanceof ExpectBlindStlsReply r) {
            state = onStlsReply(r.greeting(), Capabilities.NONE, false, line);
        } else if (s instanceof ExpectCapaReplyAfterTls r) {
            state = onCapaReplyAfterTls(r, line);
        } else if (s instanceof ExpectCapaBodyAfterTls b) {
            state = onCapaBodyAfterTls(b, line);
        }
        return true;
    }

    private Pop3Reply parse(String line, String what) {
        return Pop3Reply.parse(line)
                .orElseThrow(() -> peerFailure(
                        FailureKind.MALFORMED, "expected +OK or -ERR " + what + ", got: " + abbreviate(line)));
    }

    private State onGreeting(String line) {
        Pop3Reply greeting = parse(line, "as the greeting");
        if (!greeting.positive()) {
            throw new NegotiationException(Failure.peer(
                            FailureKind.SERVICE_UNAVAILABLE,
                            Phase.GREETING,
                            "the server refused the session: " + abbreviate(line))
                    .withTemporary(greeting.temporary()));
        }
        if (options.greetingOnly()) {
            return complete(new Result(
                    Protocol.POP3,
                    Result.Ending.PLAINTEXT,
                    false,
                    greeting.text(),
                    Capabilities.NONE,
                    Capabilities.NONE,
                    ByteBuffer.allocate(0)));
        }
        // RFC 2449 §5: CAPA may be issued in the AUTHORIZATION state, right after the greeting. An
        // APOP timestamp in the greeting stays in the report only; nothing here acts on it.
        write(CAPA);
        return new ExpectCapaReply(greeting.text());
    }

    private State onCapaReply(ExpectCapaReply s, String line) {
        Pop3Reply reply = parse(line, "to CAPA");
        if (reply.positive()) {
            return new ExpectCapaBody(s.greeting(), List.of());
        }
        // RFC 2449 is an extension: servers without it answer CAPA with -ERR (RFC 1939 §3 unknown
        // command). The capability list is then simply empty.
        if (options.implicitTls()) {
            return completeImplicit(s.greeting(), Capabilities.NONE);
        }
        if (options.level() == SecurityLevel.NONE) {
            return complete(new Result(
                    Protocol.POP3,
                    Result.Ending.PLAINTEXT,
                    false,
                    s.greeting(),
                    Capabilities.NONE,
                    Capabilities.NONE,
                    ByteBuffer.allocate(0)));
        }
        // protocols.md §4.2 (obs.): old servers refuse CAPA yet accept STLS; openssl s_client and
        // testssl.sh send STLS blindly. We do the same at every level above NONE: at MAY an -ERR
        // simply means "no TLS" and the session continues in plaintext; from ENCRYPT up it fails.
        write(STLS);
        return new ExpectBlindStlsReply(s.greeting());
    }

    private State onCapaBody(ExpectCapaBody s, String line) {
        if (!Pop3MultiLine.isTerminator(line)) {
            return new ExpectCapaBody(s.greeting(), append(s.lines(), line));
        }
        Capabilities caps = new Capabilities(s.lines());
        if (options.implicitTls()) {
            // RFC 8314 §3: never send STLS on an implicit-TLS connection. A pop3s server listing STLS
            // is misconfigured but harmless, so it is tolerated here.
            return completeImplicit(s.greeting(), caps);
        }
        Result plaintext = new Result(
                Protocol.POP3, Result.Ending.PLAINTEXT, false, s.greeting(), caps, Capabilities.NONE, none());
        observe(plaintext);
        if (options.level() == SecurityLevel.NONE) {
            return complete(plaintext);
        }
        // RFC 2595 §4: the STLS capability indicates that the STLS command is supported.
        if (!caps.has("STLS")) {
            String detail = "the server does not list STLS in its CAPA reply";
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
        // RFC 2595 §4: STLS is sent alone; nothing may follow it before the handshake.
        write(STLS);
        return new ExpectStlsReply(s.greeting(), caps);
    }

    private State onStlsReply(String greeting, Capabilities before, boolean advertised, String line) {
        Pop3Reply reply = parse(line, "to STLS");
        if (reply.positive()) {
            // RFC 2595 §4: after +OK the client MUST start the TLS negotiation at once. Any byte
            // already buffered came in plaintext: response injection (security.md §5 E.51).
            beginClientHandshake();
            return new AwaitHandshake(greeting, before);
        }
        // A server that refused CAPA and then STLS never offered TLS (its -ERR is RFC 1939's answer
        // to an unknown command), so that is reported as not offered rather than refused.
        FailureKind kind = advertised ? FailureKind.STARTTLS_REFUSED : FailureKind.STARTTLS_NOT_OFFERED;
        String detail =
                (advertised ? "the server refused STLS: " : "the server refused CAPA and then STLS (no TLS support): ")
                        + abbreviate(line);
        Failure failure = Failure.peer(kind, Phase.UPGRADE, detail).withTemporary(reply.temporary());
        if (options.level().requiresTls()) {
            write(QUIT);
            failNow(
                    new Failure(
                            Blame.POLICY,
                            kind,
                            Phase.UPGRADE,
                            detail + "; TLS is required at level " + options.level() + ", so the connection is closed",
                            reply.temporary()),
                    new Result(
                            Protocol.POP3,
                            Result.Ending.PLAINTEXT,
                            false,
                            greeting,
                            before,
                            Capabilities.NONE,
                            ByteBuffer.allocate(0)));
            return new Done(Phase.UPGRADE);
        }
        emit(new Step.UpgradeUnavailable(
                failure,
                new Result(
                        Protocol.POP3, Result.Ending.PLAINTEXT, false, greeting, before, Capabilities.NONE, none())));
        return new Done(Phase.UPGRADE);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake s)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        // RFC 2595 §4: "the client MUST discard cached information about the capabilities" and
        // re-issue CAPA. Only the report keeps what was seen before TLS.
        write(CAPA);
        state = new ExpectCapaReplyAfterTls(s.greeting(), s.before());
    }

    private State onCapaReplyAfterTls(ExpectCapaReplyAfterTls s, String line) {
        Pop3Reply reply = parse(line, "to CAPA after TLS");
        if (reply.positive()) {
            return new ExpectCapaBodyAfterTls(s.greeting(), s.before(), List.of());
        }
        return complete(upgraded(s.greeting(), s.before(), Capabilities.NONE));
    }

    private State onCapaBodyAfterTls(ExpectCapaBodyAfterTls s, String line) {
        if (!Pop3MultiLine.isTerminator(line)) {
            return new ExpectCapaBodyAfterTls(s.greeting(), s.before(), append(s.lines(), line));
        }
        Capabilities after = new Capabilities(s.lines());
        if (after.has("STLS")) {
            // RFC 2595 §4: "the server MUST NOT return the STLS capability" once TLS is active.
            throw peerFailure(FailureKind.PROTOCOL_VIOLATION, "the server lists STLS again after TLS was established");
        }
        return complete(upgraded(s.greeting(), s.before(), after));
    }

    private List<String> append(List<String> lines, String line) {
        // Limits: a capability list longer than maxReplyLines is a failure, never unbounded growth.
        if (lines.size() >= limits.maxReplyLines()) {
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED, "the CAPA reply has more than " + limits.maxReplyLines() + " lines");
        }
        List<String> next = new ArrayList<>(lines.size() + 1);
        next.addAll(lines);
        String entry = Pop3MultiLine.unstuff(line);
        if (!entry.isBlank()) {
            next.add(entry);
        }
        return List.copyOf(next);
    }

    private State completeImplicit(String greeting, Capabilities caps) {
        return complete(
                new Result(Protocol.POP3, Result.Ending.IMPLICIT_TLS, true, greeting, Capabilities.NONE, caps, none()));
    }

    private static Result upgraded(String greeting, Capabilities before, Capabilities after) {
        return new Result(Protocol.POP3, Result.Ending.UPGRADED, true, greeting, before, after, none());
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
