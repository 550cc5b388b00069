package dev.optls.tls;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLSession;

/**
 * A TLS connection driven through an {@link SSLEngine} over a plain socket. optls uses it for FTP data
 * channels, which must resume the TLS session of the control connection (RFC 4217 §10.2, protocols.md
 * §8.3): JSSE looks the session to resume up by the peer host and port given to {@code
 * createSSLEngine(host, port)}, and a layered {@code SSLSocket} would use the data socket's own port
 * instead, so only an engine can be told "this is the control connection's peer".
 *
 * <p>{@link #close()} sends a TLS close_notify before closing the socket, so the peer can tell a
 * complete transfer from a truncated one; {@link #closeNotifyReceived()} says whether the peer did the
 * same.
 */
public final class TlsDataChannel implements Closeable {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final Socket socket;
    private final SSLEngine engine;
    private final InputStream rawIn;
    private final OutputStream rawOut;
    private boolean resumed;
    private ByteBuffer netIn;
    private ByteBuffer appIn;
    private ByteBuffer netOut;
    private boolean closeNotifyReceived;
    private boolean eof;
    private final InputStream in = new In();
    private final OutputStream out = new Out();

    TlsDataChannel(Socket socket, SSLEngine engine) throws IOException {
        this.socket = Objects.requireNonNull(socket, "socket");
        this.engine = Objects.requireNonNull(engine, "engine");
        this.rawIn = socket.getInputStream();
        this.rawOut = socket.getOutputStream();
        SSLSession session = engine.getSession();
        netIn = ByteBuffer.allocate(session.getPacketBufferSize());
        netOut = ByteBuffer.allocate(session.getPacketBufferSize());
        appIn = ByteBuffer.allocate(session.getApplicationBufferSize());
        appIn.flip();
    }

    /** Runs the handshake to its end; the socket's read timeout bounds each read. */
    void handshake() throws IOException {
        engine.beginHandshake();
        SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
        while (status != SSLEngineResult.HandshakeStatus.FINISHED
                && status != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
            switch (status) {
                case NEED_WRAP -> status = wrap(EMPTY).getHandshakeStatus();
                case NEED_TASK -> status = runTasks();
                default -> {
                    SSLEngineResult r = unwrap();
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                        if (!fill()) {
                            throw new EOFException("the peer closed the data connection during the TLS handshake");
                        }
                    } else if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new EOFException("the peer closed TLS during the handshake");
                    }
                    status = r.getHandshakeStatus();
                }
            }
        }
    }

    /** The plain socket underneath. */
    public Socket socket() {
        return socket;
    }

    /** The negotiated TLS session. */
    public SSLSession session() {
        return engine.getSession();
    }

    void markResumed(boolean value) {
        resumed = value;
    }

    /**
     * Whether the handshake resumed the control connection's session rather than running a full one: the
     * server sent no certificate (TLS 1.2 abbreviated handshake, TLS 1.3 PSK). JSSE exposes no flag for it.
     */
    public boolean resumed() {
        return resumed;
    }

    /** Whether the peer ended the TLS stream with close_notify (a transfer that is not truncated). */
    public boolean closeNotifyReceived() {
        return closeNotifyReceived;
    }

    /** Decrypted bytes from the peer; {@code -1} at close_notify or at the end of the TCP stream. */
    public InputStream input() {
        return in;
    }

    /** Bytes to encrypt and send; each write is sent at once. */
    public OutputStream output() {
        return out;
    }

    /** Sends close_notify (once) and closes the socket. */
    @Override
    public void close() throws IOException {
        try {
            if (!engine.isOutboundDone() && !socket.isClosed()) {
                engine.closeOutbound();
                while (!engine.isOutboundDone()) {
                    SSLEngineResult r = wrap(EMPTY);
                    if (r.bytesProduced() == 0) {
                        break;
                    }
                }
            }
        } finally {
            socket.close();
        }
    }

    private SSLEngineResult.HandshakeStatus runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
        return engine.getHandshakeStatus();
    }

    private SSLEngineResult wrap(ByteBuffer source) throws IOException {
        while (true) {
            netOut.clear();
            SSLEngineResult r = engine.wrap(source, netOut);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                netOut = ByteBuffer.allocate(netOut.capacity() * 2);
                continue;
            }
            netOut.flip();
            if (netOut.hasRemaining()) {
                rawOut.write(netOut.array(), 0, netOut.limit());
                rawOut.flush();
            }
            return r;
        }
    }

    private SSLEngineResult unwrap() throws IOException {
        while (true) {
            netIn.flip();
            appIn.compact();
            SSLEngineResult r;
            try {
                r = engine.unwrap(netIn, appIn);
            } finally {
                netIn.compact();
                appIn.flip();
            }
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                ByteBuffer bigger = ByteBuffer.allocate(appIn.capacity() * 2);
                bigger.put(appIn).flip();
                appIn = bigger;
                continue;
            }
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && !netIn.hasRemaining()) {
                ByteBuffer bigger = ByteBuffer.allocate(netIn.capacity() * 2);
                netIn.flip();
                bigger.put(netIn);
                netIn = bigger;
            }
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                closeNotifyReceived = true;
            }
            return r;
        }
    }

    /** Reads more TLS bytes from the socket; false at the end of the stream. */
    private boolean fill() throws IOException {
        int n = rawIn.read(netIn.array(), netIn.position(), netIn.remaining());
        if (n < 0) {
            return false;
        }
        netIn.position(netIn.position() + n);
        return true;
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            while (!appIn.hasRemaining()) {
                if (closeNotifyReceived || eof) {
                    return -1;
                }
                SSLEngineResult r = unwrap();
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && !fill()) {
                    eof = true;
                }
                // TLS 1.3 post-handshake messages (NewSessionTicket, KeyUpdate) may need an answer.
                SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
                if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    hs = runTasks();
                }
                if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP && !engine.isOutboundDone()) {
                    wrap(EMPTY);
                }
            }
            int n = Math.min(len, appIn.remaining());
            appIn.get(b, off, n);
            return n;
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            ByteBuffer source = ByteBuffer.wrap(b, off, len);
            while (source.hasRemaining()) {
                SSLEngineResult r = wrap(source);
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    throw new IOException("TLS is closed on this data connection");
                }
            }
        }
    }
}
