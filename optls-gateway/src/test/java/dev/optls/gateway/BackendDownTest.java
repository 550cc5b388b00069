package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Failure;
import dev.optls.core.Protocol;
import dev.optls.netty.ServerEngines;
import dev.optls.testkit.ClosedPort;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Termination routes whose backend is down: the client gets the protocol's temporary failure over its TLS
 * where it waits for a reply (the greeting on implicit TLS, the reply to its first command after STARTTLS),
 * then the connection closes; the refusal's reason is {@code backend-down}.
 */
class BackendDownTest {
    private static TestPki pki;
    private static Credential credential;
    private static SSLContext clientContext;

    private final List<Failure> refused = new CopyOnWriteArrayList<>();
    /** The backend's port, where connections are refused. */
    private final ClosedPort deadBackend = ClosedPort.open();

    private Gateway gateway;

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        credential = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        clientContext = pki.clientContext();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        deadBackend.close();
    }

    private int start(Protocol protocol, Route.ListenTls listenTls) throws IOException {
        Route route = new Route(
                "r",
                protocol,
                new Route.HostPort("127.0.0.1", 0),
                listenTls,
                new Route.HostPort("127.0.0.1", deadBackend.port()),
                ServerEngines.of(
                        ServerTls.create(
                                credential.chain(), credential.privateKey(), protocol.alpn(), TlsProfile.modern()),
                        ServerEngines.Provider.AUTO),
                "gw.example.test",
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

    static Stream<Protocol> implicitTls() {
        return Relaying.supportedSchemes().stream()
                .map(s -> Protocol.forScheme(s).orElseThrow())
                .filter(p -> p.implicitScheme().isPresent());
    }

    /** Everything the peer sends until it closes. */
    private static byte[] readToEnd(InputStream in) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
        } catch (IOException e) {
            // a reset after the reply: what was read counts
        }
        return got.toByteArray();
    }

    private void assertBackendDownReported() {
        assertThat(refused)
                .singleElement()
                .satisfies(f -> assertThat(Reasons.of(f)).isEqualTo(Reasons.BACKEND_DOWN));
    }

    @ParameterizedTest
    @MethodSource("implicitTls")
    void implicitTlsClientsGetTheTemporaryFailureInsteadOfTheGreeting(Protocol protocol) throws Exception {
        int port = start(protocol, Route.ListenTls.IMPLICIT);

        try (SSLSocket s = (SSLSocket) clientContext.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.startHandshake();
            byte[] got = readToEnd(s.getInputStream());
            assertThat(got).isEqualTo(Relaying.backendDown(protocol, "gw.example.test"));
        }
        assertBackendDownReported();
    }

    @Test
    void repliesPerProtocolFamily() {
        assertThat(text(Protocol.SMTP)).startsWith("421 4.4.1 gw.example.test ").endsWith("\r\n");
        assertThat(text(Protocol.IMAP)).startsWith("* BYE [UNAVAILABLE] ");
        assertThat(text(Protocol.POP3)).startsWith("-ERR [SYS/TEMP] ");
        assertThat(text(Protocol.NNTP)).startsWith("400 ");
        assertThat(text(Protocol.SIEVE)).startsWith("BYE (TRYLATER) \"");
        assertThat(text(Protocol.IRC)).startsWith("ERROR :");
        assertThat(text(Protocol.XMPP))
                .contains("from='gw.example.test'")
                .contains("<stream:error><internal-server-error");
        // LDAP: LDAPMessage { messageID 0, [APPLICATION 24] { unavailable(52), "", text, [10] notice OID } }
        byte[] ldap = Relaying.backendDown(Protocol.LDAP, "gw.example.test");
        assertThat(ldap[0]).isEqualTo((byte) 0x30);
        assertThat(ldap[1] & 0xff).isEqualTo(ldap.length - 2);
        assertThat(ldap).startsWith(0x30, ldap[1], 0x02, 0x01, 0x00, 0x78, ldap[1] - 5, 0x0A, 0x01, 52);
        assertThat(new String(ldap, StandardCharsets.US_ASCII)).endsWith("1.3.6.1.4.1.1466.20036");
        // PostgreSQL: ErrorResponse, its length, FATAL 57P03.
        ByteBuffer pg = ByteBuffer.wrap(Relaying.backendDown(Protocol.POSTGRES, "gw.example.test"));
        assertThat(pg.get()).isEqualTo((byte) 'E');
        assertThat(pg.getInt()).isEqualTo(pg.capacity() - 1);
        assertThat(text(Protocol.POSTGRES))
                .contains("SFATAL\0")
                .contains("C57P03\0")
                .endsWith("\0\0");
        assertThat(Relaying.backendDown(Protocol.MYSQL, "gw.example.test")).isEmpty();
    }

    private static String text(Protocol protocol) {
        return new String(Relaying.backendDown(protocol, "gw.example.test"), StandardCharsets.US_ASCII);
    }

    /** SMTP: the gateway's own pre-TLS dialogue goes on; the 421 comes over TLS as the reply to EHLO. */
    @Test
    void starttlsSmtpClientsGet421OverTls() throws Exception {
        int port = start(Protocol.SMTP, Route.ListenTls.STARTTLS);

        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(5000);
            InputStream in = plain.getInputStream();
            OutputStream out = plain.getOutputStream();
            assertThat(line(in)).startsWith("220 ");
            out.write("EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII));
            String l;
            do {
                l = line(in);
            } while (l.startsWith("250-"));
            out.write("STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(line(in)).startsWith("220 ");
            try (SSLSocket tls =
                    (SSLSocket) clientContext.getSocketFactory().createSocket(plain, "127.0.0.1", port, true)) {
                tls.startHandshake();
                tls.getOutputStream().write("EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(readToEnd(tls.getInputStream()), StandardCharsets.US_ASCII))
                        .startsWith("421 4.4.1 gw.example.test ")
                        .contains("try again later");
            }
        }
        assertBackendDownReported();
    }

    /** PostgreSQL: SSLRequest, 'S', TLS, then the FATAL ErrorResponse instead of the authentication request. */
    @Test
    void postgresClientsGetAFatalErrorResponseOverTls() throws Exception {
        int port = start(Protocol.POSTGRES, Route.ListenTls.STARTTLS);

        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(5000);
            plain.getOutputStream()
                    .write(ByteBuffer.allocate(8).putInt(8).putInt(80877103).array());
            assertThat(plain.getInputStream().read()).isEqualTo('S');
            try (SSLSocket tls =
                    (SSLSocket) clientContext.getSocketFactory().createSocket(plain, "127.0.0.1", port, true)) {
                tls.startHandshake();
                byte[] startup = ByteBuffer.allocate(4 + 4 + 10)
                        .putInt(18)
                        .putInt(196608)
                        .put("user\0pg\0\0\0".getBytes(StandardCharsets.US_ASCII))
                        .array();
                tls.getOutputStream().write(startup);
                assertThat(readToEnd(tls.getInputStream()))
                        .isEqualTo(Relaying.backendDown(Protocol.POSTGRES, "gw.example.test"));
            }
        }
        assertBackendDownReported();
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
