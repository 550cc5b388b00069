package dev.optls.core.ftp;

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
import java.util.Locale;

/**
 * The client side of an FTP control-connection upgrade (RFC 4217, RFC 2228): greeting, {@code FEAT}
 * (RFC 2389), {@code AUTH TLS}, TLS, and {@code FEAT} again. On an implicit-TLS connection (ftps, port
 * 990) it reads the greeting and asks {@code FEAT} only.
 *
 * <p>Login ({@code USER}/{@code PASS}) and the data-channel protection ({@code PBSZ 0}, {@code PROT P})
 * are the application's: RFC 4217 §9 shows them after login, and some servers refuse them before it. The
 * blocking {@code FtpClientSession} of optls-tls does both.
 *
 * <p>It ends in {@link Step.Completed}, {@link Step.UpgradeUnavailable} (level {@code MAY}, the server
 * cannot upgrade; the connection is at a clean command boundary) or {@link Step.Failed}.
 */
public final class FtpClient extends BaseNegotiation {
    private static final String FEAT = "FEAT\r\n";
    private static final String AUTH_TLS = "AUTH TLS\r\n";
    private static final String QUIT = "QUIT\r\n";

    private final ClientOptions options;
    private final FtpReplyReader reader;
    private State state = new ExpectGreeting();

