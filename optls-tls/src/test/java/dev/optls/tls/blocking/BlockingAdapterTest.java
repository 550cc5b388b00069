package dev.optls.tls.blocking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The blocking adapter over real loopback sockets: upgrades, injection both ways, timeouts. */
class BlockingAdapterTest {
    private static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));
    private static TestPki pki;
    private static Credential credential;

    private ServerSocket listener;

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        credential = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
    }

    @AfterEach
    void close() throws IOException {
        if (listener != null) {
            listener.close();
        }
    }

    private static ServerOptions options(Protocol protocol) {
        if (protocol == Protocol.POSTGRES || protocol == Protocol.LDAP) {
            // PostgreSQL and LDAP advertise nothing: the upgrade request is the only question (RFC 4511 §4.14).
            return ServerOptions.offering("localhost", Capabilities.NONE);
        }
        if (protocol == Protocol.MYSQL) {
            // MySQL: the greeting text is the server version; the dialect adds CLIENT_SSL itself.
            return ServerOptions.offering("localhost", Capabilities.NONE).withGreeting("8.0.36-optls");
        }
        if (protocol == Protocol.FTP) {
            // FTP (RFC 4217 §6): the dialect adds AUTH TLS, PBSZ and PROT to FEAT itself.
            return ServerOptions.offering("localhost", Capabilities.of("EPSV", "UTF8"));
        }
        if (protocol == Protocol.NNTP) {
            // NNTP (RFC 3977 §5.2): the dialect adds VERSION 2 and STARTTLS itself.
            return ServerOptions.offering("localhost", Capabilities.of("READER"));
        }
        Capabilities caps = protocol == Protocol.IMAP
                ? Capabilities.of("IMAP4rev1")
                : protocol == Protocol.POP3
                        ? Capabilities.of("UIDL")
                        : protocol == Protocol.SIEVE
                                ? Capabilities.of("IMPLEMENTATION optls", "SIEVE fileinto", "VERSION 1.0")
                                : protocol == Protocol.IRC
                                        ? Capabilities.of("multi-prefix", "sasl")
                                        : Capabilities.of("PIPELINING");
        return ServerOptions.offering("localhost", caps);
    }

    private static ServerTls serverTls(Protocol protocol) {
        return ServerTls.create(credential.chain(), credential.privateKey(), protocol.alpn(), TlsProfile.modern());
    }

    private static ClientTls clientTls(Protocol protocol, SecurityLevel level) {
        return ClientTls.create(
                level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("localhost"),
                protocol.alpn(),
                TlsProfile.modern());
    }

    private CompletableFuture<ServerSession> serveOnce(Protocol protocol, ServerOptions options) throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        StartTlsServer server = new StartTlsServer(protocol, options, Optional.of(serverTls(protocol)), FAST);
        return CompletableFuture.supplyAsync(() -> {
            try {
                Socket accepted = listener.accept();
                return server.serve(
                        accepted,
                        c -> protocol == Protocol.IMAP
                                ? c.tag() + " OK done"
                                : protocol == Protocol.POP3
                                        ? "+OK done"
                                        : protocol == Protocol.SIEVE
                                                ? "OK \"done\""
                                                // PostgreSQL, LDAP and MySQL replies are binary: the application takes
                                                // over.
                                                : protocol == Protocol.POSTGRES
                                                                || protocol == Protocol.LDAP
                                                                || protocol == Protocol.MYSQL
                                                        ? CommandHandler.HAND_OVER
                                                        : "250 2.0.0 done");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void ourClientUpgradesAgainstOurServer(Protocol protocol) throws Exception {
        CompletableFuture<ServerSession> served = serveOnce(protocol, options(protocol));
        StartTlsClient client = new StartTlsClient(
                protocol, ClientOptions.of(SecurityLevel.VERIFY), clientTls(protocol, SecurityLevel.VERIFY), FAST);

        try (ClientSession session = client.connect("127.0.0.1", listener.getLocalPort())) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.socket()).get().isInstanceOf(SSLSocket.class);
            Result result = session.result().orElseThrow();
            if (protocol != Protocol.POSTGRES && protocol != Protocol.LDAP) {
                // PostgreSQL and LDAP have nothing to advertise the upgrade in before it is asked for.
                assertThat(result.before().has(upgradeKeyword(protocol))).isTrue();
            }
            assertThat(result.after().has("STARTTLS")).isFalse();
            assertThat(result.after().has("STLS")).isFalse();
            assertThat(session.tls().orElseThrow().protocolVersion()).isEqualTo("TLSv1.3");
            assertThat(session.verification().orElseThrow().valid()).isTrue();
            assertThat(session.tls().orElseThrow().applicationProtocol())
                    .isEqualTo(protocol.alpn().orElse(""));
        }
        // The client closed after its post-TLS capability query; the server saw a clean end or EOF.
        ServerSession server = served.get(10, TimeUnit.SECONDS);
        assertThat(server.tls()).isPresent();
    }

    /**
     * CVE-2011-0411 over a real socket: the attack bytes go in the same write as the upgrade command. The
     * server must hand them to TLS, never answer them: the handshake fails and no reply ever arrives.
     */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "SMTP|EHLO attacker\\r\\n|STARTTLS\\r\\nRSET\\r\\n",
                "SMTP|EHLO attacker\\r\\n|STARTTLS\\r\\nMAIL FROM:<a@b>\\r\\nRCPT TO:<a@b>\\r\\nDATA\\r\\n",
                "LMTP|LHLO attacker\\r\\n|STARTTLS\\r\\nRSET\\r\\n",
                "IMAP|a CAPABILITY\\r\\n|b STARTTLS\\r\\nc NOOP\\r\\n",
                "IMAP|a CAPABILITY\\r\\n|b STARTTLS\\r\\nc LOGIN u p\\r\\nd APPEND INBOX {999999}\\r\\n",
                "POP3|CAPA\\r\\n|STLS\\r\\nCAPA\\r\\n",
                "POP3|CAPA\\r\\n|STLS\\r\\nUSER u\\r\\n",
                "SIEVE|CAPABILITY\\r\\n|STARTTLS\\r\\nAUTHENTICATE \"PLAIN\" \"AHUAcA==\"\\r\\n",
                "SIEVE|CAPABILITY\\r\\n|STARTTLS\\r\\nPUTSCRIPT \"x\" {5+}\\r\\nkeep;\\r\\n",
                "FTP|FEAT\\r\\n|AUTH TLS\\r\\nUSER u\\r\\n"
            })
    void serverNeverAnswersCommandsInjectedWithTheUpgrade(Protocol protocol, String hello, String attack)
            throws Exception {
        CompletableFuture<ServerSession> served = serveOnce(protocol, options(protocol));
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            readUntilQuiet(in); // greeting
            out.write(unescape(hello));
            out.flush();
            readUntilQuiet(in); // capabilities
            out.write(unescape(attack)); // one write: the upgrade command and the injected commands
            out.flush();
            String goAhead = readLine(in);
            assertThat(goAhead).matches("(220 .*|234 .*|b OK .*|\\+OK .*|OK .*)");
            // The server's TLS engine may already have rejected the injected bytes: then what follows the
            // go-ahead is a TLS alert record (type 21), never a plaintext reply to an injected command.
            Thread.sleep(300);
            byte[] after = in.readNBytes(in.available());
            if (after.length > 0) {
                assertThat(after[0]).as("a TLS alert record, not plaintext").isEqualTo((byte) 21);
                assertThat(after[1]).isEqualTo((byte) 3);
            }

            SSLSocket tls = (SSLSocket) pki.clientContext()
                    .getSocketFactory()
                    .createSocket(raw, "localhost", listener.getLocalPort(), true);
            tls.setSoTimeout(5000);
            // The injected bytes reached the server's TLS engine as the start of a ClientHello: it fails.
            assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
        }
        ServerSession server = served.get(10, TimeUnit.SECONDS);
        assertThat(server.tls()).isEmpty();
        assertThat(server.failure()).get().satisfies(f -> assertThat(f.kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED));
    }

    /** Response injection over a real socket: plaintext lines appended to the 220 go-ahead in one write. */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "SMTP|220 mx ESMTP\\r\\n|250-mx\\r\\n250 STARTTLS\\r\\n|220 Ready to start TLS\\r\\n250-example.org\\r\\n250 AUTH LOGIN\\r\\n",
                "SMTP|220 mx ESMTP\\r\\n|250-mx\\r\\n250 STARTTLS\\r\\n|220 Ready\\r\\n250-X",
                "POP3|+OK ready\\r\\n|+OK\\r\\nSTLS\\r\\n.\\r\\n|+OK Begin TLS\\r\\n+OK\\r\\nPLAIN\\r\\nLOGIN\\r\\n.\\r\\n",
                "IMAP|* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\\r\\n||a001 OK begin TLS\\r\\nB OK answer future login command\\r\\n",
                "SIEVE|\"IMPLEMENTATION\" \"x\"\\r\\n\"STARTTLS\"\\r\\nOK\\r\\n||OK\\r\\n\"SASL\" \"PLAIN\"\\r\\nOK\\r\\n",
                "FTP|220 ftp\\r\\n|211-Features:\\r\\n AUTH TLS\\r\\n211 End\\r\\n|234 go\\r\\n230 Login successful.\\r\\n"
            })
    void clientAbortsOnBytesAfterTheGoAhead(Protocol protocol, String greeting, String capabilities, String goAhead)
            throws Exception {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<String> attacker = CompletableFuture.supplyAsync(() -> {
            try (Socket s = listener.accept()) {
                s.setSoTimeout(5000);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                out.write(unescape(greeting));
                out.flush();
                StringBuilder seen = new StringBuilder();
                if (capabilities != null && !capabilities.isEmpty()) {
                    seen.append(readLine(in)).append('\n');
                    out.write(unescape(capabilities));
                    out.flush();
                }
                String upgrade = readLine(in);
                seen.append(upgrade).append('\n');
                out.write(unescape(goAhead)); // one write
                out.flush();
                // Whatever the client does next must not be plaintext protocol: record it.
                byte[] rest = in.readNBytes(64);
                seen.append("after:").append(new String(rest, StandardCharsets.ISO_8859_1));
                return seen.toString();
            } catch (IOException e) {
                return "io: " + e;
            }
        });
        ClientOptions options = ClientOptions.of(SecurityLevel.VERIFY);
        StartTlsClient client = new StartTlsClient(protocol, options, clientTls(protocol, SecurityLevel.VERIFY), FAST);

        try (ClientSession session = client.connect("127.0.0.1", listener.getLocalPort())) {
            assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).isEmpty();
            assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
        }
        assertThat(attacker.get(10, TimeUnit.SECONDS)).endsWith("after:");
    }

    @Test
    void requiredLevelNeverContinuesWhenStartTlsIsMissing() throws Exception {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        StartTlsServer server = new StartTlsServer(
                Protocol.SMTP,
                ServerOptions.withoutTls("localhost", Capabilities.of("AUTH PLAIN")),
                Optional.empty(),
                FAST);
        CompletableFuture<ServerSession> served = CompletableFuture.supplyAsync(() -> {
            try {
                return server.serve(listener.accept(), c -> "250 2.0.0 Ok");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        StartTlsClient client = new StartTlsClient(
                Protocol.SMTP,
                ClientOptions.of(SecurityLevel.ENCRYPT),
                clientTls(Protocol.SMTP, SecurityLevel.ENCRYPT),
                FAST);

        ClientSession session = client.connect("127.0.0.1", listener.getLocalPort());

        assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
        assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        // The client said QUIT, nothing else: the server ended the session as closed by QUIT.
        assertThat(served.get(10, TimeUnit.SECONDS).result().orElseThrow().ending())
                .isEqualTo(Result.Ending.CLOSED);
    }

    @Test
    void silentServerTimesOut() throws Exception {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Void> silent = CompletableFuture.runAsync(() -> {
            try (Socket s = listener.accept()) {
                s.getInputStream().read();
            } catch (IOException ignored) {
                // the client gave up: expected
            }
        });
        StartTlsClient client = new StartTlsClient(
                Protocol.SMTP,
                ClientOptions.of(SecurityLevel.MAY),
                clientTls(Protocol.SMTP, SecurityLevel.MAY),
                new Timeouts(Duration.ofSeconds(2), Duration.ofMillis(300), Duration.ofSeconds(2)));

        ClientSession session = client.connect("127.0.0.1", listener.getLocalPort());

        assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.TIMEOUT);
        silent.get(5, TimeUnit.SECONDS);
    }

    @Test
    void handshakeFailureIsNeverFollowedByPlaintext() throws Exception {
        // A server whose certificate is for another name: at VERIFY the client fails and closes.
        Credential other = pki.issue("other.example");
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        StartTlsServer server = new StartTlsServer(
                Protocol.IMAP,
                options(Protocol.IMAP),
                Optional.of(
                        ServerTls.create(other.chain(), other.privateKey(), Optional.of("imap"), TlsProfile.modern())),
                FAST);
        CompletableFuture<ServerSession> served = CompletableFuture.supplyAsync(() -> {
            try {
                return server.serve(listener.accept(), c -> c.tag() + " OK");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        StartTlsClient client = new StartTlsClient(
                Protocol.IMAP,
                ClientOptions.of(SecurityLevel.MAY),
                clientTls(Protocol.IMAP, SecurityLevel.VERIFY),
                FAST);

        ClientSession session = client.connect("127.0.0.1", listener.getLocalPort());

        assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
        assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.CERTIFICATE_INVALID);
        assertThat(session.peerChain()).isNotEmpty();
        // For reports: what the server advertised before the failed handshake is still known.
        assertThat(session.result().orElseThrow().before().has("STARTTLS")).isTrue();
        assertThat(session.socket()).isEmpty();
        assertThat(served.get(10, TimeUnit.SECONDS).tls()).isEmpty();
    }

    /** What the plaintext capabilities list when the upgrade is offered. */
    private static String upgradeKeyword(Protocol protocol) {
        if (protocol == Protocol.IRC) {
            return "tls"; // IRCv3 tls extension
        }
        if (protocol == Protocol.FTP) {
            return "AUTH"; // FEAT line "AUTH TLS" (RFC 4217 §6)
        }
        return protocol == Protocol.POP3 ? "STLS" : protocol == Protocol.MYSQL ? "CLIENT_SSL" : "STARTTLS";
    }

    private static byte[] unescape(String s) {
        return s.replace("\\r", "\r").replace("\\n", "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                break;
            }
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    /** Reads one reply (possibly multi-line): everything until 200 ms pass without data. */
    private static void readUntilQuiet(InputStream in) throws IOException {
        readLine(in);
        long until = System.nanoTime() + 200_000_000L;
        while (System.nanoTime() < until) {
            if (in.available() > 0) {
                readLine(in);
                until = System.nanoTime() + 200_000_000L;
            } else {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
