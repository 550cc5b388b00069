package dev.optls.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback TCP port where connections are refused, held until closed.
 *
 * <p>A port found by opening and closing a listener is free only for a moment: the next {@code bind} to port 0
 * (a server under test) may be given it, and a {@code connect} to it may pick it as its own source port and
 * connect to itself (TCP simultaneous open). Either way the "dead" backend answers. This one keeps a socket
 * bound to the port without listening, so the kernel refuses connections to it (RST) and hands the port to
 * nobody else while it is held.
 */
public final class ClosedPort implements AutoCloseable {
    private final Socket holder;

    private ClosedPort(Socket holder) {
        this.holder = holder;
    }

    /** Binds a loopback port without listening on it. */
    public static ClosedPort open() {
        Socket holder = new Socket();
        try {
            holder.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (IOException e) {
            try {
                holder.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("cannot bind a loopback port", e);
        }
        return new ClosedPort(holder);
    }

    /** The port number. */
    public int port() {
        return holder.getLocalPort();
    }

    @Override
    public void close() {
        try {
            holder.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