    /** A client negotiation with these options. */
    public FtpClient(ClientOptions options) {
        super(Protocol.FTP, options.limits());
        this.options = options;
        this.reader = new FtpReplyReader(options.limits());
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

    /** FEAT sent in plaintext (or first thing on an implicit-TLS connection). */
    private record ExpectFeatReply(String greeting) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES;
        }
    }

    /** AUTH TLS sent; {@code advertised} says whether FEAT listed it. */
    private record ExpectAuthReply(String greeting, Capabilities before, boolean advertised) implements State {
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

    /** FEAT re-sent over TLS; greeting and {@code before} are carried for the report only. */
    private record ExpectFeatReplyAfterTls(String greeting, Capabilities before) implements State {
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
        FtpReply reply;
        try {
            reply = reader.accept(line);
        } catch (FtpReplyReader.MalformedReplyException e) {
            throw peerFailure(e.kind(), e.getMessage());
        }
        if (reply == null) {
            return true;
        }
        // Java 17: no pattern matching for switch yet, hence the instanceof chain.
        State s = state;
        if (s instanceof ExpectGreeting) {
            state = onGreeting(reply);
        } else if (s instanceof ExpectFeatReply r) {
            state = onFeatReply(r, reply);
        } else if (s instanceof ExpectAuthReply r) {
            state = onAuthReply(r, reply);
        } else if (s instanceof ExpectFeatReplyAfterTls r) {
            state = complete(upgraded(r.greeting(), r.before(), features(reply)));
        }
        return true;
    }

    private State onGreeting(FtpReply reply) {
        // RFC 959 §5.4 (connection establishment): 120 "ready in nnn minutes" is followed by 220 later.
        if (reply.code() == 120) {
            return state;
        }
        if (reply.code() != 220) {
            // RFC 959 §5.4: 421 service not available; anything else is not a greeting.
            throw new NegotiationException(Failure.peer(
                            reply.code() == 421 ? FailureKind.SERVICE_UNAVAILABLE : FailureKind.PROTOCOL_VIOLATION,
                            Phase.GREETING,
                            "the server did not greet with 220: " + reply.summary())
                    .withTemporary(reply.temporary()));
        }
        if (options.greetingOnly()) {
            return complete(plaintext(String.join(" ", reply.lines()), Capabilities.NONE));
        }
        // RFC 2389 §3: FEAT may be sent at any time, and before login.
        write(FEAT);
        return new ExpectFeatReply(String.join(" ", reply.lines()));
    }

    private State onFeatReply(ExpectFeatReply s, FtpReply reply) {
        Capabilities caps = features(reply);
        if (options.implicitTls()) {
            // RFC 4217 §1 / RFC 8314 spirit: on port 990 TLS is up before the greeting; never AUTH inside it.
            return complete(new Result(
                    Protocol.FTP, Result.Ending.IMPLICIT_TLS, true, s.greeting(), Capabilities.NONE, caps, none()));
        }
        Result plaintext = plaintext(s.greeting(), caps);
        observe(plaintext);
        if (options.level() == SecurityLevel.NONE) {
            return complete(plaintext);
        }
        boolean featKnown = reply.code() == 211;
        boolean advertised = offersAuthTls(caps);
        if (featKnown && !advertised && !options.level().requiresTls()) {
            // protocols.md §0.1.1: at MAY, upgrade only if advertised (RFC 4217 §6: AUTH TLS in FEAT).
            emit(new Step.UpgradeUnavailable(
                    Failure.peer(
                            FailureKind.STARTTLS_NOT_OFFERED,
                            Phase.CAPABILITIES,
                            "the server does not list AUTH TLS in its FEAT reply"),
                    plaintext));
            return new Done(Phase.CAPABILITIES);
        }
        // Required levels try even without an advertisement (protocols.md §0.1.1) and fail closed on a
        // refusal; a server without FEAT (RFC 959-only) may still know AUTH TLS. RFC 4217 §4: AUTH TLS is
        // sent alone; nothing may follow it before the handshake.
        write(AUTH_TLS);
        return new ExpectAuthReply(s.greeting(), caps, advertised);
    }

    private State onAuthReply(ExpectAuthReply s, FtpReply reply) {
        if (reply.code() == 234) {
            // RFC 4217 §4.1: 234 means the server is ready for the TLS handshake on the control
            // connection. Anything already buffered came in plaintext: response injection.
            beginClientHandshake();
            return new AwaitHandshake(s.greeting(), s.before());
        }
        if (reply.code() == 421) {
            // RFC 959 §4.2: 421 = the server is closing the control connection.
            throw new NegotiationException(Failure.peer(
                            FailureKind.SERVICE_UNAVAILABLE, Phase.UPGRADE, "the server is closing: " + reply.summary())
                    .withTemporary(true));
        }
        if (reply.code() < 400) {
            // RFC 2228 §3: 334 asks for ADAT (not TLS); 1yz/2yz other than 234 do not answer AUTH.
            throw peerFailure(FailureKind.PROTOCOL_VIOLATION, "unexpected reply to AUTH TLS: " + reply.summary());
        }
        // RFC 4217 §4.1 / RFC 2228 §4: 504 mechanism not understood, 534 refused by policy, 431 resource
        // unavailable, 500/502 AUTH unknown; vsftpd without SSL answers 530. No TLS on this connection.
        FailureKind kind = s.advertised() ? FailureKind.STARTTLS_REFUSED : FailureKind.STARTTLS_NOT_OFFERED;
        String detail = (s.advertised() ? "the server refused AUTH TLS: " : "the server does not offer AUTH TLS: ")
                + reply.summary();
        Result plaintext = plaintext(s.greeting(), s.before());
        if (options.level().requiresTls()) {
            // protocols.md §0.1.6: QUIT while the session is sane, then close; never USER in plaintext.
            write(QUIT);
            failNow(
                    new Failure(
                            Blame.POLICY,
                            kind,
                            Phase.UPGRADE,
                            detail + "; TLS is required at level " + options.level()
                                    + ", so the connection is closed (lower the level to MAY to allow plaintext)",
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
        // RFC 2228 §3 (AUTH): a successful AUTH resets the security state; capabilities are asked again
        // and only the answer over TLS counts. The FEAT round trip also makes the client read a TLS 1.3
        // NewSessionTicket before any data connection wants to resume the session (protocols.md §8.3).
        write(FEAT);
        state = new ExpectFeatReplyAfterTls(s.greeting(), s.before());
    }

    /** RFC 2389 §3.2: feature lines are the middle lines of a 211 reply; anything else lists nothing. */
    static Capabilities features(FtpReply reply) {
        if (reply.code() != 211 || reply.lines().size() < 2) {
            return Capabilities.NONE;
        }
        List<String> entries = new ArrayList<>();
        for (String line : reply.lines().subList(1, reply.lines().size() - 1)) {
            String entry = line.strip();
            if (!entry.isEmpty()) {
                entries.add(entry);
            }
        }
        return new Capabilities(entries);
    }

    /** RFC 4217 §6: {@code AUTH TLS} (some servers list {@code AUTH TLS;SSL;TLS-C} on one line). */
    static boolean offersAuthTls(Capabilities caps) {
        for (String entry : caps.entries()) {
            if (Capabilities.keywordOf(entry).equals("AUTH")) {
                for (String mechanism :
                        entry.substring(4).toUpperCase(Locale.ROOT).split("[;, ]")) {
                    if (mechanism.equals("TLS") || mechanism.equals("TLS-C")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static Result plaintext(String greeting, Capabilities caps) {
        return new Result(Protocol.FTP, Result.Ending.PLAINTEXT, false, greeting, caps, Capabilities.NONE, none());
    }

    private static Result upgraded(String greeting, Capabilities before, Capabilities after) {
        return new Result(Protocol.FTP, Result.Ending.UPGRADED, true, greeting, before, after, none());
    }

    private State complete(Result result) {
        emit(new Step.Completed(result));
        return new Done(state.phase());
    }

    private static ByteBuffer none() {
        return ByteBuffer.allocate(0);
    }
}
