package dev.optls.core;

import java.nio.ByteBuffer;

/**
 * What a {@link Negotiation} wants its adapter to do next. Steps other than {@link NeedInput} and
 * {@link WriteOutput} are returned again by every {@link Negotiation#poll()} until the adapter acts on
 * them.
 */
public sealed interface Step {

    /** Read more bytes from the peer and pass them to {@link Negotiation#receive(ByteBuffer)}. */
    record NeedInput() implements Step {}

    /** Output is pending: call {@link Negotiation#drainOutput(ByteBuffer)}, write and flush it. */
    record WriteOutput(int pending) implements Step {}

    /**
     * Start the TLS handshake on this connection now; every pending plaintext byte has been flushed.
     * Call {@link Negotiation#handshakeCompleted(HandshakeSummary)} when it completes. If it fails,
     * close the connection: there is no plaintext fallback on the same connection.
     *
     * @param tlsInput bytes that arrived after the upgrade command (server side only). They were never
     *     parsed as plaintext; feed them to the TLS engine as the start of the ClientHello (RFC 9051
     *     §6.2.1) or discard them. Always empty on the client side, where such bytes are a failure.
     */
    record BeginHandshake(ByteBuffer tlsInput) implements Step {
        public BeginHandshake {
            tlsInput = tlsInput.asReadOnlyBuffer();
        }

        /** A read-only view of the bytes, with its own position. */
        @Override
        public ByteBuffer tlsInput() {
            return tlsInput.duplicate();
        }
    }

    /**
     * Client at level MAY: the server does not offer the upgrade or refused it. The connection is at a
     * clean command boundary and may continue in plaintext.
     */
    record UpgradeUnavailable(Failure reason, Result plaintext) implements Step {}

    /**
     * Server: a command the application must answer with {@link Negotiation#respond(String)} (or hand
     * the connection over with {@link Negotiation#handOver()}).
     */
    record Deliver(Command command) implements Step {}

    /** The negotiation is over and the connection belongs to the application. */
    record Completed(Result result) implements Step {}

    /**
     * The negotiation failed: write any pending output, then close the connection.
     *
     * @param failure what went wrong
     * @param observed what the server had advertised in plaintext, when the failure is a policy refusal
     *     (STARTTLS not offered or refused at a level that requires TLS): for reports only
     */
    record Failed(Failure failure, java.util.Optional<Result> observed) implements Step {
        /** A failure with nothing observed worth reporting. */
        public Failed(Failure failure) {
            this(failure, java.util.Optional.empty());
        }
    }

    /** The shared {@link NeedInput} value. */
    NeedInput NEED_INPUT = new NeedInput();
}
