package dev.optls.netty.load;

import dev.optls.core.ClientOptions;
import dev.optls.core.Protocol;
import dev.optls.netty.ClientOutcome;
import dev.optls.netty.StartTlsClientHandler;
import dev.optls.netty.Transport;
import dev.optls.tls.ClientTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A load generator for STARTTLS (and implicit-TLS) servers, on Netty with the {@link StartTlsClientHandler}:
 * every session is a full client negotiation (connect, greeting, capability query, upgrade command, TLS
 * handshake, capability query again over TLS), then the connection is closed (TLS close_notify, then TCP
 * FIN; no protocol QUIT, so that every protocol ends the same way). Each session uses a new TLS session:
 * the engine is not given a session to resume, so every handshake is a full one.
 *
 * <p>All work happens on the generator's event loops ({@code threads}, usually one, so that the load fits
 * on one CPU); the calling thread only waits and prints progress.
 */
public final class LoadGenerator implements AutoCloseable {
    /** The protocols {@link #bulk} can push a payload through (an SMTP transaction, RFC 5321 §3.3). */
    public static final EnumSet<Protocol> BULK_PROTOCOLS =
            EnumSet.of(Protocol.SMTP, Protocol.SUBMISSION, Protocol.LMTP);

    private final Endpoint endpoint;
    private final ClientOptions options;
    private final ClientTls tls;
    private final Optional<ClientTls.EngineSource> engines;
    private final Transport transport;
    private final MultiThreadIoEventLoopGroup group;
    private final Duration timeout;

    /**
     * Where the load goes.
     *
     * @param uri the target as the user wrote it, for the report
     * @param protocol the protocol spoken
     * @param implicitTls TLS from the first byte (smtps, imaps...) instead of STARTTLS
     * @param host host name or address to connect to
     * @param port port to connect to
     */
    public record Endpoint(String uri, Protocol protocol, boolean implicitTls, String host, int port) {
        public Endpoint {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(host, "host");
        }
    }

