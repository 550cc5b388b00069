package dev.optls.interop.ourclient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Line I/O on the socket a {@link dev.optls.tls.blocking.ClientSession} hands back (TLS or plaintext), to
 * prove the session continues at a clean command boundary. 5 s read timeout.
 */
final class Lines {

    private static final int MAX_LINE = 8192;

    private final InputStream in;
    private final OutputStream out;

    private Lines(Socket socket) throws IOException {
        socket.setSoTimeout(5000);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Line I/O on {@code socket}. */
    static Lines on(Socket socket) {
        try {
            return new Lines(socket);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the session's socket", e);
        }
    }

    /** Sends {@code line} followed by CRLF. */
    Lines send(String line) {
        try {
            out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send '" + line + "'", e);
        }
    }

    /** Reads one line without its line ending; throws if the peer closes first. */
    String readLine() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new IllegalStateException("peer closed the connection after '" + line + "'");
                }
                if (b == '\n') {
                    String text = line.toString(StandardCharsets.UTF_8);
                    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
                }
                if (line.size() >= MAX_LINE) {
                    throw new IllegalStateException("line longer than " + MAX_LINE + " bytes");
                }
                line.write(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read a line (so far '" + line + "')", e);
        }
    }

    /** Reads lines up to and including the first one {@code last} accepts. */
    List<String> readUntil(Predicate<String> last) {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            lines.add(line);
            if (last.test(line)) {
                return lines;
            }
        }
    }

    /** Reads an SMTP reply: up to the line whose fourth character is a space. */
    List<String> readSmtpReply() {
        return readUntil(line -> line.length() < 4 || line.charAt(3) == ' ');
    }

    /** Sends an SMTP command and returns the last line of its reply. */
    String smtp(String command) {
        List<String> reply = send(command).readSmtpReply();
        return reply.get(reply.size() - 1);
    }

    /** Sends a tagged IMAP command and returns its tagged completion line. */
    String imap(String tag, String command) {
        List<String> reply = send(tag + " " + command).readUntil(l -> l.startsWith(tag + " "));
        return reply.get(reply.size() - 1);
    }
}
