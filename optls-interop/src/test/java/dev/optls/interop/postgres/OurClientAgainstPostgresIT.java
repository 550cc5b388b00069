package dev.optls.interop.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * optls's {@link StartTlsClient} against a real PostgreSQL: SSLRequest, 'S', TLS with the certificate
 * checked, then a StartupMessage over the returned socket answered by AuthenticationOk and ReadyForQuery;
 * plaintext fallback at MAY against {@code ssl = off}; fail closed at ENCRYPT/VERIFY against it; and a
 * fake server appending bytes to 'S' (CVE-2021-23222) over a real socket.
 */
class OurClientAgainstPostgresIT {
    private static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));

    private static TestPki pki;
    private static Peers.PeerDirectory certs;
    private static PostgresDaemon tlsOnly;
    private static PostgresDaemon noTls;
    private static String version;

    @BeforeAll
    static void start() {
        version = PostgresDaemon.version();
        pki = TestPki.create();
        certs = Peers.tempDir("postgres-pki");
        Credential credential =
                pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        Credential.PemPaths pem = credential.writePem(certs.path(), "localhost");
        tlsOnly = PostgresDaemon.start(
                PostgresDaemon.Access.TLS_REQUIRED, new Peers.PemFiles(pem.chain(), pem.privateKey()));
        noTls = PostgresDaemon.start(PostgresDaemon.Access.NO_TLS, null);
    }

    @AfterAll
    static void stop() {
        Peers.closeAll(tlsOnly, noTls, certs);
    }

    private static StartTlsClient client(SecurityLevel level) {
        ClientTls tls = ClientTls.create(
                level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("localhost"),
                Protocol.POSTGRES.alpn(),
                TlsProfile.modern());
        return new StartTlsClient(Protocol.POSTGRES, ClientOptions.of(level), tls, TIMEOUTS);
    }

    /** Sends a StartupMessage on {@code socket} and returns what the server answered up to ReadyForQuery. */
    private static List<PgWire.Message> startup(Socket socket) throws IOException {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(PgWire.startup(PostgresDaemon.USER, "postgres"));
        out.flush();
        return PgWire.readUntilReady(socket.getInputStream());
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAndTheSessionWorksOverTls(SecurityLevel level) throws Exception {
        try (ClientSession session = client(level).connect(Peers.LOOPBACK, tlsOnly.port())) {
            assertThat(session.failure()).as(version).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            Result r = session.result().orElseThrow();
            assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(session.tls().orElseThrow().protocolVersion()).isEqualTo("TLSv1.3");
            if (level == SecurityLevel.VERIFY) {
                assertThat(session.verification().orElseThrow().valid()).isTrue();
            }
            Socket socket = session.socket().orElseThrow();
            assertThat(socket).isInstanceOf(SSLSocket.class);

            // The pg_hba.conf has hostssl only: AuthenticationOk proves the server saw the startup over TLS.
            List<PgWire.Message> answer = startup(socket);
            assertThat(answer.get(0).type()).as(version + ": " + answer).isEqualTo('R');
            assertThat(answer.get(0).authCode()).isZero();
            assertThat(answer.get(answer.size() - 1).type()).isEqualTo('Z');
            assertThat(answer)
                    .anySatisfy(m -> assertThat(m.type() == 'S' && m.text().startsWith("server_version|"))
                            .isTrue());
        }
    }

    @Test
    void mayFallsBackToPlaintextAgainstSslOff() throws Exception {
        try (ClientSession session = client(SecurityLevel.MAY).connect(Peers.LOOPBACK, noTls.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            Socket socket = session.socket().orElseThrow();
            assertThat(socket).isNotInstanceOf(SSLSocket.class);

            // After 'N' the connection is clean: a plaintext StartupMessage works on the same connection.
            List<PgWire.Message> answer = startup(socket);
            assertThat(answer.get(0).type()).as(version + ": " + answer).isEqualTo('R');
            assertThat(answer.get(answer.size() - 1).type()).isEqualTo('Z');
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsFailClosedAgainstSslOff(SecurityLevel level) {
        ClientSession session = client(level).connect(Peers.LOOPBACK, noTls.port());

        assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.FAILED);
        assertThat(session.socket()).isEmpty();
        assertThat(session.tls()).isEmpty();
        assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(session.failure().orElseThrow().blame()).isEqualTo(Blame.POLICY);
    }

    /** CVE-2021-23222 over a real socket: 'S' and a forged AuthenticationOk + ReadyForQuery in one write. */
    @Test
    void bytesAfterSAreRefused() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<String> attacker = CompletableFuture.supplyAsync(() -> {
                try (Socket s = listener.accept()) {
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    byte[] request = in.readNBytes(8);
                    out.write(new byte[] {'S', 'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I'});
                    out.flush();
                    byte[] rest = in.readNBytes(64);
                    return java.util.Arrays.toString(request) + " after:" + rest.length;
                } catch (IOException e) {
                    return "io: " + e;
                }
            });

            ClientSession session = client(SecurityLevel.VERIFY).connect(Peers.LOOPBACK, listener.getLocalPort());

            assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
            assertThat(session.socket()).isEmpty();
            // The attacker got the SSLRequest and then nothing at all: no ClientHello, no StartupMessage.
            assertThat(attacker.get(10, TimeUnit.SECONDS)).isEqualTo("[0, 0, 0, 8, 4, -46, 22, 47] after:0");
        }
    }
}
