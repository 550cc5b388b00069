package dev.optls.tls.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
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
import dev.optls.tls.Verification;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every adapter (blocking, Netty) must do over real loopback sockets: upgrades for every protocol,
 * injection both ways, a required level without an offer, timeouts, handshake failures. Subclasses say how
 * to run a server and a client; attacks and expectations are the same for all of them.
 */
public abstract class AdapterContract {
    /** Timeouts for the adapters under test. */
    protected static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));

    /** The test PKI: a CA and a leaf for {@code localhost} / 127.0.0.1. */
    protected static TestPki pki;

    private static Credential credential;

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        credential = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
    }

    /**
     * A server that accepts one connection on 127.0.0.1 and serves it: plaintext phase, upgrade, session; or,
     * when {@code implicit}, handshake first and then the session.
     */
    protected abstract Server serveOnce(
            Protocol protocol, ServerOptions options, Optional<ServerTls> tls, CommandHandler handler, boolean implicit)
            throws IOException;

    /** Connects a client to 127.0.0.1:{@code port} and runs its negotiation to the end. */
    protected abstract ClientView connect(
            Protocol protocol, ClientOptions options, ClientTls tls, int port, Timeouts timeouts) throws Exception;

    /** A running one-connection server. */
    public record Server(int port, CompletableFuture<ServerView> outcome) {}

    /** How a server session ended. */
    public record ServerView(boolean tls, Optional<Failure> failure, Optional<Result> result) {}

    /** How a client negotiation ended; {@link #close()} closes the connection if it is open. */
    public record ClientView(
            ClientSession.Status status,
            boolean open,
            boolean tlsLayered,
            Optional<Failure> failure,
            Optional<Result> result,
            Optional<String> protocolVersion,
            Optional<String> applicationProtocol,
            Optional<Verification> verification,
            List<X509Certificate> peerChain,
            Closeable closer)
            implements Closeable {
        @Override
        public void close() throws IOException {
            closer.close();
        }
    }

    /** Server options that offer the upgrade, with protocol-typical capabilities. */
    public static ServerOptions options(Protocol protocol) {
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
        if (protocol == Protocol.XMPP || protocol == Protocol.XMPP_SERVER) {
            // XMPP stream features (RFC 6120 §4.3); the dialect adds <starttls/> itself.
            return ServerOptions.offering("localhost", Capabilities.of("dialback"))
                    .withTlsCapabilities(Capabilities.of("mechanisms PLAIN", "dialback"));
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

    /** {@link #options} without the upgrade offered: the same server, as a plaintext backend or upstream. */
    public static ServerOptions plaintextOptions(Protocol protocol) {
        ServerOptions o = options(protocol);
        return new ServerOptions(
                o.hostname(),
                o.greeting(),
                o.plaintextCapabilities(),
                o.tlsCapabilities(),
                false,
                false,
                false,
                true,
                o.limits());
    }

    /** The server certificate for {@code localhost}, with the protocol's ALPN id. */
    public static ServerTls serverTls(Protocol protocol) {
        return ServerTls.create(credential.chain(), credential.privateKey(), protocol.alpn(), TlsProfile.modern());
    }

    /** A client trusting the test CA, checking {@code localhost}. */
    public static ClientTls clientTls(Protocol protocol, SecurityLevel level) {
        return ClientTls.create(
                level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.forProtocol(protocol, "localhost"),
                protocol.alpn(),
                TlsProfile.modern());
    }

    /** Protocol-typical answers to the commands a server negotiation delivers. */
    public static CommandHandler handler(Protocol protocol) {
        return c -> switch (protocol) {
            case IMAP -> c.tag() + " OK done";
            case POP3 -> "+OK done";
            case SIEVE -> "OK \"done\"";
            // PostgreSQL, LDAP and MySQL replies are binary, XMPP ones XML: the application takes over.
            case POSTGRES, LDAP, MYSQL, XMPP, XMPP_SERVER -> CommandHandler.HAND_OVER;
            default -> "250 2.0.0 done";
        };
    }

    private Server serveOnce(Protocol protocol, ServerOptions options) throws IOException {
        return serveOnce(protocol, options, Optional.of(serverTls(protocol)), handler(protocol), false);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void ourClientUpgradesAgainstOurServer(Protocol protocol) throws Exception {
        Server served = serveOnce(protocol, options(protocol));

        try (ClientView session = connect(
                protocol,
                ClientOptions.of(SecurityLevel.VERIFY),
                clientTls(protocol, SecurityLevel.VERIFY),
                served.port(),
                FAST)) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.open()).isTrue();
            assertThat(session.tlsLayered()).isTrue();
            Result result = session.result().orElseThrow();
            if (protocol != Protocol.POSTGRES && protocol != Protocol.LDAP) {
                // PostgreSQL and LDAP have nothing to advertise the upgrade in before it is asked for.
                assertThat(result.before().has(upgradeKeyword(protocol))).isTrue();
            }
            assertThat(result.after().has("STARTTLS")).isFalse();
            assertThat(result.after().has("STLS")).isFalse();
            assertThat(session.protocolVersion()).contains("TLSv1.3");
            assertThat(session.verification().orElseThrow().valid()).isTrue();
            assertThat(session.applicationProtocol()).contains(protocol.alpn().orElse(""));
        }
        // The client closed after its post-TLS capability query; the server saw a clean end or EOF.
        ServerView server = served.outcome().get(10, TimeUnit.SECONDS);
        assertThat(server.tls()).isTrue();
    }

    /** RFC 8314 §3: on an implicit-TLS port the handshake comes first; the session then runs over TLS. */
    @ParameterizedTest
    @MethodSource("implicitProtocols")
    void implicitTlsForEveryProtocolThatHasIt(Protocol protocol) throws Exception {
        Server served =
                serveOnce(protocol, options(protocol), Optional.of(serverTls(protocol)), handler(protocol), true);

        try (ClientView session = connect(
                protocol,
                ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true),
                clientTls(protocol, SecurityLevel.VERIFY),
                served.port(),
                FAST)) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.tlsLayered()).isTrue();
            assertThat(session.verification().orElseThrow().valid()).isTrue();
            assertThat(session.result().orElseThrow().ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        }
        assertThat(served.outcome().get(10, TimeUnit.SECONDS).tls()).isTrue();
    }

    static Stream<Protocol> implicitProtocols() {
        return Arrays.stream(Protocol.values()).filter(p -> p.implicitScheme().isPresent());
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
        Server served = serveOnce(protocol, options(protocol));
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), served.port())) {
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

            SSLSocket tls = (SSLSocket)
                    pki.clientContext().getSocketFactory().createSocket(raw, "localhost", served.port(), true);
            tls.setSoTimeout(5000);
            // The injected bytes reached the server's TLS engine as the start of a ClientHello: it fails.
            assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
        }
        ServerView server = served.outcome().get(10, TimeUnit.SECONDS);
        assertThat(server.tls()).isFalse();
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
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<String> attacker = CompletableFuture.supplyAsync(() -> {
            try (listener;
                    Socket s = listener.accept()) {
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
        try (ClientView session = connect(
                protocol,
                ClientOptions.of(SecurityLevel.VERIFY),
                clientTls(protocol, SecurityLevel.VERIFY),
                listener.getLocalPort(),
                FAST)) {
            assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.open()).isFalse();
            assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
        }
        assertThat(attacker.get(10, TimeUnit.SECONDS)).endsWith("after:");
    }

    @Test
    void requiredLevelNeverContinuesWhenStartTlsIsMissing() throws Exception {
        Server served = serveOnce(
                Protocol.SMTP,
                ServerOptions.withoutTls("localhost", Capabilities.of("AUTH PLAIN")),
                Optional.empty(),
                c -> "250 2.0.0 Ok",
                false);

        ClientView session = connect(
                Protocol.SMTP,
                ClientOptions.of(SecurityLevel.ENCRYPT),
                clientTls(Protocol.SMTP, SecurityLevel.ENCRYPT),
                served.port(),
                FAST);

        assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
        assertThat(session.open()).isFalse();
        assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        // The client said QUIT, nothing else: the server ended the session as closed by QUIT.
        assertThat(served.outcome()
                        .get(10, TimeUnit.SECONDS)
                        .result()
                        .orElseThrow()
                        .ending())
                .isEqualTo(Result.Ending.CLOSED);
    }

    @Test
    void silentServerTimesOut() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Void> silent = CompletableFuture.runAsync(() -> {
            try (listener;
                    Socket s = listener.accept()) {
                s.getInputStream().read();
            } catch (IOException ignored) {
                // the client gave up: expected
            }
        });
        ClientView session = connect(
                Protocol.SMTP,
                ClientOptions.of(SecurityLevel.MAY),
                clientTls(Protocol.SMTP, SecurityLevel.MAY),
                listener.getLocalPort(),
                new Timeouts(Duration.ofSeconds(2), Duration.ofMillis(300), Duration.ofSeconds(2)));

        assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.TIMEOUT);
        silent.get(5, TimeUnit.SECONDS);
    }

    /** ALPACA: after STARTTLS, a client that offers only another protocol's ALPN id is refused. */
    @Test
    void clientOfferingOnlyForeignAlpnIsRefused() throws Exception {
        Server served = serveOnce(Protocol.IMAP, options(Protocol.IMAP));
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), served.port())) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            readLine(in); // greeting
            raw.getOutputStream().write("a STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).startsWith("a OK");
            SSLSocket tls = (SSLSocket) pki.clientContext().getSocketFactory().createSocket(raw, "localhost", 0, true);
            javax.net.ssl.SSLParameters p = tls.getSSLParameters();
            p.setApplicationProtocols(new String[] {"http/1.1"});
            tls.setSSLParameters(p);
            assertThatThrownBy(tls::startHandshake)
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("no_application_protocol");
        }
        ServerView server = served.outcome().get(10, TimeUnit.SECONDS);
        assertThat(server.tls()).isFalse();
        assertThat(server.failure().orElseThrow().detail()).contains("ALPACA");
    }

    @Test
    void handshakeFailureIsNeverFollowedByPlaintext() throws Exception {
        // A server whose certificate is for another name: at VERIFY the client fails and closes.
        Credential other = pki.issue("other.example");
        Server served = serveOnce(
                Protocol.IMAP,
                options(Protocol.IMAP),
                Optional.of(
                        ServerTls.create(other.chain(), other.privateKey(), Optional.of("imap"), TlsProfile.modern())),
                c -> c.tag() + " OK",
                false);

        ClientView session = connect(
                Protocol.IMAP,
                ClientOptions.of(SecurityLevel.MAY),
                clientTls(Protocol.IMAP, SecurityLevel.VERIFY),
                served.port(),
                FAST);

        assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
        assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.CERTIFICATE_INVALID);
        assertThat(session.peerChain()).isNotEmpty();
        // For reports: what the server advertised before the failed handshake is still known.
        assertThat(session.result().orElseThrow().before().has("STARTTLS")).isTrue();
        assertThat(session.open()).isFalse();
        assertThat(served.outcome().get(10, TimeUnit.SECONDS).tls()).isFalse();
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
