package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.netty.ServerEngines;
import dev.optls.testkit.ClosedPort;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.contract.AdapterContract;
import dev.optls.tls.contract.BlockingPeer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The gateway between our blocking client and a plaintext backend (our blocking server without TLS). */
class GatewayTest {
    private static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));
    private static TestPki pki;
    private static Credential credential;

    /** A loopback port where connections are refused, held for the test (see {@link ClosedPort}). */
    private final ClosedPort refusing = ClosedPort.open();

    private final List<String> backendSaw = new CopyOnWriteArrayList<>();
    private final List<Failure> refused = new CopyOnWriteArrayList<>();
    private Gateway gateway;

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        credential = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
    }

    @AfterEach
    void stop() {
        refusing.close();
        if (gateway != null) {
            gateway.close();
        }
    }

    static Stream<Protocol> terminated() {
        return Relaying.supportedSchemes().stream()
                .map(s -> Protocol.forScheme(s).orElseThrow());
    }

    private int start(Protocol protocol, Route.ListenTls listenTls, int backendPort) {
        Route route = new Route(
                "r",
                protocol,
                new Route.HostPort("127.0.0.1", 0),
                listenTls,
                new Route.HostPort("127.0.0.1", backendPort),
                ServerEngines.of(
                        ServerTls.create(
                                credential.chain(), credential.privateKey(), protocol.alpn(), TlsProfile.modern()),
                        ServerEngines.Provider.AUTO),
                "localhost", // also the XMPP domain served: RFC 6120 §4.7.2 `to` must match it
                Duration.ofSeconds(5),
                Duration.ofSeconds(5));
        gateway = Gateway.start(new GatewayConfig("test", List.of(route)), new Gateway.Events() {
            @Override
            public void refused(Route r, SocketAddress client, Failure failure) {
                refused.add(failure);
            }
        });
        return gateway.boundAddresses().get("r").getPort();
    }

    /** A plaintext backend that records the commands its dialect hands to the application. */
    private AdapterContract.Server backend(Protocol protocol) throws IOException {
        ServerOptions plaintext = AdapterContract.plaintextOptions(protocol);
        CommandHandler answer = AdapterContract.handler(protocol);
        return BlockingPeer.serveOnce(
                protocol,
                plaintext,
                Optional.empty(),
                (Command c) -> {
                    backendSaw.add(c.verb());
                    return answer.handle(c);
                },
                false,
                FAST);
    }

    private static ClientTls clientTls(Protocol protocol) {
        return ClientTls.create(
                SecurityLevel.VERIFY,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.forProtocol(protocol, "localhost"),
                protocol.alpn(),
                TlsProfile.modern());
    }

    @ParameterizedTest
    @MethodSource("terminated")
    void clientGetsStartTlsFromTheGatewayAndCapabilitiesFromTheBackend(Protocol protocol) throws Exception {
        AdapterContract.Server backend = backend(protocol);
        int port = start(protocol, Route.ListenTls.STARTTLS, backend.port());

        try (ClientSession session = new StartTlsClient(protocol, port).run(ClientOptions.of(SecurityLevel.VERIFY))) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.verification().orElseThrow().valid()).isTrue();
            List<String> backendCapabilities =
                    AdapterContract.options(protocol).plaintextCapabilities().entries();
            if (!backendCapabilities.isEmpty()) {
                // Asked again over TLS, answered by the backend through the relay (RFC 3207 §4.2).
                String first = Capabilities.keywordOf(backendCapabilities.get(0));
                assertThat(session.result().orElseThrow().after().has(first))
                        .as("post-TLS capabilities come from the backend")
                        .isTrue();
            }
        }
        assertThat(backend.outcome()
                        .get(10, TimeUnit.SECONDS)
                        .failure()
                        .map(Failure::kind)
                        .orElse(FailureKind.UNEXPECTED_EOF))
                .isEqualTo(FailureKind.UNEXPECTED_EOF);
        if (protocol == Protocol.MYSQL) {
            // A MySQL session counts as relayed once the backend answered the login (MysqlGatewayTest); this
            // client left right after TLS, before logging in.
            assertThat(refused)
                    .singleElement()
                    .satisfies(f -> assertThat(f.detail()).contains("during the MySQL connection phase"));
        } else {
            assertThat(refused).isEmpty();
        }
    }

    static Stream<Protocol> terminatedWithImplicitTls() {
        return terminated().filter(p -> p.implicitScheme().isPresent());
    }

    @ParameterizedTest
    @MethodSource("terminatedWithImplicitTls")
    void implicitTlsRoutesRelayTheBackendsGreeting(Protocol protocol) throws Exception {
        AdapterContract.Server backend = backend(protocol);
        int port = start(protocol, Route.ListenTls.IMPLICIT, backend.port());

        try (ClientSession session = new StartTlsClient(protocol, port)
                .run(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true))) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
        }
        backend.outcome().get(10, TimeUnit.SECONDS);
    }

    /** CVE-2011-0411 through the gateway: a command sent with STARTTLS never reaches the backend. */
    @Test
    void commandsInjectedWithStartTlsNeverReachTheBackend() throws Exception {
        AdapterContract.Server backend = backend(Protocol.SMTP);
        int port = start(Protocol.SMTP, Route.ListenTls.STARTTLS, backend.port());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            assertThat(readLine(in)).startsWith("220 ");
            out.write("EHLO attacker\r\n".getBytes(StandardCharsets.US_ASCII));
            String line;
            do {
                line = readLine(in);
            } while (line.startsWith("250-"));
            out.write("STARTTLS\r\nRSET\r\nMAIL FROM:<a@b>\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).startsWith("220 ");
            // The injected lines went to TLS as the start of a ClientHello: the handshake fails, no reply comes.
            byte[] rest = in.readAllBytes();
            assertThat(rest.length == 0 || rest[0] == 21)
                    .as("nothing but a TLS alert")
                    .isTrue();
        }
        backend.outcome().get(10, TimeUnit.SECONDS);
        assertThat(backendSaw).isEmpty();
        assertThat(refused)
                .singleElement()
                .satisfies(f -> assertThat(f.kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED));
    }

    /** A required-TLS route answers plaintext commands itself; nothing goes to the backend in plaintext. */
    @Test
    void plaintextCommandsAreRefusedByTheGateway() throws Exception {
        AdapterContract.Server backend = backend(Protocol.SMTP);
        int port = start(Protocol.SMTP, Route.ListenTls.STARTTLS, backend.port());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            readLine(in);
            out.write("MAIL FROM:<a@b>\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).startsWith("530 ");
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).startsWith("221 ");
        }
        backend.outcome().get(10, TimeUnit.SECONDS);
        assertThat(backendSaw).isEmpty();
    }

    @Test
    void backendThatIsDownClosesTheClient() throws Exception {
        int closedPort = refusing.port();
        int port = start(Protocol.IMAP, Route.ListenTls.STARTTLS, closedPort);

        try (ClientSession session =
                new StartTlsClient(Protocol.IMAP, port).run(ClientOptions.of(SecurityLevel.VERIFY))) {
            assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
        }
        assertThat(refused).anySatisfy(f -> assertThat(f.detail()).contains("cannot connect to the backend"));
    }

    /** Our blocking client towards the gateway. */
    private record StartTlsClient(Protocol protocol, int port) {
        ClientSession run(ClientOptions options) {
            return new dev.optls.tls.blocking.StartTlsClient(protocol, options, clientTls(protocol), FAST)
                    .connect("127.0.0.1", port);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
