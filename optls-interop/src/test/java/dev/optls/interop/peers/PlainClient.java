package dev.optls.interop.peers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A plaintext line-oriented client for looking at a peer before TLS: read the greeting, send a command, read
 * reply lines until a predicate says the reply is complete. Lines are returned without CRLF. 5 s timeouts.
 */
public final class PlainClient implements AutoCloseable {

    private static final int MAX_LINE = 8192;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private PlainClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code host:port} with 5 s connect and read timeouts. */
    public static PlainClient connect(String host, int port) {
        return connect(host, port, null);
    }

    /**
     * Connects to {@code host:port} from {@code localAddress} (e.g. {@link Peers#OTHER_LOOPBACK}; null for the
     * default) with 5 s connect and read timeouts.
     */
    public static PlainClient connect(String host, int port, String localAddress) {
        Socket socket = new Socket();
        try {
            if (localAddress != null) {
                socket.bind(new InetSocketAddress(localAddress, 0));
            }
            socket.connect(new InetSocketAddress(host, port), 5000);
            socket.setSoTimeout(5000);
            return new PlainClient(socket);
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("cannot connect to " + host + ":" + port, e);
        }
    }

    /** Sends {@code line} followed by CRLF. */
    public PlainClient send(String line) {
        try {
            out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send '" + line + "'", e);
        }
    }

    /** Reads one line (without its line ending); throws if the peer closes first. */
    public String readLine() {
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

    /** Reads lines up to and including the first one that {@code last} accepts. */
    public List<String> readUntil(Predicate<String> last) {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            lines.add(line);
            if (last.test(line)) {
                return lines;
            }
        }
    }

    /** Reads an SMTP reply: lines up to the one whose fourth character is a space ({@code 250 ...}). */
    public List<String> readSmtpReply() {
        return readUntil(line -> line.length() < 4 || line.charAt(3) == ' ');
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // Nothing to do: the test is done with this connection.
        }
    }
}
