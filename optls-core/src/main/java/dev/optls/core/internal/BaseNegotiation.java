package dev.optls.core.internal;

import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.Step;
import java.io.ByteArrayOutputStream;
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
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private byte[] outBytes = new byte[0];
    private int outPos;
    private Step event;
    private boolean eof;
    private byte[] deliveredRaw;

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
            failNow(Failure.peer(
                    FailureKind.LIMIT_EXCEEDED,
                    phase(),
                    "peer sent more than " + limits.maxBufferedBytes() + " bytes without completing a "
                            + (this instanceof ServerSide ? "command" : "reply")));
        }
    }

    @Override
    public final void receiveEof() {
        eof = true;
    }

    @Override
    public final Step poll() {
        while (true) {
            if (outPos < outBytes.length || out.size() > 0) {
                return new Step.WriteOutput(outBytes.length - outPos + out.size());
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
                failNow(Failure.peer(
                        FailureKind.LIMIT_EXCEEDED,
                        phase(),
                        "peer sent a line longer than " + limits.maxLineLength() + " bytes"));
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
        if (outPos == outBytes.length && out.size() > 0) {
            outBytes = out.toByteArray();
            outPos = 0;
            out.reset();
        }
        int n = Math.min(target.remaining(), outBytes.length - outPos);
        target.put(outBytes, outPos, n);
        outPos += n;
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
        event = null;
        deliveredRaw = null;
        String text = reply.endsWith("\n") ? reply : reply + "\r\n";
        write(text);
        onResponded(reply);
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

    /** Server side: called after the application answered a delivered command. */
    protected void onResponded(String reply) {
        throw new IllegalStateException("not a server negotiation");
    }

    /** Server side: the result when the application takes the connection over. */
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        throw new IllegalStateException("not a server negotiation");
    }

    /** Queue output. */
    protected final void write(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
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

    /** Fail now; output already queued (e.g. QUIT or an error reply) is still flushed first. */
    protected final void failNow(Failure failure) {
        event = new Step.Failed(failure);
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

    /** A marker for server-side negotiations (used for messages only). */
    public interface ServerSide {}
}
