package dev.optls.policy.postfix;

import java.util.Optional;

/** Answers socketmap requests: one {@code name key} request, one reply. Must be thread-safe; must not throw. */
@FunctionalInterface
public interface SocketmapHandler {

    /** The reply for {@code key} in the map {@code mapName}; may block (DNS, HTTPS). */
    SocketmapReply lookup(String mapName, String key);

    /**
     * The reply for {@code key} when it can be given at once, without blocking (a cached answer, a malformed key);
     * empty when {@link #lookup} must be called. The server answers these on its I/O thread.
     */
    default Optional<SocketmapReply> immediate(String mapName, String key) {
        return Optional.empty();
    }
}
