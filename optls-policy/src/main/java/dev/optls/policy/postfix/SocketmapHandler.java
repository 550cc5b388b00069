package dev.optls.policy.postfix;

/** Answers socketmap requests: one {@code name key} request, one reply. Must be thread-safe; must not throw. */
@FunctionalInterface
public interface SocketmapHandler {

    /** The reply for {@code key} in the map {@code mapName}. */
    SocketmapReply lookup(String mapName, String key);
}
