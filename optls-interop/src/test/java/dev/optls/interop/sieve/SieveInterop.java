package dev.optls.interop.sieve;

import dev.optls.core.ClientOptions;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Shared fixtures of the ManageSieve interop tests: a test PKI, our client, a line-level peer. */
final class SieveInterop {
    static final String SERVER_NAME = "localhost";
    static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));

    private SieveInterop() {}

    /** A test CA (as {@code ca.pem}) and a leaf for localhost/127.0.0.1 issued by it. */
    static final class Pki implements AutoCloseable {
        private final Peers.PeerDirectory dir = Peers.tempDir("sieve-pki");
        private final TestPki pki = TestPki.create();
        private final Credential leaf =
                pki.leaf(SERVER_NAME).ipAddresses(Peers.LOOPBACK).issue();
        private final Path caFile = pki.writeCaPem(dir.resolve("ca.pem"));

        Credential credential() {
            return leaf;
        }

        Peers.PemFiles pem() {
            Credential.PemPaths paths = leaf.writePem(dir.path(), SERVER_NAME);
            return new Peers.PemFiles(paths.chain(), paths.privateKey());
        }

        Path caFile() {
            return caFile;
        }

        /** A JDK context trusting exactly this CA, for raw TLS sockets in tests. */
        javax.net.ssl.SSLContext clientContext() {
            return pki.clientContext();
        }

        TrustAnchors trust() {
            return TrustAnchors.of(pki.trustStore());
        }

        @Override
        public void close() {
            dir.close();
        }
    }

    /** Our ManageSieve client at {@code level}, checking {@link #SERVER_NAME}, offering ALPN managesieve. */
    static StartTlsClient client(SecurityLevel level, TrustAnchors trust) {
        ClientTls tls = ClientTls.create(
                level == SecurityLevel.NONE ? SecurityLevel.MAY : level,
                trust,
                ReferenceIdentity.of(SERVER_NAME),
                Protocol.SIEVE.alpn(),
                TlsProfile.modern());
        return new StartTlsClient(Protocol.SIEVE, ClientOptions.of(level), tls, TIMEOUTS);
    }

    /** Runs {@code client} on a connection from {@code localAddress} to 127.0.0.1:{@code port}. */
    static ClientSession negotiate(StartTlsClient client, String localAddress, int port) {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.bind(new InetSocketAddress(localAddress, 0));
            socket.connect(new InetSocketAddress(Peers.LOOPBACK, port), 5000);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect to " + Peers.LOOPBACK + ":" + port, e);
        }
        return client.negotiate(socket, Peers.LOOPBACK, port);
    }

    /** Line-level ManageSieve over a socket (plaintext or TLS). */
    static final class Lines {
        private final InputStream in;
        private final OutputStream out;

        Lines(Socket socket) throws IOException {
            socket.setSoTimeout(10_000);
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        Lines send(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return this;
        }

        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    throw new IOException("end of input after: " + line.toString(StandardCharsets.UTF_8));
                }
                line.write(b);
            }
            String s = line.toString(StandardCharsets.UTF_8);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }

        /** Lines up to and including the first OK/NO/BYE line. */
        List<String> readResponse() throws IOException {
            List<String> lines = new ArrayList<>();
            while (true) {
                String line = readLine();
                lines.add(line);
                String upper = line.toUpperCase(java.util.Locale.ROOT);
                if (upper.equals("OK")
                        || upper.startsWith("OK ")
                        || upper.startsWith("NO")
                        || upper.startsWith("BYE")) {
                    return lines;
                }
            }
        }
    }

    /** {@code AUTHENTICATE "PLAIN" "<base64 \0user\0password>"} (RFC 5804 §2.1 with an initial response). */
    static String authenticatePlain(String user, String password) {
        String ir = java.util.Base64.getEncoder()
                .encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
        return "AUTHENTICATE \"PLAIN\" \"" + ir + "\"";
    }
}
