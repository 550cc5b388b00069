package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.netty.ServerEngines;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TlsSessionInfo;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.StartTlsClient;
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
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Origination and translation routes against our blocking server as the upstream: with TLS, without TLS, and
 * with a certificate for another name. At encrypt and verify a failed upstream TLS closes the client with the
 * protocol's temporary-failure reply and no client byte reaches the upstream.
 */
class OriginationTest {
    private static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));
    private static TestPki pki;
    private static Credential localhost;
    private static Credential otherName;

    /** What the upstream's application saw: each delivered command line, with whether TLS was active. */
    private final List<String> upstreamSaw = new CopyOnWriteArrayList<>();

    private final List<Failure> refused = new CopyOnWriteArrayList<>();
    private final List<Failure> fellBack = new CopyOnWriteArrayList<>();
    private final List<TlsSessionInfo> upstreamTls = new CopyOnWriteArrayList<>();
    private Gateway gateway;

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        localhost = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        otherName = pki.issue("other.example.test");
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    static Stream<Protocol> originated() {
        return Stream.of(Protocol.values())
                .filter(p -> Relaying.whyNotOriginate(p).isEmpty());
    }

    private int start(
            Protocol protocol,
            Route.ListenTls listen,
            Route.ConnectTls connect,
            SecurityLevel level,
            int upstreamPort) {
        ServerEngines serverTls = listen == Route.ListenTls.NONE
                ? null
                : ServerEngines.of(
                        ServerTls.create(
                                localhost.chain(), localhost.privateKey(), protocol.alpn(), TlsProfile.modern()),
                        ServerEngines.Provider.AUTO);
        Route route = new Route(
                "o",
                protocol,
                new Route.HostPort("127.0.0.1", 0),
                listen,
                new Route.HostPort("127.0.0.1", upstreamPort),
                serverTls,
                "gw.example.test",
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                Route.Upstream.tls(connect, clientTls(protocol, level)));
        gateway = Gateway.start(new GatewayConfig("test", List.of(route)), new Gateway.Events() {
            @Override
            public void refused(Route r, SocketAddress client, Failure failure) {
                refused.add(failure);
            }

            @Override
            public void upstreamPlaintext(Route r, SocketAddress client, Failure reason) {
                fellBack.add(reason);
            }

            @Override
            public void upstreamTls(Route r, SocketAddress client, TlsSessionInfo tls) {
                upstreamTls.add(tls);
            }
        });
        return gateway.boundAddresses().get("o").getPort();
    }

    private static ClientTls clientTls(Protocol protocol, SecurityLevel level) {
        return ClientTls.create(
                level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.forProtocol(protocol, "localhost"),
                protocol.alpn(),
                TlsProfile.modern());
    }

    /** Our blocking server as the upstream, recording delivered commands. */
    private AdapterContract.Server upstream(Protocol protocol, Optional<Credential> tls, boolean implicit)
            throws IOException {
        ServerOptions options =
                tls.isPresent() ? AdapterContract.options(protocol) : AdapterContract.plaintextOptions(protocol);
        CommandHandler answer = AdapterContract.handler(protocol);
        return BlockingPeer.serveOnce(
                protocol,
                options,
                tls.map(c -> ServerTls.create(c.chain(), c.privateKey(), protocol.alpn(), TlsProfile.modern())),
                (Command c) -> {
                    upstreamSaw.add((c.tlsActive() ? "tls " : "plaintext ") + c.verb());
                    return answer.handle(c);
                },
                implicit,
                FAST);
    }

    /** A plaintext client: our blocking client at level NONE (greeting, capability query, nothing else). */
    private static ClientSession plaintextClient(Protocol protocol, int port) {
        return new StartTlsClient(
                        protocol,
                        dev.optls.core.ClientOptions.of(SecurityLevel.NONE),
                        clientTls(protocol, SecurityLevel.VERIFY),
                        FAST)
                .connect("127.0.0.1", port);
    }

    @ParameterizedTest
    @MethodSource("originated")
    void plaintextClientGetsTheGatewaysGreetingAndTheUpstreamsCapabilitiesOverTls(Protocol protocol) throws Exception {
        AdapterContract.Server upstream = upstream(protocol, Optional.of(localhost), false);
        int port =
                start(protocol, Route.ListenTls.NONE, Route.ConnectTls.STARTTLS, SecurityLevel.VERIFY, upstream.port());

        try (ClientSession session = plaintextClient(protocol, port)) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.PLAINTEXT);
            var before = session.result().orElseThrow().before();
            // The capability query went to the upstream over TLS: what it advertises after TLS, no STARTTLS.
            String first = AdapterContract.options(protocol)
                    .tlsCapabilities()
                    .entries()
                    .get(0);
            assertThat(before.has(dev.optls.core.Capabilities.keywordOf(first))).isTrue();
            assertThat(before.has("STARTTLS")).isFalse();
            assertThat(before.has("STLS")).isFalse();
        }
        assertThat(upstream.outcome().get(10, TimeUnit.SECONDS).tls()).isTrue();
        assertThat(upstreamTls)
                .singleElement()
                .satisfies(t -> assertThat(t.protocolVersion()).startsWith("TLSv1."));
        assertThat(refused).isEmpty();
    }

    @Test
    void smtpCommandsReachTheUpstreamOnlyOverTls() throws Exception {
        AdapterContract.Server upstream = upstream(Protocol.SMTP, Optional.of(localhost), false);
        int port = start(
                Protocol.SMTP, Route.ListenTls.NONE, Route.ConnectTls.STARTTLS, SecurityLevel.VERIFY, upstream.port());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            assertThat(readLine(in)).startsWith("220 ");
            send(out, "EHLO client.example.test");
            String line;
            do {
                line = readLine(in);
                assertThat(line).doesNotContain("STARTTLS");
            } while (line.startsWith("250-"));
            assertThat(line).startsWith("250 ");
            send(out, "MAIL FROM:<a@example.test>");
            assertThat(readLine(in)).startsWith("250 ");
            send(out, "QUIT");
            assertThat(readLine(in)).startsWith("221 ");
        }
        upstream.outcome().get(10, TimeUnit.SECONDS);
        assertThat(upstreamSaw).containsExactly("tls MAIL");
    }

    @ParameterizedTest
    @MethodSource("originated")
    void upstreamWithoutTlsClosesTheClientWithATemporaryFailure(Protocol protocol) throws Exception {
        AdapterContract.Server upstream = upstream(protocol, Optional.empty(), false);
        int port = start(
                protocol, Route.ListenTls.NONE, Route.ConnectTls.STARTTLS, SecurityLevel.ENCRYPT, upstream.port());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            // The client's first bytes: nothing may reach the upstream, in plaintext or otherwise.
            send(raw.getOutputStream(), "HELP");
            assertThat(readLine(in)).isEqualTo(Relaying.unavailable(protocol, "gw.example.test"));
            assertThat(in.read()).as("closed after the reply").isEqualTo(-1);
        }
        upstream.outcome().get(10, TimeUnit.SECONDS);
        assertThat(upstreamSaw).isEmpty();
        assertThat(refused)
                .singleElement()
                .satisfies(f -> assertThat(f.detail()).contains("closed, not relayed in plaintext"));
    }

    @Test
    void aRouteTheGatewayCannotRunIsRefusedWhenBuiltInCodeToo() {
        // The config loader refuses these with a fix; a Route built by a library user must not slip through.
        Route.HostPort here = new Route.HostPort("127.0.0.1", 0);
        Duration t = Duration.ofSeconds(5);
        assertThatThrownBy(() -> new Route(
                        "ftp-out",
                        Protocol.FTP,
                        here,
                        Route.ListenTls.NONE,
                        here,
                        null,
                        "gw.example.test",
                        t,
                        t,
                        Route.Upstream.tls(Route.ConnectTls.STARTTLS, clientTls(Protocol.FTP, SecurityLevel.VERIFY))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("route ftp-out: the gateway cannot originate TLS for ftp (");
        assertThatThrownBy(() -> new Route(
                        "smtp-implicit",
                        Protocol.SMTP,
                        here,
                        Route.ListenTls.NONE,
                        here,
                        null,
                        "gw.example.test",
                        t,
                        t,
                        Route.Upstream.tls(Route.ConnectTls.IMPLICIT, clientTls(Protocol.SMTP, SecurityLevel.VERIFY))))
                .hasMessage("route smtp-implicit: smtp has no implicit-TLS form");
        assertThatThrownBy(() -> new Route(
                        "plain", Protocol.IMAP, here, Route.ListenTls.NONE, here, null, "gw.example.test", t, t))
                .hasMessageContaining("the route adds no TLS");
    }

    @Test
    void wrongCertificateAtVerifyClosesTheClient() throws Exception {
        AdapterContract.Server upstream = upstream(Protocol.IMAP, Optional.of(otherName), false);
        int port = start(
                Protocol.IMAP, Route.ListenTls.NONE, Route.ConnectTls.STARTTLS, SecurityLevel.VERIFY, upstream.port());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            send(raw.getOutputStream(), "a LOGIN user secret");
            assertThat(readLine(raw.getInputStream())).startsWith("* BYE [UNAVAILABLE] ");
            assertThat(raw.getInputStream().read()).isEqualTo(-1);
        }
        upstream.outcome().get(10, TimeUnit.SECONDS);
        assertThat(upstreamSaw).isEmpty();
        assertThat(refused)
                .singleElement()
                .satisfies(f -> assertThat(f.kind().wireName()).containsIgnoringCase("certificate"));
    }

    @Test
    void wrongCertificateAtEncryptIsRelayedOverTls() throws Exception {
        AdapterContract.Server upstream = upstream(Protocol.POP3, Optional.of(otherName), false);
        int port = start(
                Protocol.POP3, Route.ListenTls.NONE, Route.ConnectTls.STARTTLS, SecurityLevel.ENCRYPT, upstream.port());

        try (ClientSession session = plaintextClient(Protocol.POP3, port)) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.result().orElseThrow().before().has("UIDL")).isTrue();
        }
        assertThat(upstream.outcome().get(10, TimeUnit.SECONDS).tls()).isTrue();
        assertThat(upstreamTls).hasSize(1);
        assertThat(refused).isEmpty();
    }

    @Test
    void levelMayFallsBackToPlaintextAndSaysSo() throws Exception {
        AdapterContract.Server upstream = upstream(Protocol.SMTP, Optional.empty(), false);
        int port = start(
                Protocol.SMTP, Route.ListenTls.NONE, Route.ConnectTls.STARTTLS, SecurityLevel.MAY, upstream.port());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            assertThat(readLine(in)).startsWith("220 ");
            send(out, "MAIL FROM:<a@example.test>");
            assertThat(readLine(in)).startsWith("250 ");
            send(out, "QUIT");
            assertThat(readLine(in)).startsWith("221 ");
        }
        upstream.outcome().get(10, TimeUnit.SECONDS);
        assertThat(upstreamSaw).containsExactly("plaintext MAIL");
        assertThat(fellBack)
                .singleElement()
                .satisfies(f -> assertThat(f.detail()).isNotBlank());
        assertThat(upstreamTls).isEmpty();
    }

    /** Translation: the client does STARTTLS with the gateway, the gateway implicit TLS with the upstream. */
    @Test
    void startTlsClientToImplicitTlsUpstream() throws Exception {
        AdapterContract.Server upstream = upstream(Protocol.IMAP, Optional.of(localhost), true);
        int port = start(
                Protocol.IMAP,
                Route.ListenTls.STARTTLS,
                Route.ConnectTls.IMPLICIT,
                SecurityLevel.VERIFY,
                upstream.port());

        try (ClientSession session = new StartTlsClient(
                        Protocol.IMAP,
                        dev.optls.core.ClientOptions.of(SecurityLevel.VERIFY),
                        clientTls(Protocol.IMAP, SecurityLevel.VERIFY),
                        FAST)
                .connect("127.0.0.1", port)) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.result().orElseThrow().after().has("IMAP4rev1")).isTrue();
        }
        assertThat(upstream.outcome().get(10, TimeUnit.SECONDS).tls()).isTrue();
        assertThat(upstreamTls).hasSize(1);
    }

    /** Translation: implicit TLS from the client (pop3s), STARTTLS towards the upstream; the gateway greets. */
    @Test
    void implicitTlsClientToStartTlsUpstream() throws Exception {
        AdapterContract.Server upstream = upstream(Protocol.POP3, Optional.of(localhost), false);
        int port = start(
                Protocol.POP3,
                Route.ListenTls.IMPLICIT,
                Route.ConnectTls.STARTTLS,
                SecurityLevel.VERIFY,
                upstream.port());

        try (ClientSession session = new StartTlsClient(
                        Protocol.POP3,
                        dev.optls.core.ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true),
                        clientTls(Protocol.POP3, SecurityLevel.VERIFY),
                        FAST)
                .connect("127.0.0.1", port)) {
            assertThat(session.failure()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.result().orElseThrow().after().has("UIDL")).isTrue();
        }
        assertThat(upstream.outcome().get(10, TimeUnit.SECONDS).tls()).isTrue();
        assertThat(upstreamTls).hasSize(1);
        assertThat(refused).isEmpty();
    }

    /** Translation fails closed too: a pop3s client gets the temporary failure inside its TLS, then EOF. */
    @Test
    void implicitTlsClientOfAnUpstreamWithoutTlsGetsATemporaryFailureOverTls() throws Exception {
        AdapterContract.Server upstream = upstream(Protocol.POP3, Optional.empty(), false);
        int port = start(
                Protocol.POP3,
                Route.ListenTls.IMPLICIT,
                Route.ConnectTls.STARTTLS,
                SecurityLevel.VERIFY,
                upstream.port());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port);
                SSLSocket tls =
                        (SSLSocket) pki.clientContext().getSocketFactory().createSocket(raw, "localhost", port, true)) {
            tls.setSoTimeout(5000);
            tls.startHandshake();
            assertThat(readLine(tls.getInputStream())).startsWith("-ERR [SYS/TEMP] ");
            assertThat(tls.getInputStream().read()).isEqualTo(-1);
        }
        upstream.outcome().get(10, TimeUnit.SECONDS);
        assertThat(upstreamSaw).isEmpty();
        assertThat(refused)
                .singleElement()
                .satisfies(f -> assertThat(f.detail()).contains("at level verify failed"));
    }

    /** Translation from STARTTLS: the client's TLS is up, the upstream's fails; 421 comes over the client's TLS. */
    @Test
    void startTlsClientOfAnUpstreamWithoutTlsGetsA421OverTls() throws Exception {
        // Submission: SMTP has no implicit-TLS form (a Route refuses it), submissions does (RFC 8314).
        AdapterContract.Server upstream = upstream(Protocol.SUBMISSION, Optional.empty(), false);
        int port = start(
                Protocol.SUBMISSION,
                Route.ListenTls.STARTTLS,
                Route.ConnectTls.IMPLICIT,
                SecurityLevel.VERIFY,
                upstream.port());

        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            assertThat(readLine(in)).startsWith("220 ");
            send(raw.getOutputStream(), "EHLO client.example.test");
            String line;
            do {
                line = readLine(in);
            } while (line.startsWith("250-"));
            send(raw.getOutputStream(), "STARTTLS");
            assertThat(readLine(in)).startsWith("220 ");
            try (SSLSocket tls =
                    (SSLSocket) pki.clientContext().getSocketFactory().createSocket(raw, "localhost", port, true)) {
                tls.startHandshake();
                send(tls.getOutputStream(), "EHLO client.example.test");
                assertThat(readLine(tls.getInputStream())).startsWith("421 4.7.0 gw.example.test ");
                assertThat(tls.getInputStream().read()).isEqualTo(-1);
            }
        }
        upstream.outcome().get(10, TimeUnit.SECONDS);
        assertThat(upstreamSaw).isEmpty();
        assertThat(refused)
                .singleElement()
                .satisfies(f -> assertThat(f.detail()).contains("not relayed in plaintext"));
    }

    private static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
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
