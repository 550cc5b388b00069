package dev.optls.interop.ldap;

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
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** optls's LDAP StartTLS client against a real OpenLDAP slapd, and against a response injector. */
class OurClientAgainstSlapdIT {
    private static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));
    private static TestPki pki;
    private static Peers.PeerDirectory dir;
    private static Credential.PemPaths pem;
    private static java.nio.file.Path ca;
    private static String version;

    @BeforeAll
    static void pki() {
        Peers.requireCommand("slapd", "slapd");
        pki = TestPki.create();
        dir = Peers.tempDir("ldap-client-pki");
        // libldap/slapd check 127.0.0.1 against an iPAddress SAN; our client checks "localhost".
        pem = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue().writePem(dir.path(), "slapd");
        ca = pki.writeCaPem(dir.resolve("ca.pem"));
        version = SlapdServer.version();
    }

    @AfterAll
    static void cleanUp() {
        if (dir != null) {
            dir.close();
        }
    }

    private static SlapdServer slapd(SlapdServer.Tls tls) {
        // GnuTLS (Debian slapd) reads the traditional key form, not PKCS#8 for this key type.
        return SlapdServer.start(tls, pem.chain(), pem.traditionalPrivateKey(), ca);
    }

    private static StartTlsClient client(SecurityLevel level) {
        ClientTls tls = ClientTls.create(
                level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("localhost"),
                Protocol.LDAP.alpn(),
                TlsProfile.modern());
        return new StartTlsClient(Protocol.LDAP, ClientOptions.of(level), tls, TIMEOUTS);
    }

    /** Binds as the rootdn over {@code socket} and returns the BindResponse resultCode. */
    private static int bind(Socket socket, int id) throws IOException {
        socket.getOutputStream().write(LdapPdu.simpleBind(id, SlapdServer.ROOT_DN, SlapdServer.ROOT_PASSWORD));
        socket.getOutputStream().flush();
        LdapPdu.Message response = LdapPdu.read(socket.getInputStream());
        assertThat(response.messageId()).isEqualTo(id);
        assertThat(response.opTag()).as("BindResponse").isEqualTo(0x61);
        return response.resultCode();
    }

    @Test
    void verifyUpgradesAndTheSessionWorksOverTls() throws IOException {
        try (SlapdServer slapd = slapd(SlapdServer.Tls.OFFERED);
                ClientSession session = client(SecurityLevel.VERIFY).connect(Peers.LOOPBACK, slapd.port())) {
            assertThat(session.failure()).as(version + "\n" + slapd.log()).isEmpty();
            assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.verification().orElseThrow().valid()).isTrue();
            Socket socket = session.socket().orElseThrow();
            assertThat(socket).isInstanceOf(SSLSocket.class);
            assertThat(session.result().orElseThrow().ending()).isEqualTo(Result.Ending.UPGRADED);
            // RFC 4513 §5.1.3: a simple Bind over the protected session; messageID 2 follows StartTLS's 1.
            assertThat(bind(socket, 2)).as("Bind over TLS against " + version).isZero();
        }
    }

    @Test
    void mayUpgradesToo() throws IOException {
        try (SlapdServer slapd = slapd(SlapdServer.Tls.OFFERED);
                ClientSession session = client(SecurityLevel.MAY).connect(Peers.LOOPBACK, slapd.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.TLS);
            assertThat(bind(session.socket().orElseThrow(), 2)).isZero();
        }
    }

    @Test
    void aServerThatRequiresTlsRefusesPlaintextBindsButNotOurUpgrade() throws IOException {
        try (SlapdServer slapd = slapd(SlapdServer.Tls.REQUIRED)) {
            try (Socket plain = new Socket(Peers.LOOPBACK, slapd.port())) {
                plain.setSoTimeout(10_000);
                // security tls=1: confidentialityRequired (13) for a Bind in plaintext.
                assertThat(bind(plain, 1)).as(version + " plaintext Bind").isEqualTo(13);
            }
            try (ClientSession session = client(SecurityLevel.VERIFY).connect(Peers.LOOPBACK, slapd.port())) {
                assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.TLS);
                assertThat(bind(session.socket().orElseThrow(), 2)).isZero();
            }
        }
    }

    @Test
    void encryptFailsClosedAgainstASlapdWithoutTls() throws IOException {
        try (SlapdServer slapd = slapd(SlapdServer.Tls.NONE);
                ClientSession session = client(SecurityLevel.ENCRYPT).connect(Peers.LOOPBACK, slapd.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).isEmpty();
            var failure = session.failure().orElseThrow();
            assertThat(failure.blame()).isEqualTo(Blame.POLICY);
            assertThat(failure.kind()).isIn(FailureKind.STARTTLS_NOT_OFFERED, FailureKind.STARTTLS_REFUSED);
            assertThat(failure.detail())
                    .as(version)
                    .contains("protocolError (2)", "level ENCRYPT")
                    .doesNotContain("success");
        }
    }

    @Test
    void mayContinuesInPlaintextAgainstASlapdWithoutTls() throws IOException {
        try (SlapdServer slapd = slapd(SlapdServer.Tls.NONE);
                ClientSession session = client(SecurityLevel.MAY).connect(Peers.LOOPBACK, slapd.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.failure().orElseThrow().detail()).as(version).contains("StartTLS");
            // The session is at a clean PDU boundary: a Bind with messageID 2 works in plaintext.
            assertThat(bind(session.socket().orElseThrow(), 2)).isZero();
        }
    }

    /** Response injection over a real socket: the go-ahead and a forged BindResponse in one write. */
    @Test
    void bytesAfterTheSuccessResponseAbortTheUpgrade() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<byte[]> fake = CompletableFuture.supplyAsync(() -> {
                try (Socket s = listener.accept()) {
                    LdapPdu.Message request = LdapPdu.read(s.getInputStream());
                    byte[] success = LdapPdu.result(1, 0x78, 0, "");
                    byte[] forged = LdapPdu.result(2, 0x61, 0, "");
                    s.getOutputStream().write(concat(success, forged));
                    s.getOutputStream().flush();
                    s.getInputStream().readAllBytes();
                    return request.raw();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (ClientSession session = client(SecurityLevel.MAY).connect(Peers.LOOPBACK, listener.getLocalPort())) {
                assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
                assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
                assertThat(session.socket()).isEmpty();
            }
            assertThat(fake.get(10, TimeUnit.SECONDS)).isEqualTo(LdapPdu.startTls(1));
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
