package dev.optls.policy.postfix;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Postfix {@code socketmap_table(5)} server: requests {@code name<SP>key} and replies as netstrings, many on one
 * connection (Postfix keeps a connection per smtp process open). One I/O thread multiplexes every connection with a
 * {@link Selector}: answers the handler can give at once ({@link SocketmapHandler#immediate}, the answer cache) are
 * written from that thread, and only lookups that block (DNS, HTTPS) go to a pool of worker threads. A connection
 * has at most one request being answered; its later bytes wait unread until the reply is out, so replies keep the
 * order of requests and each connection buffers at most one request. At most {@link Settings#maxConnections()}
 * connections: one over the limit gets {@code TEMP} and is closed, so Postfix defers instead of hanging. A request
 * longer than {@link Settings#maxRequestBytes()} or a malformed netstring gets {@code PERM} and the connection is
 * closed (the stream cannot be resynchronised); a connection idle for {@link Settings#idleTimeout()} is closed.
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

    /** Threads answering requests that block (DNS, HTTPS): enough for slow lookups of many domains at once. */
    static final int WORKERS = 32;

    private final ServerSocketChannel serverChannel;
    private final Selector selector;
    private final SocketmapHandler handler;
    private final Settings settings;
    private final Listener listener;
    private final ExecutorService workers;
    private final Thread io;
    private final Queue<Runnable> fromWorkers = new ConcurrentLinkedQueue<>();
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final LongAdder requests = new LongAdder();
    private final LongAdder connections = new LongAdder();
    private final AtomicInteger busy = new AtomicInteger();
    private volatile boolean closing;

    private SocketmapServer(
            ServerSocketChannel serverChannel,
            Selector selector,
            SocketmapHandler handler,
            Settings settings,
            Listener listener) {
        this.serverChannel = serverChannel;
        this.selector = selector;
        this.handler = handler;
        this.settings = settings;
        this.listener = listener;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(Math.min(WORKERS, settings.maxConnections()), r -> {
            Thread t = new Thread(r, "optls-socketmap-lookup-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.io = new Thread(this::loop, "optls-socketmap-io");
        this.io.setDaemon(true);
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
        ServerSocketChannel channel = ServerSocketChannel.open();
        Selector selector;
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address, 128);
            channel.configureBlocking(false);
            selector = Selector.open();
            channel.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        SocketmapServer server = new SocketmapServer(
                channel,
                selector,
                Objects.requireNonNull(handler, "handler"),
                Objects.requireNonNull(settings, "settings"),
                Objects.requireNonNull(listener, "listener"));
        server.io.start();
        return server;
    }

    /** The bound address (the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.socket().getLocalSocketAddress();
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

    /** One client connection; touched only by the I/O thread, except {@link #reply} handed over from a worker. */
    private final class Connection {
        final SocketChannel channel;
        final SocketAddress client;
        final SelectionKey key;
        final ByteBuffer in;
        ByteBuffer out = ByteBuffer.allocate(0);
        boolean answering;
        boolean closeAfterWrite;
        long lastActive = System.nanoTime();

        Connection(SocketChannel channel, SelectionKey key) {
            this.channel = channel;
            this.client = channel.socket().getRemoteSocketAddress();
            this.key = key;
            // A whole request fits: its length digits, ':', the data and ','.
            this.in = ByteBuffer.allocate(settings.maxRequestBytes() + 16);
        }
    }

    private void loop() {
        long idleNanos = settings.idleTimeout().toNanos();
        long lastIdleCheck = System.nanoTime();
        try {
            while (!closing || busy.get() > 0) {
                selector.select(Math.min(1000, Math.max(1, idleNanos / 1_000_000)));
                for (Runnable r; (r = fromWorkers.poll()) != null; ) {
                    r.run();
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        accept();
                    } else {
                        Connection c = (Connection) key.attachment();
                        if (key.isWritable()) {
                            flush(c);
                        }
                        if (key.isValid() && key.isReadable()) {
                            read(c);
                        }
                    }
                }
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                if (now - lastIdleCheck > Math.min(idleNanos, 1_000_000_000L)) {
                    lastIdleCheck = now;
                    for (Connection c : open) {
                        if (!c.answering && now - c.lastActive > idleNanos) {
                            close(c);
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // The selector itself failed: nothing can be served any more; close what is open.
        } finally {
            for (Connection c : open) {
                close(c);
            }
            try {
                selector.close();
            } catch (IOException ignored) {
                // Closing anyway.
            }
        }
    }

    private void accept() {
        SocketChannel channel;
        try {
            channel = serverChannel.accept();
        } catch (IOException e) {
            return;
        }
        if (channel == null) {
            return;
        }
        connections.increment();
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (closing || open.size() >= settings.maxConnections()) {
                listener.refused(channel.socket().getRemoteSocketAddress());
                // Best effort: the reply is small enough for an empty socket buffer.
                channel.write(ByteBuffer.wrap(SocketmapReply.temp("too many connections to the policy service ("
                                + settings.maxConnections() + "); try again later")
                        .encode()));
                channel.close();
                return;
            }
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
            Connection c = new Connection(channel, key);
            key.attach(c);
            open.add(c);
        } catch (IOException e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Gone already.
            }
        }
    }

    private void read(Connection c) {
        int n;
        try {
            n = c.channel.read(c.in);
        } catch (IOException e) {
            close(c);
            return;
        }
        if (n < 0) {
            close(c);
            return;
        }
        c.lastActive = System.nanoTime();
        serveBuffered(c);
    }

    /** Answers the requests buffered on {@code c}, one at a time, until one must wait for a worker. */
    private void serveBuffered(Connection c) {
        while (!c.answering && !c.closeAfterWrite && c.key.isValid()) {
            c.in.flip();
            Optional<byte[]> request;
            try {
                request = Netstrings.next(c.in, settings.maxRequestBytes());
            } catch (Netstrings.MalformedNetstringException e) {
                c.in.clear();
                listener.protocolError(c.client, e.getMessage());
                c.closeAfterWrite = true;
                send(c, SocketmapReply.perm("malformed request: " + e.getMessage() + "; closing the connection"));
                return;
            }
            c.in.compact();
            if (request.isEmpty()) {
                break;
            }
            long start = System.nanoTime();
            // Postfix sends ASCII; anything else is not a domain and gets NOTFOUND from the handler.
            String text = new String(request.get(), StandardCharsets.ISO_8859_1);
            int space = text.indexOf(' ');
            if (space <= 0) {
                answered(
                        c,
                        "",
                        text,
                        SocketmapReply.perm(
                                "a socketmap request is 'name key' (socketmap_table(5)), got '" + text + "'"),
                        start);
                continue;
            }
            String name = text.substring(0, space);
            String key = text.substring(space + 1);
            Optional<SocketmapReply> now = immediate(name, key);
            if (now.isPresent()) {
                answered(c, name, key, now.get(), start);
                continue;
            }
            c.answering = true;
            busy.incrementAndGet();
            interest(c);
            try {
                workers.execute(() -> {
                    SocketmapReply reply = answer(name, key);
                    fromWorkers.add(() -> {
                        busy.decrementAndGet();
                        c.answering = false;
                        if (c.key.isValid()) {
                            answered(c, name, key, reply, start);
                            serveBuffered(c);
                        }
                    });
                    selector.wakeup();
                });
            } catch (RejectedExecutionException e) {
                busy.decrementAndGet();
                c.answering = false;
                c.closeAfterWrite = true;
                answered(c, name, key, SocketmapReply.temp("the policy service is shutting down"), start);
            }
        }
        interest(c);
    }

    private void answered(Connection c, String name, String key, SocketmapReply reply, long start) {
        requests.increment();
        listener.answered(c.client, name, key, reply, System.nanoTime() - start);
        send(c, reply);
    }

    private void send(Connection c, SocketmapReply reply) {
        byte[] bytes = reply.encode();
        if (c.out.hasRemaining()) {
            ByteBuffer joined = ByteBuffer.allocate(c.out.remaining() + bytes.length);
            joined.put(c.out).put(bytes).flip();
            c.out = joined;
        } else {
            c.out = ByteBuffer.wrap(bytes);
        }
        flush(c);
    }

    private void flush(Connection c) {
        try {
            c.channel.write(c.out);
        } catch (IOException e) {
            close(c);
            return;
        }
        if (!c.out.hasRemaining() && c.closeAfterWrite) {
            close(c);
            return;
        }
        interest(c);
    }

    /** Reads only while nothing is being answered or waiting to be written (one request in flight, bounded). */
    private void interest(Connection c) {
        if (!c.key.isValid()) {
            return;
        }
        int ops = c.out.hasRemaining() ? SelectionKey.OP_WRITE : 0;
        if (!c.answering && !c.out.hasRemaining() && !c.closeAfterWrite && !closing) {
            ops |= SelectionKey.OP_READ;
        }
        c.key.interestOps(ops);
    }

    private void close(Connection c) {
        open.remove(c);
        c.key.cancel();
        try {
            c.channel.close();
        } catch (IOException ignored) {
            // Gone already.
        }
    }

    private Optional<SocketmapReply> immediate(String name, String key) {
        try {
            return handler.immediate(name, key);
        } catch (RuntimeException e) {
            return Optional.of(SocketmapReply.temp("internal error answering " + key + ": " + e));
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
     * Stops accepting and reading, lets the requests being answered finish and their replies go out (unless that
     * takes longer than {@code grace}), then closes every connection and stops the threads.
     */
    public void close(Duration grace) {
        closing = true;
        try {
            serverChannel.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
        selector.wakeup();
        workers.shutdown();
        try {
            io.join(Math.max(1, grace.toMillis()));
            if (io.isAlive()) {
                workers.shutdownNow();
                busy.set(0);
                selector.wakeup();
                io.join(1000);
            }
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
