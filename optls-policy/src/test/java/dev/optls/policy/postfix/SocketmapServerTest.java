package dev.optls.policy.postfix;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The socketmap protocol over real sockets on 127.0.0.1. */
class SocketmapServerTest {

    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final List<String> answered = new CopyOnWriteArrayList<>();
    private SocketmapServer server;

    private final SocketmapServer.Listener listener = new SocketmapServer.Listener() {
        @Override
        public void answered(SocketAddress client, String mapName, String key, SocketmapReply reply, long nanos) {
            answered.add(mapName + " " + key + " -> " + reply.wire());
        }

        @Override
        public void protocolError(SocketAddress client, String reason) {
            errors.add(reason);
        }
    };

    private SocketmapServer start(SocketmapHandler handler, SocketmapServer.Settings settings) throws IOException {
        server = SocketmapServer.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), handler, settings, listener);
        return server;
    }

    private static final SocketmapHandler ECHO = (name, key) -> key.equals("missing.test")
            ? SocketmapReply.notFound()
            : SocketmapReply.ok("secure match=" + key + " map=" + name);

    @AfterEach
    void stop() {
        if (server != null) {
            server.close(Duration.ofSeconds(2));
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(server.address(), 2000);
        s.setSoTimeout(5000);
        return s;
    }

    private static String request(Socket s, String raw) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return reply(s);
    }

    private static String ns(String request) {
        return request.length() + ":" + request + ",";
    }

    private static String reply(Socket s) throws IOException {
        InputStream in = new BufferedInputStream(s.getInputStream());
        return new String(Netstrings.readRequired(in, Netstrings.POSTFIX_MAX_REPLY), StandardCharsets.UTF_8);
    }

    @Test
    void manyRequestsOnOneConnectionAsPostfixSendsThem() throws IOException {
        start(ECHO, SocketmapServer.Settings.defaults());
        try (Socket s = connect()) {
            assertThat(request(s, ns("postfix example.test"))).isEqualTo("OK secure match=example.test map=postfix");
            assertThat(request(s, ns("postfix missing.test"))).isEqualTo("NOTFOUND ");
            // Two requests in one write (Postfix does not pipeline, but nothing breaks if a client does).
            OutputStream out = s.getOutputStream();
            out.write("10:tls a.test,10:tls b.test,".getBytes(StandardCharsets.US_ASCII));
            InputStream in = new BufferedInputStream(s.getInputStream());
            assertThat(new String(Netstrings.readRequired(in, 1000), StandardCharsets.US_ASCII))
                    .isEqualTo("OK secure match=a.test map=tls");
            assertThat(new String(Netstrings.readRequired(in, 1000), StandardCharsets.US_ASCII))
                    .isEqualTo("OK secure match=b.test map=tls");
        }
        assertThat(server.requests()).isEqualTo(4);
        assertThat(answered).contains("postfix missing.test -> NOTFOUND ");
    }

    @Test
    void aSlowLookupDoesNotHoldUpOtherConnectionsAndRepliesKeepTheirOrder() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        SocketmapHandler handler = new SocketmapHandler() {
            @Override
            public SocketmapReply lookup(String name, String key) {
                try {
                    release.await(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return SocketmapReply.ok("slow " + key);
            }

            @Override
            public java.util.Optional<SocketmapReply> immediate(String name, String key) {
                return key.startsWith("slow")
                        ? java.util.Optional.empty()
                        : java.util.Optional.of(SocketmapReply.ok("fast " + key));
            }
        };
        start(handler, SocketmapServer.Settings.defaults());
        try (Socket slow = connect();
                Socket fast = connect()) {
            // A slow request and a fast one behind it on the same connection, in one write.
            slow.getOutputStream()
                    .write((ns("postfix slow.test") + ns("postfix quick.test")).getBytes(StandardCharsets.US_ASCII));
            // Another connection is answered while the slow lookup waits.
            assertThat(request(fast, ns("postfix other.test"))).isEqualTo("OK fast other.test");
            release.countDown();
            InputStream in = new BufferedInputStream(slow.getInputStream());
            assertThat(new String(Netstrings.readRequired(in, 1000), StandardCharsets.US_ASCII))
                    .isEqualTo("OK slow slow.test");
            assertThat(new String(Netstrings.readRequired(in, 1000), StandardCharsets.US_ASCII))
                    .isEqualTo("OK fast quick.test");
        }
    }

    @Test
    void aMalformedNetstringGetsPermAndTheConnectionIsClosed() throws IOException {
        start(ECHO, SocketmapServer.Settings.defaults());
        try (Socket s = connect()) {
            String reply = request(s, ns("postfix example.test").replace(',', ';'));
            assertThat(reply).startsWith("PERM malformed request: a netstring ends with ','");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(errors).hasSize(1);
    }

    @Test
    void anOversizedRequestIsRefusedAtItsLength() throws IOException {
        start(ECHO, new SocketmapServer.Settings(64, 4, Duration.ofSeconds(5)));
        try (Socket s = connect()) {
            // Only the length is sent: the server must answer without waiting for 100000 bytes.
            String reply = request(s, "100000:");
            assertThat(reply).startsWith("PERM malformed request: a netstring longer than 64 bytes");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void aRequestWithoutANameIsPermButTheConnectionStays() throws IOException {
        start(ECHO, SocketmapServer.Settings.defaults());
        try (Socket s = connect()) {
            assertThat(request(s, ns("example.test"))).startsWith("PERM a socketmap request is 'name key'");
            assertThat(request(s, ns("tls a.test"))).isEqualTo("OK secure match=a.test map=tls");
        }
    }

    @Test
    void aThrowingHandlerIsTempNotADeadConnection() throws IOException {
        start(
                (name, key) -> {
                    throw new IllegalStateException("bug");
                },
                SocketmapServer.Settings.defaults());
        try (Socket s = connect()) {
            assertThat(request(s, ns("tls a.test")))
                    .startsWith("TEMP internal error")
                    .contains("bug");
            assertThat(request(s, ns("tls a.test"))).startsWith("TEMP ");
        }
    }

    @Test
    void connectionsOverTheLimitGetTempAndAreClosed() throws Exception {
        start(ECHO, new SocketmapServer.Settings(1024, 2, Duration.ofSeconds(5)));
        try (Socket a = connect();
                Socket b = connect()) {
            // Both are being served once they have an answer.
            assertThat(request(a, "10:tls a.test,")).startsWith("OK ");
            assertThat(request(b, "10:tls b.test,")).startsWith("OK ");
            try (Socket c = connect()) {
                assertThat(reply(c)).startsWith("TEMP too many connections");
                assertThat(c.getInputStream().read()).isEqualTo(-1);
            }
        }
    }

    @Test
    void anIdleConnectionIsClosed() throws IOException {
        start(ECHO, new SocketmapServer.Settings(1024, 4, Duration.ofMillis(200)));
        try (Socket s = connect()) {
            assertThat(request(s, ns("tls a.test"))).startsWith("OK ");
            long start = System.nanoTime();
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        }
    }

    @Test
    void concurrentClientsEachGetTheirOwnAnswers() throws Exception {
        start(ECHO, SocketmapServer.Settings.defaults());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int client = c;
                results.add(pool.submit(() -> {
                    int ok = 0;
                    try (Socket s = connect()) {
                        for (int i = 0; i < 200; i++) {
                            String key = "d" + client + "-" + i + ".test";
                            String req = "tls " + key;
                            String reply = request(s, req.length() + ":" + req + ",");
                            if (reply.equals("OK secure match=" + key + " map=tls")) {
                                ok++;
                            }
                        }
                    }
                    return ok;
                }));
            }
            for (Future<Integer> f : results) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(server.requests()).isEqualTo(1600);
    }

    @Test
    void closeEndsOpenConnectionsAndFreesThePort() throws Exception {
        CountDownLatch served = new CountDownLatch(1);
        start(
                (name, key) -> {
                    served.countDown();
                    return SocketmapReply.ok("dane");
                },
                SocketmapServer.Settings.defaults());
        InetSocketAddress address = server.address();
        try (Socket s = connect()) {
            assertThat(request(s, ns("tls a.test"))).isEqualTo("OK dane");
            server.close(Duration.ofSeconds(2));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(server.openConnections()).isZero();
        try (Socket s = new Socket()) {
            s.connect(address, 500);
            throw new AssertionError("the port still accepts after close");
        } catch (IOException expected) {
            assertThat(expected).isNotNull();
        }
    }
}
