package dev.optls.core.internal;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The machinery every dialect shares: bounded input, pending output, sticky steps and the rule that
 * output is always flushed before a step that changes the transport.
 */
public abstract class BaseNegotiation implements Negotiation {
    protected final Protocol protocol;
    protected final Limits limits;
    protected final InputBuffer in;
    private byte[] out = new byte[256];
    private int outStart;
    private int outEnd;
    private Step event;
    private boolean eof;
    private byte[] deliveredRaw;
    private Result observed;

    protected BaseNegotiation(Protocol protocol, Limits limits) {
        this.protocol = protocol;
        this.limits = limits;
        this.in = new InputBuffer(limits.maxBufferedBytes());
    }

    @Override
    public final Protocol protocol() {
        return protocol;
    }

    @Override
    public final void receive(ByteBuffer input) {
        if (isFinished()) {
            input.position(input.limit());
            return;
        }
        if (event instanceof Step.BeginHandshake) {
            throw new IllegalStateException("plaintext input after BeginHandshake: the adapter must hand the"
                    + " connection to TLS instead of reading more plaintext");
        }
        if (!in.append(input)) {
            input.position(input.limit());
            failOverLimit("peer sent more than " + limits.maxBufferedBytes() + " bytes that were not consumed");
        }
    }

    /** A limit was hit: say the dialect's farewell (if any) and fail with LIMIT_EXCEEDED. */
    private void failOverLimit(String detail) {
        Failure failure = Failure.peer(FailureKind.LIMIT_EXCEEDED, phase(), detail);
        String goodbye = farewell(failure);
        if (goodbye != null) {
            write(goodbye);
        }
        failNow(failure);
    }

    @Override
    public final void receiveEof() {
        eof = true;
    }

    @Override
    public final Step poll() {
        while (true) {
            if (outEnd > outStart) {
                return new Step.WriteOutput(outEnd - outStart);
            }
            if (event != null) {
                return event;
            }
            boolean progressed;
            try {
                progressed = advance();
            } catch (NegotiationException e) {
                failNow(e.failure());
                continue;
            } catch (InputBuffer.LineTooLongException e) {
                failOverLimit("peer sent a line longer than " + limits.maxLineLength() + " bytes");
                continue;
            }
            if (!progressed) {
                if (eof) {
                    failNow(Failure.peer(
                            FailureKind.UNEXPECTED_EOF,
                            phase(),
                            "the peer closed the connection" + (in.size() > 0 ? " in the middle of a line" : "")));
                    continue;
                }
                return Step.NEED_INPUT;
            }
        }
    }

    @Override
    public final int drainOutput(ByteBuffer target) {
        int n = Math.min(target.remaining(), outEnd - outStart);
        target.put(out, outStart, n);
        outStart += n;
        if (outStart == outEnd) {
            outStart = 0;
            outEnd = 0;
        }
        return n;
    }

    @Override
    public final void handshakeCompleted(HandshakeSummary summary) {
        if (!(event instanceof Step.BeginHandshake)) {
            throw new IllegalStateException("handshakeCompleted() without a BeginHandshake step");
        }
        event = null;
        onHandshakeCompleted(summary);
    }

    @Override
    public final void respond(String reply) {
        if (!(event instanceof Step.Deliver)) {
            throw new IllegalStateException("respond() without a delivered command");
        }
        Step delivered = event;
        onResponded(reply);
        if (event == delivered) {
            event = null;
        }
        deliveredRaw = null;
        write(reply.endsWith("\n") ? reply : reply + "\r\n");
    }

    @Override
    public final void handOver() {
        if (!(event instanceof Step.Deliver delivered)) {
            throw new IllegalStateException("handOver() without a delivered command");
        }
        ByteBuffer rest = in.takeAll();
        ByteBuffer all = ByteBuffer.allocate(deliveredRaw.length + rest.remaining());
        all.put(deliveredRaw).put(rest).flip();
        deliveredRaw = null;
        event = new Step.Completed(handOverResult(delivered.command(), all));
    }

    /**
     * Whether the peer has closed its side ({@link #receiveEof()}), for states in which a close is an ending
     * rather than a failure (e.g. after SMTP {@code QUIT}).
     */
    protected final boolean peerClosed() {
        return eof;
    }

    /** Whether the negotiation has ended, well or badly. */
    protected final boolean isFinished() {
        return event instanceof Step.Completed
                || event instanceof Step.Failed
                || event instanceof Step.UpgradeUnavailable;
    }

    /**
     * Make progress on buffered input: consume, write output, or {@link #emit(Step)} a step. Return
     * false when nothing can be done until more input arrives.
     */
    protected abstract boolean advance();

    /** The phase the negotiation is in, for failures. */
    protected abstract Phase phase();

    /** Called when the TLS handshake completed; must reset all state learned before TLS. */
    protected abstract void onHandshakeCompleted(HandshakeSummary summary);

