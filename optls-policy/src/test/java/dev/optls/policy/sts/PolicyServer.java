package dev.optls.policy.sts;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.optls.testkit.Credential;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A real HTTPS server (the JDK's {@link HttpsServer}) on 127.0.0.1 and an ephemeral port, presenting one test PKI
 * credential, for policy fetch tests. It records the requests (method, path) and the SNI names clients asked for;
 * handlers that stall wait on {@link #release()}, which {@link #close()} opens.
 */
final class PolicyServer implements AutoCloseable {

    /** A policy that parses. */
    static final String GOOD_POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n";

    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> sniNames = new CopyOnWriteArrayList<>();
    /** The Host field of each request. */
    final List<String> hostFields = new CopyOnWriteArrayList<>();

    private final CountDownLatch release = new CountDownLatch(1);
    private final HttpsServer server;
    private final ExecutorService executor;

    private PolicyServer(Credential credential, HttpHandler handler) throws IOException {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context(credential)));
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "policy-server");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            hostFields.add(String.valueOf(exchange.getRequestHeaders().getFirst("Host")));
            try (exchange) {
                handler.handle(exchange);
            }
        });
        server.start();
    }

    /** Starts a server presenting {@code credential} and answering every request with {@code handler}. */
    static PolicyServer start(Credential credential, HttpHandler handler) throws IOException {
        return new PolicyServer(credential, handler);
    }

    /** A handler answering with {@code status}, a Content-Type and a body. */
    static HttpHandler respond(int status, String contentType, String body) {
        return exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            if (contentType != null) {
                exchange.getResponseHeaders().set("Content-Type", contentType);
            }
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                exchange.getResponseBody().write(bytes);
            }
        };
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Blocks a handler until the test ends (at most 30 s). */
    void release() {
        try {
            release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes {@code bytes} and flushes. */
    static void write(HttpExchange exchange, byte[] bytes) throws IOException {
        OutputStream out = exchange.getResponseBody();
        out.write(bytes);
        out.flush();
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    private SSLContext context(Credential credential) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {new RecordingKeyManager(credential)}, null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Presents the one credential and records the SNI host names of each handshake. */
    private final class RecordingKeyManager extends X509ExtendedKeyManager {
        private static final String ALIAS = "policy";
        private final Credential credential;

        RecordingKeyManager(Credential credential) {
            this.credential = credential;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            SSLSession session = engine.getHandshakeSession();
            if (session instanceof ExtendedSSLSession extended) {
                for (SNIServerName name : extended.getRequestedServerNames()) {
                    if (name instanceof SNIHostName host) {
                        sniNames.add(host.getAsciiName());
                    }
                }
            }
            return chooseServerAlias(keyType, issuers, null);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return keyType.equalsIgnoreCase(credential.privateKey().getAlgorithm()) ? ALIAS : null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return ALIAS.equals(alias) ? credential.chain().toArray(new X509Certificate[0]) : null;
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return ALIAS.equals(alias) ? credential.privateKey() : null;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return new String[] {ALIAS};
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }
}
