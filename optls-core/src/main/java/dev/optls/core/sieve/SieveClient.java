package dev.optls.core.sieve;

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
 * The client side of a ManageSieve upgrade (RFC 5804 §2.2): the greeting is the capability list ended
 * by {@code OK}; if it lists {@code "STARTTLS"} the client sends {@code STARTTLS}, starts TLS on {@code
 * OK}, and reads the capability list that the server re-sends over TLS without being asked.
 *
 * <p>It ends in {@link Step.Completed} (TLS up, or plaintext on purpose at {@link SecurityLevel#NONE}),
 * {@link Step.UpgradeUnavailable} (level {@code MAY}: no {@code STARTTLS}, or {@code NO} to it; the
 * connection is at a clean command boundary) or {@link Step.Failed}. Capabilities are reported as
 * {@code NAME value} entries: {@code "SASL" "PLAIN LOGIN"} becomes {@code SASL PLAIN LOGIN}, {@code
 * "SASL" ""} becomes {@code SASL}.
 *
 * <p>The post-TLS list is awaited, never asked for with {@code CAPABILITY} (RFC 5804 §2.2: the server
 * MUST re-issue it). A server that does not (very old Cyrus timsieved) leaves the negotiation waiting
 * until the adapter's reply timeout.
 */
public final class SieveClient extends BaseNegotiation {
    private static final String STARTTLS = "STARTTLS\r\n";
    private static final String LOGOUT = "LOGOUT\r\n";

    private final ClientOptions options;
    private final SieveFramer framer;
    private State state = new ExpectGreeting(List.of());

    /** A client negotiation with these options. */
    public SieveClient(ClientOptions options) {
        super(Protocol.SIEVE, options.limits());
        this.options = options;
        this.framer = new SieveFramer(options.limits());
    }

    private sealed interface State {
        Phase phase();
    }

    /** RFC 5804 §1.7: the greeting is the capability list, ended by OK. */
    private record ExpectGreeting(List<String> capabilities) implements State {
        @Override
        public Phase phase() {
            return Phase.GREETING;
        }
    }

    private record ExpectStartTlsReply(String greeting, Capabilities before) implements State {
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

    /** RFC 5804 §2.2: the capability list the server re-sends over TLS; {@code before} is for the report. */
    private record ExpectCapabilitiesAfterTls(String greeting, Capabilities before, List<String> capabilities)
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
        SieveLine line = nextLine(state.phase());
        if (line == null) {
            return false;
        }
        // Java 17: no pattern matching for switch yet, hence the instanceof chain.
        State s = state;
        if (s instanceof ExpectGreeting g) {
            state = onGreeting(g, line);
        } else if (s instanceof ExpectStartTlsReply r) {
            state = onStartTlsReply(r, line);
        } else if (s instanceof ExpectCapabilitiesAfterTls a) {
            state = onCapabilitiesAfterTls(a, line);
        }
        return true;
    }

    /** The next complete line, literals included, or null. */
    private SieveLine nextLine(Phase phase) {
        int length;
        try {
            length = framer.scan(in);
        } catch (SieveSyntaxException e) {
            throw new NegotiationException(Failure.peer(e.kind(), phase, "the server sent a " + e.getMessage()));
        }
        if (length == SieveFramer.INCOMPLETE) {
            return null;
        }
        byte[] frame = in.take(length);
        try {
            return SieveLine.of(frame);
        } catch (SieveSyntaxException e) {
            throw new NegotiationException(Failure.peer(
                    e.kind(),
                    phase,
                    "the server sent a line that is neither a capability nor OK/NO/BYE (" + e.getMessage() + "): "
                            + abbreviate(frame)));
        }
    }

    private State onGreeting(ExpectGreeting s, SieveLine line) {
        if (line instanceof SieveLine.Capability c) {
            return new ExpectGreeting(append(s.capabilities(), c));
        }
        SieveLine.Response r = (SieveLine.Response) line;
        if (!r.ok()) {
            // RFC 5804 §1.2/§2: a server that cannot serve greets with NO or BYE (e.g. BYE (TRYLATER)).
            throw new NegotiationException(Failure.peer(
                            FailureKind.SERVICE_UNAVAILABLE,
                            Phase.GREETING,
                            "the server refused the session: " + r.describe())
                    .withTemporary(r.temporary()));
        }
        Capabilities caps = new Capabilities(s.capabilities());
        String greeting = r.text().isEmpty()
                ? caps.find("IMPLEMENTATION")
                        .map(e -> e.substring(Math.min(e.length(), "IMPLEMENTATION ".length())))
                        .orElse("")
                : r.text();
        if (options.implicitTls()) {
            // No implicit-TLS port is registered for ManageSieve; on a connection that is TLS already,
            // the greeting is the whole story and STARTTLS is never sent (RFC 8314 §3 by analogy).
            return complete(new Result(
                    Protocol.SIEVE, Result.Ending.IMPLICIT_TLS, true, greeting, Capabilities.NONE, caps, none()));
        }
        Result plaintext =
                new Result(Protocol.SIEVE, Result.Ending.PLAINTEXT, false, greeting, caps, Capabilities.NONE, none());
        observe(plaintext);
        if (options.level() == SecurityLevel.NONE) {
            return complete(plaintext);
        }
        // RFC 5804 §1.7: "STARTTLS" in the capability list says that the STARTTLS command is supported.
        if (!caps.has("STARTTLS")) {
            return unavailable(
                    Failure.peer(
                            FailureKind.STARTTLS_NOT_OFFERED,
                            Phase.CAPABILITIES,
                            "the server does not list STARTTLS in its capabilities"),
                    plaintext);
        }
        // RFC 5804 §2.2: STARTTLS is sent alone; nothing may follow it before the handshake.
        write(STARTTLS);
        return new ExpectStartTlsReply(greeting, caps);
    }

    private State onStartTlsReply(ExpectStartTlsReply s, SieveLine line) {
        if (!(line instanceof SieveLine.Response r)) {
            throw peerFailure(
                    FailureKind.MALFORMED,
                    "the server answered STARTTLS with a capability line instead of OK, NO or BYE");
        }
        if (r.ok()) {
            // RFC 5804 §2.2: after OK the client starts TLS at once. Any byte already buffered came in
            // plaintext: response injection (security.md §5, CVE-2011-0411 class).
            beginClientHandshake();
            return new AwaitHandshake(s.greeting(), s.before());
        }
        Result plaintext = new Result(
                Protocol.SIEVE, Result.Ending.PLAINTEXT, false, s.greeting(), s.before(), Capabilities.NONE, none());
        Failure refused = Failure.peer(
                        FailureKind.STARTTLS_REFUSED, Phase.UPGRADE, "the server refused STARTTLS: " + r.describe())
                .withTemporary(r.temporary());
        if (r.status().equals("BYE")) {
            // RFC 5804 §1.3: BYE means the server closes the connection: no plaintext session remains.
            failNow(options.level().requiresTls() ? policy(refused) : refused, plaintext);
            return new Done(Phase.UPGRADE);
        }
        return unavailable(refused, plaintext);
    }

    /** MAY: continue in plaintext; required levels: LOGOUT and fail closed (protocols.md §0.1.6). */
    private State unavailable(Failure reason, Result plaintext) {
        if (options.level().requiresTls()) {
            write(LOGOUT);
            failNow(policy(reason), plaintext);
        } else {
            emit(new Step.UpgradeUnavailable(reason, plaintext));
        }
        return new Done(reason.phase());
    }

    private Failure policy(Failure reason) {
        return new Failure(
                dev.optls.core.Blame.POLICY,
                reason.kind(),
                reason.phase(),
                reason.detail() + "; TLS is required at level " + options.level()
                        + ", so the connection is closed (lower the level to MAY to allow plaintext)",
                reason.temporary());
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake s)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        // RFC 5804 §2.2: "After the TLS layer is established, the server MUST re-issue the capability
        // results, followed by an OK response" and the client MUST discard what it knew. Nothing is sent:
        // the list is already on its way (a CAPABILITY now would get a second list).
        framer.reset();
        state = new ExpectCapabilitiesAfterTls(s.greeting(), s.before(), List.of());
    }

    private State onCapabilitiesAfterTls(ExpectCapabilitiesAfterTls s, SieveLine line) {
        if (line instanceof SieveLine.Capability c) {
            return new ExpectCapabilitiesAfterTls(s.greeting(), s.before(), append(s.capabilities(), c));
        }
        SieveLine.Response r = (SieveLine.Response) line;
        if (!r.ok()) {
            throw new NegotiationException(Failure.peer(
                            FailureKind.SERVICE_UNAVAILABLE,
                            Phase.CAPABILITIES_AFTER_TLS,
                            "the server ended the capability list after TLS with " + r.describe())
                    .withTemporary(r.temporary()));
        }
        Capabilities after = new Capabilities(s.capabilities());
        if (after.has("STARTTLS")) {
            // RFC 5804 §2.2: TLS is active, so STARTTLS can no longer be offered; listing it again is a
            // server bug or an attempt to make the client start TLS twice.
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION, "the server lists STARTTLS again after TLS was established");
        }
        return complete(
                new Result(Protocol.SIEVE, Result.Ending.UPGRADED, true, s.greeting(), s.before(), after, none()));
    }

    private List<String> append(List<String> caps, SieveLine.Capability c) {
        // Limits: a capability list longer than maxReplyLines is a failure, never unbounded growth.
        if (caps.size() >= limits.maxReplyLines()) {
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED,
                    "the capability list has more than " + limits.maxReplyLines() + " lines");
        }
        List<String> next = new ArrayList<>(caps.size() + 1);
        next.addAll(caps);
        next.add(c.entry());
        return List.copyOf(next);
    }

    private State complete(Result result) {
        emit(new Step.Completed(result));
        return new Done(state.phase());
    }

    private static ByteBuffer none() {
        return ByteBuffer.allocate(0);
    }

    static String abbreviate(byte[] frame) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < frame.length && i < 200; i++) {
            int c = frame[i] & 0xff;
            out.append(c < 0x20 || c >= 0x7f ? '?' : (char) c);
        }
        return out.append(frame.length > 200 ? "...\"" : "\"").toString();
    }
}