    /**
     * Server side: what to tell the client before closing on a failure detected by this class (line too
     * long); null for nothing.
     */
    protected String farewell(Failure failure) {
        return null;
    }

    /**
     * Server side: called with the application's answer to a delivered command before it is written;
     * throws IllegalStateException for answers the dialect cannot carry (e.g. a continuation).
     */
    protected void onResponded(String reply) {
        throw new IllegalStateException("not a server negotiation");
    }

    /** Server side: the result when the application takes the connection over. */
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        throw new IllegalStateException("not a server negotiation");
    }

    /**
     * Server side: the result when the handshake completed. The application continues with a new
     * negotiation from {@link ServerOptions#afterUpgrade()}, so nothing of the plaintext session survives.
     */
    protected final Result upgradedResult(ServerOptions options) {
        return new Result(
                protocol,
                Result.Ending.UPGRADED,
                true,
                options.greeting(),
                options.plaintextCapabilities(),
                options.tlsCapabilities(),
                ByteBuffer.allocate(0));
    }

    /** Server side: the result of a session that ends now (QUIT, hand-over), with what it advertised. */
    protected final Result sessionResult(ServerOptions options, Result.Ending ending, ByteBuffer remaining) {
        Capabilities now = options.advertised();
        return new Result(
                protocol,
                ending,
                options.tlsActive(),
                options.greeting(),
                options.tlsActive() ? Capabilities.NONE : now,
                options.tlsActive() ? now : Capabilities.NONE,
                remaining);
    }

    /** Queue output. */
    protected final void write(String text) {
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Queue binary output (PostgreSQL, MySQL, LDAP messages), exactly these bytes. */
    protected final void write(byte[] b) {
        if (outEnd + b.length > out.length) {
            // Our own replies only: bounded by what the dialect writes, never by peer input.
            byte[] grown = new byte[Math.max(out.length * 2, outEnd - outStart + b.length)];
            System.arraycopy(out, outStart, grown, 0, outEnd - outStart);
            outEnd -= outStart;
            outStart = 0;
            out = grown;
        }
        System.arraycopy(b, 0, out, outEnd, b.length);
        outEnd += b.length;
    }

    /** Set the step to return once output is flushed. */
    protected final void emit(Step step) {
        event = step;
    }

    /** Deliver a command to the application; {@code raw} are its bytes as received, for hand-over. */
    protected final void deliver(Command command, byte[] raw) {
        deliveredRaw = raw.clone();
        event = new Step.Deliver(command);
    }

    /**
     * Fail now; output already queued (e.g. QUIT or an error reply) is still flushed first. The step
     * carries what was {@link #observe observed} in plaintext, for reports.
     */
    protected final void failNow(Failure failure) {
        event = new Step.Failed(failure, observed());
    }

    /** Fail now, recording {@code plaintextView} as what was observed first. */
    protected final void failNow(Failure failure, Result plaintextView) {
        observe(plaintextView);
        failNow(failure);
    }

    /**
     * Client side: record what the server advertised in plaintext, for reports only ({@link
     * Step.Failed#observed()}, {@link #observed()}); no state ever reads it back.
     */
    protected final void observe(Result plaintextView) {
        observed = plaintextView;
    }

    @Override
    public final java.util.Optional<Result> observed() {
        return java.util.Optional.ofNullable(observed);
    }

    /**
     * Client side: the go-ahead has just been parsed. RFC 3207 §4.2 / RFC 2595 §3.1 / CVE-2011-0411:
     * any byte already buffered after it was sent in plaintext by someone and must never be read as if
     * it came over TLS, so it is a peer failure (response injection), not something to discard.
     */
    protected final void beginClientHandshake() {
        if (in.size() > 0) {
            throw peerFailure(
                    FailureKind.BYTES_AFTER_UPGRADE_REPLY,
                    in.size() + " plaintext byte(s) arrived after the upgrade go-ahead and before TLS"
                            + " (response injection); closing");
        }
        emit(new Step.BeginHandshake(ByteBuffer.allocate(0)));
    }

    /**
     * Server side: write the go-ahead, then hand every byte received after the upgrade command to TLS
     * unparsed (RFC 9051 §6.2.1 option 1; CVE-2011-0411: never execute them as plaintext commands).
     */
    protected final void beginServerHandshake(String goAhead) {
        write(goAhead);
        emit(new Step.BeginHandshake(in.takeAll()));
    }

    /** Take the next line within the line limit, or null when none is complete yet. */
    protected final String nextLine() {
        return in.takeLine(limits.maxLineLength());
    }

    /** Shorthand for raising a peer failure from inside {@link #advance()}. */
    protected final NegotiationException peerFailure(FailureKind kind, String detail) {
        return new NegotiationException(Failure.peer(kind, phase(), detail));
    }
}
