package dev.optls.policy.postfix;

import java.util.Objects;

/**
 * One reply of Postfix's {@code socketmap_table(5)} protocol: {@code OK <data>}, {@code NOTFOUND }, {@code TEMP
 * <reason>}, {@code TIMEOUT <reason>} or {@code PERM <reason>}. Reasons are for Postfix's log: control characters are
 * replaced and they are cut at {@value #MAX_REASON} characters.
 *
 * @param status the reply status
 * @param text the data of {@code OK} or the reason of the others; empty for {@code NOTFOUND}
 */
public record SocketmapReply(Status status, String text) {

    /** The longest reason sent. */
    public static final int MAX_REASON = 400;

    /** The socketmap reply statuses. */
    public enum Status {
        /** The key was found; the text is the value. */
        OK,
        /** The key is not in the table: Postfix falls back to the next table or its default. */
        NOTFOUND,
        /** A temporary failure: Postfix defers the delivery (it fails closed). */
        TEMP,
        /** The lookup timed out: Postfix defers. */
        TIMEOUT,
        /** A permanent failure (a configuration or protocol error): Postfix defers and logs it. */
        PERM
    }

    /** Checks that only {@code OK} has data and that {@code NOTFOUND} has none. */
    public SocketmapReply {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(text, "text");
        if (status == Status.NOTFOUND && !text.isEmpty()) {
            throw new IllegalArgumentException("NOTFOUND carries no text");
        }
        if (status == Status.OK && (text.isEmpty() || text.chars().anyMatch(c -> c < 0x20 || c == 0x7f))) {
            throw new IllegalArgumentException("OK needs a value without control characters: '" + text + "'");
        }
        if (status != Status.OK) {
            text = sanitize(text);
        }
    }

    /** {@code OK value}. */
    public static SocketmapReply ok(String value) {
        return new SocketmapReply(Status.OK, value);
    }

    /** {@code NOTFOUND }. */
    public static SocketmapReply notFound() {
        return new SocketmapReply(Status.NOTFOUND, "");
    }

    /** {@code TEMP reason}. */
    public static SocketmapReply temp(String reason) {
        return new SocketmapReply(Status.TEMP, reason);
    }

    /** {@code TIMEOUT reason}. */
    public static SocketmapReply timeout(String reason) {
        return new SocketmapReply(Status.TIMEOUT, reason);
    }

    /** {@code PERM reason}. */
    public static SocketmapReply perm(String reason) {
        return new SocketmapReply(Status.PERM, reason);
    }

    /** The reply as Postfix reads it inside the netstring: status, one space, text. */
    public String wire() {
        return status.name() + " " + text;
    }

    /** The netstring on the wire. */
    public byte[] encode() {
        return Netstrings.encode(wire());
    }

    private static String sanitize(String reason) {
        StringBuilder out = new StringBuilder(Math.min(reason.length(), MAX_REASON));
        for (int i = 0; i < reason.length() && out.length() < MAX_REASON; i++) {
            char c = reason.charAt(i);
            out.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        return out.toString();
    }
}
