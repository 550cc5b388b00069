package dev.optls.tls.internal;

import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds a whole handshake, not just each read: when the deadline passes the socket is closed, which
 * makes the blocked handshake fail. {@link #expired()} tells the caller that this was the cause.
 */
public final class HandshakeDeadline implements AutoCloseable {
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private final AtomicBoolean expired = new AtomicBoolean();
    private final ScheduledFuture<?> task;

    private HandshakeDeadline(Socket socket, int millis) {
        this.task = TIMER.schedule(
                () -> {
                    expired.set(true);
                    try {
                        socket.close();
                    } catch (IOException e) {
                        // closing is all we can do
                    }
                },
                millis,
                TimeUnit.MILLISECONDS);
    }

    /** Starts the clock for a handshake on {@code socket}. */
    public static HandshakeDeadline start(Socket socket, int millis) {
        if (millis <= 0) {
            throw new IllegalArgumentException("handshake timeout must be positive, got " + millis + " ms");
        }
        return new HandshakeDeadline(socket, millis);
    }

    /** Whether the deadline passed (and the socket was closed because of it). */
    public boolean expired() {
        return expired.get();
    }

    /** Stops the clock. */
    @Override
    public void close() {
        task.cancel(false);
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "optls-handshake-deadline");
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }
}
