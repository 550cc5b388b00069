package dev.optls.core.imap;

import dev.optls.core.Limits;
import dev.optls.core.internal.InputBuffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;

/**
 * Server side: reads client commands (RFC 9051 §6, formal syntax §9: {@code tag SP command [SP args]
 * CRLF}) from a bounded buffer, with quoted strings and literals. A non-synchronizing literal
 * {@code {n+}} (RFC 7888) is read with the command. A synchronizing literal {@code {n}} ends the
 * returned command with {@link ImapCommand#pendingLiteral()} set: the client sends its octets only after
 * a {@code +} continuation, so the caller must either send one or reject the command with a tagged
 * response first (RFC 9051 §4.3, §7.6).
 */
public final class ImapCommandParser {
    private final Limits limits;
    private final ImapFramer framer;

    /** A parser bounded by {@code limits}. */
    public ImapCommandParser(Limits limits) {
        this.limits = limits;
        this.framer = new ImapFramer(limits, true);
    }

    /**
     * Removes and parses the next complete command (or command prefix up to a synchronizing literal)
     * from {@code in}, or returns null when it is not complete yet.
     *
     * @throws ImapParseException for a malformed command (its bytes are consumed; {@link
     *     ImapParseException#tag()} holds the tag when it could be read) or one over a limit
     */
    public ImapCommand next(InputBuffer in) {
        ImapFramer.Scan scan = framer.scan(in);
        if (scan instanceof ImapFramer.Complete complete) {
            return parseFrame(in.take(complete.length()), OptionalLong.empty());
        }
        if (scan instanceof ImapFramer.AwaitingLiteral awaiting) {
            return parseFrame(in.take(awaiting.length()), OptionalLong.of(awaiting.size()));
        }
        return null;
    }

    /**
     * Parses exactly one complete command, CRLF included (or a prefix ending in a synchronizing literal).
     *
     * @throws ImapParseException when {@code bytes} is not exactly one valid command
     */
    public ImapCommand parse(byte[] bytes) {
        InputBuffer buffer = new InputBuffer(Math.max(bytes.length, 1));
        buffer.append(ByteBuffer.wrap(bytes));
        ImapCommand command = new ImapCommandParser(limits).next(buffer);
        if (command == null) {
            throw ImapParseException.malformed("incomplete command");
        }
        if (buffer.size() > 0) {
            throw ImapParseException.malformed("more than one command");
        }
        return command;
    }

    private static ImapCommand parseFrame(byte[] frame, OptionalLong pendingLiteral) {
        int length = frame.length;
        if (pendingLiteral.isPresent()) {
            // Leave the trailing "{n}" / "~{n}" marker out of the arguments: its octets are not here.
            length = frame.length;
            while (length > 0 && (frame[length - 1] == '\n' || frame[length - 1] == '\r')) {
                length--;
            }
            while (length > 0 && frame[length - 1] != '{') {
                length--;
            }
            length--;
            if (length > 0 && frame[length - 1] == '~') {
                length--;
            }
        }
        String line = text(frame, 0, lineEnd(frame));
        ImapLexer lx = new ImapLexer(frame, length);
        if (lx.atEnd()) {
            throw ImapParseException.malformed("empty command line");
        }
        String tag = lx.tag();
        try {
            lx.expect(' ', "a space after the tag");
            String name = lx.atom("a command name");
            if (!name.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_')) {
                throw ImapParseException.malformed("invalid command name '" + name + "'");
            }
            int argsStart = lx.position();
            List<ImapValue> arguments = List.of();
            String argumentText = "";
            if (!lx.atEnd()) {
                lx.expect(' ', "a space after the command name");
                argsStart = lx.position();
                arguments = lx.values();
                argumentText = text(frame, argsStart, lineEnd(frame));
            } else if (pendingLiteral.isPresent()) {
                argumentText = text(frame, argsStart, lineEnd(frame)).stripLeading();
            }
            return new ImapCommand(tag, name, arguments, argumentText, line, ByteBuffer.wrap(frame), pendingLiteral);
        } catch (ImapParseException e) {
            throw e.withTag(tag);
        }
    }

    private static int lineEnd(byte[] frame) {
        int e = frame.length;
        if (e > 0 && frame[e - 1] == '\n') {
            e--;
            if (e > 0 && frame[e - 1] == '\r') {
                e--;
            }
        }
        return e;
    }

    private static String text(byte[] b, int from, int to) {
        return new String(b, from, Math.max(0, to - from), StandardCharsets.UTF_8);
    }
}
