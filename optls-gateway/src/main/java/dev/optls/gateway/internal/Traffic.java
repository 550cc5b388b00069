package dev.optls.gateway.internal;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The plaintext bytes one session relayed each way, and when relaying began. The gateway attaches one to
 * each client channel at accept ({@link #attach}); the connection's {@link Relay}s count into it.
 */
public final class Traffic {
    private static final AttributeKey<Traffic> KEY = AttributeKey.valueOf(Traffic.class, "traffic");

    private final AtomicLong fromClient = new AtomicLong();
    private final AtomicLong toClient = new AtomicLong();
    private final AtomicBoolean started = new AtomicBoolean();
    private final Runnable onStart;
    private final LongConsumer onFromClient;
    private final LongConsumer onToClient;

    /**
     * @param onStart called once, when the first relay starts (the backend is ready and TLS is up)
     * @param onFromClient called with each count of bytes relayed client → backend (e.g. a metric)
     * @param onToClient called with each count of bytes relayed backend → client
     */
    public Traffic(Runnable onStart, LongConsumer onFromClient, LongConsumer onToClient) {
        this.onStart = onStart;
        this.onFromClient = onFromClient;
        this.onToClient = onToClient;
    }

    /** Attaches this to the client channel {@code client}. */
    public void attach(Channel client) {
        client.attr(KEY).set(this);
    }

    /** What is attached to {@code client}, or a new one that reports nowhere. */
    public static Traffic of(Channel client) {
        Traffic t = client.attr(KEY).get();
        return t != null ? t : new Traffic(() -> {}, n -> {}, n -> {});
    }

    /** The meter for the relay reading the client and writing the backend. */
    public Relay.Meter fromClient() {
        return meter(fromClient, onFromClient);
    }

    /** The meter for the relay reading the backend and writing the client. */
    public Relay.Meter toClient() {
        return meter(toClient, onToClient);
    }

    private Relay.Meter meter(AtomicLong counter, LongConsumer report) {
        return new Relay.Meter() {
            @Override
            public void started() {
                if (started.compareAndSet(false, true)) {
                    onStart.run();
                }
            }

            @Override
            public void relayed(int bytes) {
                counter.addAndGet(bytes);
                report.accept(bytes);
            }
        };
    }

    /** Bytes relayed client → backend so far. */
    public long bytesFromClient() {
        return fromClient.get();
    }

    /** Bytes relayed backend → client so far. */
    public long bytesToClient() {
        return toClient.get();
    }
}
