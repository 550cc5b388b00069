package dev.optls.tls.ftp;

import dev.optls.core.Limits;
import dev.optls.core.ftp.FtpReply;
import dev.optls.core.ftp.FtpReplyReader;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Commands out, replies in, on an FTP control connection, bounded by {@link Limits}. */
final class ControlChannel {
    private final InputStream in;
    private final OutputStream out;
    private final Limits limits;

    ControlChannel(Socket socket, Limits limits) throws IOException {
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.limits = limits;
    }

    void send(String command) throws IOException {
        if (command.indexOf('\r') >= 0 || command.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("an FTP command is one line: " + FtpReplyReader.printable(command));
        }
        out.write((command + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Writes raw reply text (server side). */
    void write(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    FtpReply reply() throws IOException {
        FtpReplyReader reader = new FtpReplyReader(limits);
        while (true) {
            FtpReply reply;
            try {
                reply = reader.accept(line());
            } catch (FtpReplyReader.MalformedReplyException e) {
                throw new FtpReplyException("the server sent a malformed reply: " + e.getMessage(), null);
            }
            if (reply != null) {
                return reply;
            }
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("the server closed the control connection");
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.UTF_8);
            }
            if (line.size() >= limits.maxLineLength()) {
                throw new FtpReplyException("a reply line is longer than " + limits.maxLineLength() + " bytes", null);
            }
            line.write(b);
        }
    }
}
