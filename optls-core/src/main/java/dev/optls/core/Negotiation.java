package dev.optls.core;

import java.nio.ByteBuffer;

/**
 * One side of one connection's upgrade, without IO: feed it bytes, poll it for steps.
 *
 * <p>Typical driver loop: {@code poll()}; on {@link Step.WriteOutput} drain and write; on {@link
 * Step.NeedInput} read and {@link #receive(ByteBuffer)}; on {@link Step.BeginHandshake} run TLS and
 * call {@link #handshakeCompleted(HandshakeSummary)}; stop on {@link Step.Completed}, {@link
 * Step.UpgradeUnavailable} or {@link Step.Failed}. A negotiation is not thread-safe.
 */
public interface Negotiation {

    /** The protocol this negotiation speaks. */
    Protocol protocol();

    /** Take all remaining bytes of {@code input}. Bytes beyond the limits turn into a failure. */
    void receive(ByteBuffer input);

    /** The peer closed its side. */
    void receiveEof();

    /** The next thing to do. Never blocks; never throws for anything the peer sent. */
    Step poll();

    /** Copy pending output into {@code out}; returns the number of bytes copied. */
    int drainOutput(ByteBuffer out);

    /** The TLS handshake that {@link Step.BeginHandshake} asked for has completed. */
    void handshakeCompleted(HandshakeSummary summary);

    /**
     * Client side: what the server advertised in plaintext so far (greeting, capabilities), for reports
     * when the negotiation fails later, e.g. in the handshake. Never used by the negotiation itself.
     */
    default java.util.Optional<Result> observed() {
        return java.util.Optional.empty();
    }

    /**
     * Server side: answer the command of the current {@link Step.Deliver} with complete reply lines
     * (CRLF-terminated, or a single line to which CRLF is added).
     *
     * @throws IllegalStateException when no command is waiting for an answer
     */
    default void respond(String reply) {
        throw new IllegalStateException("respond() is for server negotiations with a delivered command");
    }

    /**
     * Server side: end the negotiation at the current {@link Step.Deliver}; the application takes the
     * connection over, starting with the delivered command (returned in {@link Result#remaining()}).
     *
     * @throws IllegalStateException when no command is waiting for an answer
     */
    default void handOver() {
        throw new IllegalStateException("handOver() is for server negotiations with a delivered command");
    }
}
