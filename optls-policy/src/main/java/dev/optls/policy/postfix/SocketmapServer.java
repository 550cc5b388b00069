package dev.optls.policy.postfix;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Postfix {@code socketmap_table(5)} server: requests {@code name<SP>key} and replies as netstrings, many on one
 * connection (Postfix keeps a connection per smtp process open). Blocking sockets, one pooled thread per open
 * connection, at most {@link Settings#maxConnections()} of them: a connection over the limit gets {@code TEMP} and is
 * closed, so Postfix defers instead of hanging. A request longer than {@link Settings#maxRequestBytes()} or a
 * malformed netstring gets {@code PERM} and the connection is closed (the stream cannot be resynchronised); a
 * connection idle for {@link Settings#idleTimeout()} is closed.
 */
public final class SocketmapServer implements AutoCloseable {

    /**
     * Limits of a server.
     *
     * @param maxRequestBytes the longest request netstring ({@code name key}); Postfix's own limit is 100000, a
     *     domain needs at most 253 bytes
     * @param maxConnections connections served at once (one thread each)
     * @param idleTimeout how long a connection may wait between requests (and inside one)
     */
    public record Settings(int maxRequestBytes, int maxConnections, Duration idleTimeout) {
        /** Checks the values. */
        public Settings {
            if (maxRequestBytes < 16 || maxRequestBytes > Netstrings.POSTFIX_MAX_REPLY) {
                throw new IllegalArgumentException("maxRequestBytes must be 16–100000, not " + maxRequestBytes);
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1, not " + maxConnections);
            }
            Objects.requireNonNull(idleTimeout, "idleTimeout");
            if (idleTimeout.isNegative() || idleTimeout.isZero() || idleTimeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("idleTimeout must be positive, not " + idleTimeout);
            }
        }

        /** 1 KiB requests, 512 connections, 5 minutes idle. */
        public static Settings defaults() {
            return new Settings(1024, 512, Duration.ofMinutes(5));
        }
    }

    /** What the server did, for logs and metrics. Called on connection threads; must not throw. */
    public interface Listener {
        /** A request was answered after {@code nanos}. */
        default void answered(SocketAddress client, String mapName, String key, SocketmapReply reply, long nanos) {}

        /** A connection broke the protocol ({@code reason}) and was closed. */
        default void protocolError(SocketAddress client, String reason) {}

        /** A connection was refused: {@link Settings#maxConnections()} were open. */
        default void refused(SocketAddress client) {}
    }

    private final ServerSocket serverSocket;
    private final SocketmapHandler handler;
    private final Settings settings;
    private final Listener listener;
    private final ThreadPoolExecutor pool;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final LongAdder requests = new LongAdder();
    private final LongAdder connections = new LongAdder();
    private volatile boolean closing;

    private SocketmapServer(ServerSocket serverSocket, SocketmapHandler handler, Settings settings, Listener listener) {
        this.serverSocket = serverSocket;
        this.handler = handler;
        this.settings = settings;
        this.listener = listener;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(
                0, settings.maxConnections(), 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "optls-socketmap-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.acceptor = new Thread(this::acceptLoop, "optls-socketmap-accept");
        this.acceptor.setDaemon(true);
    }

    /**
     * Binds {@code address} and starts serving.
     *
     * @throws IOException if the address cannot be bound (in use, not local)
     */
    public static SocketmapServer start(
            InetSocketAddress address, SocketmapHandler handler, Settings settings, Listener listener)
            throws IOException {
        Objects.requireNonNull(address, "address");
        ServerSocket socket = new ServerSocket();
        try {
            socket.setReuseAddress(true);
            socket.bind(address, 128);
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        SocketmapServer server = new SocketmapServer(
                socket,
                Objects.requireNonNull(handler, "handler"),
                Objects.requireNonNull(settings, "settings"),
                Objects.requireNonNull(listener, "listener"));
        server.acceptor.start();
        return server;
    }

    /** The bound address (the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverSocket.getLocalSocketAddress();
    }

    /** Requests answered so far. */
    public long requests() {
        return requests.sum();
    }

    /** Connections accepted so far. */
    public long connections() {
        return connections.sum();
    }

    /** Connections open now. */
    public int openConnections() {
        return open.size();
    }

    private void acceptLoop() {
        while (!closing) {
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                if (closing) {
                    return;
                }
                continue;
            }
            connections.increment();
            try {
                pool.execute(() -> serve(socket));
            } catch (RejectedExecutionException e) {
                listener.refused(socket.getRemoteSocketAddress());
                try (socket) {
                    socket.setSoTimeout(1000);
                    socket.getOutputStream()
                            .write(SocketmapReply.temp("too many connections to the policy service ("
                                            + settings.maxConnections() + "); try again later")
                                    .encode());
                } catch (IOException ignored) {
                    // The client is gone: nothing to tell it.
                }
            }
        }
    }

    private void serve(Socket socket) {
        open.add(socket);
        SocketAddress client = socket.getRemoteSocketAddress();
        try (socket) {
            if (closing) {
                return;
            }
            socket.setSoTimeout((int) settings.idleTimeout().toMillis());
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (!closing) {
                Optional<byte[]> request;
                try {
                    request = Netstrings.read(in, settings.maxRequestBytes());
                } catch (Netstrings.MalformedNetstringException e) {
                    listener.protocolError(client, e.getMessage());
                    out.write(SocketmapReply.perm("malformed request: " + e.getMessage() + "; closing the connection")
                            .encode());
                    return;
                } catch (SocketTimeoutException e) {
                    return;
                }
                if (request.isEmpty()) {
                    return;
                }
                long start = System.nanoTime();
                // Postfix sends ASCII; anything else is not a domain and gets NOTFOUND below.
                String text = new String(request.get(), StandardCharsets.ISO_8859_1);
                int space = text.indexOf(' ');
                SocketmapReply reply;
                String name;
                String key;
                if (space <= 0) {
                    name = "";
                    key = text;
                    reply = SocketmapReply.perm(
                            "a socketmap request is 'name key' (socketmap_table(5)), got '" + text + "'");
                } else {
                    name = text.substring(0, space);
                    key = text.substring(space + 1);
                    reply = answer(name, key);
                }
                requests.increment();
                listener.answered(client, name, key, reply, System.nanoTime() - start);
                out.write(reply.encode());
                out.flush();
            }
        } catch (IOException e) {
            // The client closed or reset the connection, or we are closing: nothing more to do.
        } finally {
            open.remove(socket);
        }
    }

    private SocketmapReply answer(String name, String key) {
        try {
            SocketmapReply reply = handler.lookup(name, key);
            return reply != null ? reply : SocketmapReply.temp("no answer for " + key);
        } catch (RuntimeException e) {
            return SocketmapReply.temp("internal error answering " + key + ": " + e);
        }
    }

    /**
     * Stops accepting, closes every connection (a request being answered finishes first unless it takes longer than
     * {@code grace}) and stops the threads.
     */
    public void close(Duration grace) {
        closing = true;
        try {
            serverSocket.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
        pool.shutdown();
        for (Socket s : open) {
            try {
                // Wakes up threads blocked reading the next request; one writing a reply gets an error.
                s.shutdownInput();
            } catch (IOException ignored) {
                // Already closed.
            }
        }
        try {
            if (!pool.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                for (Socket s : open) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // Already closed.
                    }
                }
                pool.shutdownNow();
                pool.awaitTermination(1, TimeUnit.SECONDS);
            }
            acceptor.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #close(Duration)} with 5 seconds of grace. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
