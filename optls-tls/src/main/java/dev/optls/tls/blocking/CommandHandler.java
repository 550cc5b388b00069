package dev.optls.tls.blocking;

import dev.optls.core.Command;

/**
 * The application's part of a server negotiation: answers commands that are not part of the upgrade.
 * Return complete reply lines (CRLF added when missing), or {@link #HAND_OVER} to take the connection
 * over at this command (e.g. DATA or AUTH, whose exchanges the negotiation does not carry).
 */
@FunctionalInterface
public interface CommandHandler {
    /** Returned to take the connection over, starting with the current command. */
    String HAND_OVER = "\u0000hand-over";

    /** The reply to {@code command}. */
    String handle(Command command);
}