    /**
     * @param options the client options (level, hello name); implicit TLS is taken from {@code endpoint}
     * @param tls the TLS client (trust, reference identity, ALPN)
     * @param engines the engines to use (e.g. {@link dev.optls.netty.ClientEngines#boringSsl}); empty: the JDK's
     * @param threads event loops (1 is enough for thousands of sessions a second with BoringSSL servers)
     * @param timeout for the connect, each reply and the handshake
     */
    public LoadGenerator(
            Endpoint endpoint,
            ClientOptions options,
            ClientTls tls,
            Optional<ClientTls.EngineSource> engines,
            Transport transport,
            int threads,
            Duration timeout) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.options = options.withImplicitTls(endpoint.implicitTls());
        this.tls = Objects.requireNonNull(tls, "tls");
        this.engines = Objects.requireNonNull(engines, "engines");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.group = transport.group(threads);
    }

    /**
     * Full sessions, {@code concurrency} in flight, for {@code duration}; sessions in flight at the end are
     * finished and counted.
     *
     * @param progress receives one line a second
     */
    public BenchReport sessions(int concurrency, Duration duration, Consumer<String> progress)
            throws InterruptedException {
        positive("concurrency", concurrency);
        Tally tally = new Tally();
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        CountDownLatch done = new CountDownLatch(concurrency);
        ScheduledFuture<?> ticker = ticker(tally, start, progress, "sessions");
        for (int i = 0; i < concurrency; i++) {
            EventLoop loop = group.next();
            loop.execute(() -> nextSession(loop, deadline, tally, done));
        }
        done.await();
        long end = System.nanoTime();
        ticker.cancel(false);
        return tally.report("sessions", endpoint.uri(), concurrency, Duration.ofNanos(end - start), 0);
    }

    private void nextSession(EventLoop loop, long deadline, Tally tally, CountDownLatch done) {
        if (System.nanoTime() - deadline >= 0) {
            done.countDown();
            return;
        }
        long t0 = System.nanoTime();
        open(loop).addListener((Future<ClientOutcome> f) -> {
            Optional<Channel> channel = tally.settle(f, t0);
            if (channel.isPresent()) {
                channel.get().close().addListener(c -> nextSession(loop, deadline, tally, done));
            } else {
                // A failed attempt (refused, bad certificate...) is retried after a pause, not in a tight loop.
                loop.schedule(() -> nextSession(loop, deadline, tally, done), 10, TimeUnit.MILLISECONDS);
            }
        });
    }

    /**
     * One SMTP transaction (MAIL, RCPT, DATA) carrying {@code size} bytes of message text over an upgraded
     * session, on each of {@code concurrency} connections at once. Measured: payload bytes from the first
     * byte after the 354 go-ahead until the server's reply to the final dot (RFC 5321 §4.1.1.4), that is
     * through TLS, the gateway's relay and into the backend, which must read all of it before it answers.
     *
     * @param size payload bytes per connection, rounded up to whole 1000-byte lines
     */
    public BenchReport bulk(long size, int concurrency, Consumer<String> progress) throws InterruptedException {
        if (!BULK_PROTOCOLS.contains(endpoint.protocol())) {
            throw new IllegalArgumentException("bulk sends an SMTP transaction: use an smtp, submission or lmtp URI,"
                    + " not " + endpoint.protocol().scheme());
        }
        positive("concurrency", concurrency);
        if (size < 1) {
            throw new IllegalArgumentException("size must be at least 1 byte, not " + size);
        }
        Tally tally = new Tally();
        AtomicLong firstByte = new AtomicLong(Long.MAX_VALUE);
        AtomicLong lastReply = new AtomicLong(Long.MIN_VALUE);
        CountDownLatch done = new CountDownLatch(concurrency);
        long start = System.nanoTime();
        ScheduledFuture<?> ticker = ticker(tally, start, progress, "transfers");
        for (int i = 0; i < concurrency; i++) {
            EventLoop loop = group.next();
            long t0 = System.nanoTime();
            open(loop).addListener((Future<ClientOutcome> f) -> {
                Optional<Channel> channel = tally.established(f, t0);
                if (channel.isEmpty()) {
                    done.countDown();
                    return;
                }
                Channel ch = channel.get();
                ch.pipeline().addLast(new SmtpTransfer(size, tally, firstByte, lastReply, done));
                ch.config().setAutoRead(true);
                ch.pipeline().fireUserEventTriggered(SmtpTransfer.BEGIN);
            });
        }
        done.await();
        ticker.cancel(false);
        long elapsed = lastReply.get() > firstByte.get() ? lastReply.get() - firstByte.get() : 0;
        return tally.report("bulk", endpoint.uri(), concurrency, Duration.ofNanos(elapsed), tally.bytes.sum());
    }

    /**
     * Opens {@code connections} upgraded sessions ({@code parallel} being set up at a time), holds them open
     * for {@code hold}, then closes them. Each needs a file descriptor here and, through a gateway, two
     * there: mind {@code ulimit -n} on both sides.
     *
     * @param progress receives one line a second while connecting, then {@code holding N upgraded
     *     connections...} once all attempts are settled (scripts wait for that line)
     */
    public BenchReport idle(int connections, int parallel, Duration hold, Consumer<String> progress)
            throws InterruptedException {
        positive("connections", connections);
        positive("parallel", parallel);
        Tally tally = new Tally();
        Queue<Channel> held = new ConcurrentLinkedQueue<>();
        AtomicInteger remaining = new AtomicInteger(connections);
        CountDownLatch settled = new CountDownLatch(connections);
        long start = System.nanoTime();
        ScheduledFuture<?> ticker = ticker(tally, start, progress, "connections");
        for (int i = 0; i < Math.min(parallel, connections); i++) {
            EventLoop loop = group.next();
            loop.execute(() -> nextIdle(loop, remaining, tally, held, settled));
        }
        settled.await();
        long end = System.nanoTime();
        ticker.cancel(false);
        long open = held.stream().filter(Channel::isActive).count();
        progress.accept(String.format(
                Locale.ROOT,
                "holding %d upgraded connections (%d failed) for %d s",
                open,
                tally.errorCount(),
                hold.toSeconds()));
        Thread.sleep(hold.toMillis());
        long stillOpen = held.stream().filter(Channel::isActive).count();
        if (stillOpen < open) {
            tally.error("CLOSED_BY_PEER_WHILE_IDLE", open - stillOpen);
        }
        for (Channel ch : held) {
            ch.close();
        }
        BenchReport r = tally.report("idle", endpoint.uri(), connections, Duration.ofNanos(end - start), 0);
        return new BenchReport(
                r.mode(), r.target(), r.concurrency(), r.elapsed(), stillOpen, r.errors(), r.latency(), 0);
    }

    private void nextIdle(
            EventLoop loop, AtomicInteger remaining, Tally tally, Queue<Channel> held, CountDownLatch settled) {
        if (remaining.getAndDecrement() <= 0) {
            return;
        }
        long t0 = System.nanoTime();
        open(loop).addListener((Future<ClientOutcome> f) -> {
            Optional<Channel> channel = tally.settle(f, t0);
            channel.ifPresent(held::add);
            settled.countDown();
            loop.execute(() -> nextIdle(loop, remaining, tally, held, settled));
        });
    }

    private Future<ClientOutcome> open(EventLoop loop) {
        Promise<ClientOutcome> promise = loop.newPromise();
        long millis = timeout.toMillis();
        new Bootstrap()
                .group(loop)
                .channel(transport.channel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, millis))
                .handler(new StartTlsClientHandler(
                        endpoint.protocol(),
                        options,
                        Optional.of(tls),
                        engines,
                        endpoint.host(),
                        endpoint.port(),
                        promise,
                        millis,
                        millis))
                .connect(endpoint.host(), endpoint.port())
                .addListener((ChannelFuture f) -> {
                    if (!f.isSuccess()) {
                        promise.tryFailure(f.cause());
                    }
                });
        return promise;
    }

    private ScheduledFuture<?> ticker(Tally tally, long start, Consumer<String> progress, String what) {
        AtomicLong last = new AtomicLong();
        return group.next()
                .scheduleAtFixedRate(
                        () -> {
                            long now = tally.completed.sum();
                            long seconds = (System.nanoTime() - start + 500_000_000L) / 1_000_000_000L;
                            progress.accept(String.format(
                                    Locale.ROOT,
                                    "%3d s: %d %s (%d in the last second), %d errors",
                                    seconds,
                                    now,
                                    what,
                                    now - last.getAndSet(now),
                                    tally.errorCount()));
                        },
                        1,
                        1,
                        TimeUnit.SECONDS);
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, not " + value);
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Counters shared by the event loops. */
    private static final class Tally {
        final LongAdder completed = new LongAdder();
        final LongAdder bytes = new LongAdder();
        final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        final LatencyHistogram latency = new LatencyHistogram();

        void error(String kind, long n) {
            errors.computeIfAbsent(kind, k -> new LongAdder()).add(n);
        }

        long errorCount() {
            return errors.values().stream().mapToLong(LongAdder::sum).sum();
        }

        /** Counts a finished session; the channel to close, if it is still open. */
        Optional<Channel> settle(Future<ClientOutcome> f, long t0) {
            Optional<Channel> channel = established(f, t0);
            if (channel.isPresent()) {
                completed.increment();
            }
            return channel;
        }

        /** Records the latency of an upgraded session and returns its channel; counts any other ending as an error. */
        Optional<Channel> established(Future<ClientOutcome> f, long t0) {
            if (!f.isSuccess()) {
                error("CONNECT", 1);
                return Optional.empty();
            }
            ClientOutcome outcome = f.getNow();
            switch (outcome.status()) {
                case TLS -> {
                    latency.record((System.nanoTime() - t0) / 1000);
                    return outcome.channel();
                }
                case PLAINTEXT -> {
                    error("PLAINTEXT", 1);
                    outcome.channel().ifPresent(Channel::close);
                    return Optional.empty();
                }
                default -> {
                    error(outcome.failure().map(x -> x.kind().name()).orElse("FAILED"), 1);
                    return Optional.empty();
                }
            }
        }

        BenchReport report(String mode, String target, int concurrency, Duration elapsed, long payload) {
            Map<String, Long> e = new TreeMap<>();
            errors.forEach((k, v) -> e.put(k, v.sum()));
            return new BenchReport(
                    mode, target, concurrency, elapsed, completed.sum(), new TreeMap<>(e), latency.summary(), payload);
        }
    }

    /** One SMTP mail transaction with a payload of {@code size} bytes, on an upgraded channel. */
    private static final class SmtpTransfer extends ChannelInboundHandlerAdapter {
        static final Object BEGIN = new Object();
        private static final int LINE = 1000; // RFC 5321 §4.5.3.1.6: at most 1000 octets with the CRLF
        private static final ByteBuf CHUNK = chunk();

        private enum Stage {
            MAIL,
            RCPT,
            DATA,
            STREAM,
            DOT,
            DONE
        }

        private final long size;
        private final int lastChunk;
        private final Tally tally;
        private final AtomicLong firstByte;
        private final AtomicLong lastReply;
        private final CountDownLatch done;
        private final StringBuilder line = new StringBuilder();
        private Stage stage = Stage.MAIL;
        private int chunksLeft;

        SmtpTransfer(long size, Tally tally, AtomicLong firstByte, AtomicLong lastReply, CountDownLatch done) {
            this.size = (size + LINE - 1) / LINE * LINE;
            long chunks = (this.size + CHUNK.capacity() - 1) / CHUNK.capacity();
            if (chunks > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("size " + size + " is too large for one transfer");
            }
            this.lastChunk = (int) (this.size - (chunks - 1) * CHUNK.capacity());
            this.chunksLeft = (int) chunks;
            this.tally = tally;
            this.firstByte = firstByte;
            this.lastReply = lastReply;
            this.done = done;
        }

        private static ByteBuf chunk() {
            byte[] bytes = new byte[64 * LINE];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) ('a' + i % 26);
            }
            for (int i = LINE; i <= bytes.length; i += LINE) {
                bytes[i - 2] = '\r';
                bytes[i - 1] = '\n';
            }
            return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes).asReadOnly());
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == BEGIN) {
                send(ctx, "MAIL FROM:<bench@localhost>");
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                while (buf.isReadable()) {
                    char c = (char) buf.readByte();
                    if (c == '\n') {
                        String reply = line.toString().strip();
                        line.setLength(0);
                        if (reply.length() < 4 || reply.charAt(3) != '-') {
                            onReply(ctx, reply);
                        }
                    } else if (line.length() < 4096) {
                        line.append(c);
                    }
                }
            } finally {
                buf.release();
            }
        }

        private void onReply(ChannelHandlerContext ctx, String reply) {
            String code = reply.length() >= 3 ? reply.substring(0, 3) : reply;
            switch (stage) {
                case MAIL -> expect(ctx, code, "250", Stage.RCPT, "RCPT TO:<sink@localhost>");
                case RCPT -> expect(ctx, code, "250", Stage.DATA, "DATA");
                case DATA -> {
                    if (!code.equals("354")) {
                        fail(ctx, code);
                        return;
                    }
                    stage = Stage.STREAM;
                    firstByte.accumulateAndGet(System.nanoTime(), Math::min);
                    stream(ctx);
                }
                case DOT -> {
                    if (!code.startsWith("2")) {
                        fail(ctx, code);
                        return;
                    }
                    lastReply.accumulateAndGet(System.nanoTime(), Math::max);
                    tally.bytes.add(size);
                    tally.completed.increment();
                    stage = Stage.DONE;
                    send(ctx, "QUIT");
                    ctx.close();
                    done.countDown();
                }
                default -> {}
            }
        }

        private void expect(ChannelHandlerContext ctx, String code, String want, Stage next, String command) {
            if (!code.equals(want)) {
                fail(ctx, code);
                return;
            }
            stage = next;
            send(ctx, command);
        }

        private void fail(ChannelHandlerContext ctx, String code) {
            tally.error("SMTP_" + stage + "_" + code, 1);
            stage = Stage.DONE;
            ctx.close();
            done.countDown();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (stage == Stage.STREAM && ctx.channel().isWritable()) {
                stream(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (stage != Stage.DONE) {
                tally.error("CLOSED_DURING_" + stage, 1);
                stage = Stage.DONE;
                done.countDown();
            }
            ctx.fireChannelInactive();
        }

        private void stream(ChannelHandlerContext ctx) {
            while (chunksLeft > 0 && ctx.channel().isWritable()) {
                int n = chunksLeft == 1 ? lastChunk : CHUNK.capacity();
                chunksLeft--;
                ctx.write(CHUNK.slice(0, n)); // unreleasable: the slice shares the one read-only chunk
            }
            if (chunksLeft == 0) {
                stage = Stage.DOT;
                ctx.write(Unpooled.copiedBuffer(".\r\n", StandardCharsets.US_ASCII));
            }
            ctx.flush();
        }

        private void send(ChannelHandlerContext ctx, String command) {
            ctx.writeAndFlush(Unpooled.copiedBuffer(command + "\r\n", StandardCharsets.US_ASCII));
        }
    }
}
