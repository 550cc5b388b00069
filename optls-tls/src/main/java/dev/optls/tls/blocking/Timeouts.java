package dev.optls.tls.blocking;

import java.time.Duration;

/**
 * Time limits for every phase of a blocking negotiation.
 *
 * @param connect TCP connect
 * @param reply waiting for one complete reply or command (each read is bounded by what remains of it,
 *     so a peer that trickles bytes cannot stretch it)
 * @param handshake the TLS handshake
 */
public record Timeouts(Duration connect, Duration reply, Duration handshake) {
    /** 10 s connect, 60 s per reply, 30 s handshake: suited to probing. */
    public static final Timeouts DEFAULT =
            new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(30));

    public Timeouts {
        for (Duration d : new Duration[] {connect, reply, handshake}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive");
            }
        }
    }

    /** The same limit for every phase. */
    public static Timeouts all(Duration d) {
        return new Timeouts(d, d, d);
    }

    /** The handshake timeout in milliseconds, as socket and engine APIs take it. */
    public int handshakeMillis() {
        return (int) Math.min(Integer.MAX_VALUE, handshake.toMillis());
    }
}
