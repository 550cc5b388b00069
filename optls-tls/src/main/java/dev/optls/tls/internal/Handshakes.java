package dev.optls.tls.internal;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** Shared steps of client and server handshakes. */
public final class Handshakes {
    private Handshakes() {}

    /** Runs {@code startHandshake()} under a per-read timeout and an overall deadline. */
    public static void run(SSLSocket socket, Socket plain, int timeoutMillis) throws HandshakeIoException {
        // Closing the plain socket (not the SSLSocket, whose close() may wait for handshake locks) unblocks
        // the handshaking thread at once.
        HandshakeDeadline deadline = HandshakeDeadline.start(plain, timeoutMillis);
        try {
            int previous = plain.getSoTimeout();
            socket.setSoTimeout(timeoutMillis);
            socket.startHandshake();
            socket.setSoTimeout(previous);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new HandshakeIoException(e, deadline.expired() || e instanceof SocketTimeoutException);
        } finally {
            deadline.close();
        }
    }

    /** The failure for a handshake that broke without a more specific cause. */
    public static Failure genericFailure(HandshakeIoException e, String peer, int timeoutMillis) {
        if (e.timedOut()) {
            return new Failure(
                    Blame.NETWORK,
                    FailureKind.TIMEOUT,
                    Phase.HANDSHAKE,
                    "TLS handshake with " + peer + " did not complete within " + timeoutMillis
                            + " ms; the peer may not speak TLS here, or raise the timeout",
                    true);
        }
        IOException cause = e.getCause();
        if (cause instanceof SSLException) {
            return Failure.peer(
                    FailureKind.HANDSHAKE_FAILED,
                    Phase.HANDSHAKE,
                    "TLS handshake with " + peer + " failed: " + message(cause) + hint(cause));
        }
        return new Failure(
                Blame.NETWORK,
                FailureKind.HANDSHAKE_FAILED,
                Phase.HANDSHAKE,
                "connection to " + peer + " broke during the TLS handshake: " + message(cause),
                true);
    }

    private static String hint(IOException cause) {
        String text = String.valueOf(cause.getMessage());
        if (text.contains("Unsupported or unrecognized SSL message")) {
            return " (the peer answered in plaintext, not TLS)";
        }
        if (text.contains("no_application_protocol")) {
            return " (the peer refused the ALPN protocol offered)";
        }
        if (text.contains("protocol_version") || text.contains("handshake_failure")) {
            return " (no TLS version or cipher suite in common; the peer may need an older TLS profile)";
        }
        return "";
    }

    /** Disables JSSE's own (HTTPS-style) name check: names are checked per RFC 9525 by our trust manager. */
    public static void noJsseIdentification(SSLParameters parameters) {
        parameters.setEndpointIdentificationAlgorithm(null);
    }

    /** Closes a socket, ignoring errors: used on paths that already report a failure. */
    public static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already failing; nothing more to say
        }
    }

    /** The innermost message of an exception chain. */
    public static String message(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage();
        String top = t.getMessage();
        if (root != t && top != null && m != null && !top.contains(m)) {
            return top + " (" + m + ")";
        }
        return top != null ? top : m != null ? m : t.toString();
    }

    /** An IOException from a handshake, with whether it was a timeout. */
    public static final class HandshakeIoException extends Exception {
        private final boolean timedOut;

        /** Wraps {@code cause}; {@code timedOut} says whether the deadline caused it. */
        public HandshakeIoException(IOException cause, boolean timedOut) {
            super(cause);
            this.timedOut = timedOut;
        }

        /** Whether the handshake ran out of time. */
        public boolean timedOut() {
            return timedOut;
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }
}
