package dev.optls.core.imap;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * One client command (RFC 9051 §6) as read by {@link ImapCommandParser}.
 *
 * @param tag the command tag
 * @param name the command name, upper-cased ({@code LOGIN}, {@code UID})
 * @param arguments the parsed arguments (literals included, byte-exactly)
 * @param argumentText the bytes after the name and its space, as text: for a command with literals this
 *     includes the {@code {n}} markers, CRLFs and literal octets exactly as received
 * @param line the whole command as text, without its final CRLF
 * @param raw the command's bytes exactly as received, final CRLF included
 * @param pendingLiteral when the command stops at a synchronizing literal {@code {n}}, its size: RFC
 *     9051 §4.3 says the client now waits for a {@code +} continuation or a tagged rejection
 */
public record ImapCommand(
        String tag,
        String name,
        List<ImapValue> arguments,
        String argumentText,
        String line,
        ByteBuffer raw,
        OptionalLong pendingLiteral) {
    public ImapCommand {
        name = name.toUpperCase(Locale.ROOT);
        arguments = List.copyOf(arguments);
        raw = raw.asReadOnlyBuffer();
    }

    /** The raw bytes as a read-only view positioned at the first byte. */
    @Override
    public ByteBuffer raw() {
        return raw.duplicate();
    }

    /** Whether the command carried anything after its name. */
    public boolean hasArguments() {
        return !argumentText.isEmpty() || pendingLiteral.isPresent();
    }
}
