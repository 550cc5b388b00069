package dev.optls.core;

import java.nio.ByteBuffer;

/**
 * How a negotiation ended when it ended well.
 *
 * @param protocol the protocol spoken
 * @param ending why it ended
 * @param tlsActive whether the connection is now protected by TLS
 * @param greeting the server greeting text. After an upgrade this is the greeting seen in plaintext,
 *     kept for reports only: nothing in the negotiation uses it after TLS
 * @param before what the server advertised before TLS (for reports only; forgotten by the state)
 * @param after what the server advertised after TLS (empty when no TLS)
 * @param remaining unconsumed input that belongs to the application (server hand-over only; read-only)
 */
public record Result(
        Protocol protocol,
        Ending ending,
        boolean tlsActive,
        String greeting,
        Capabilities before,
        Capabilities after,
        ByteBuffer remaining) {

    /** Why a negotiation completed. */
    public enum Ending {
        /** Client: TLS is up and capabilities were asked again. Server: the handshake completed. */
        UPGRADED,
        /** Client on an implicit-TLS connection: TLS was up before the first byte. */
        IMPLICIT_TLS,
        /** Client at level NONE: plaintext on purpose. */
        PLAINTEXT,
        /** Server: the application took over the connection at a command it must handle itself. */
        HANDED_OVER,
        /** The session ended with QUIT / LOGOUT. */
        CLOSED
    }

    public Result {
        remaining = remaining.asReadOnlyBuffer();
    }

    /** A read-only view of the remaining bytes, with its own position. */
    @Override
    public ByteBuffer remaining() {
        return remaining.duplicate();
    }
}
