package dev.optls.interop.nntp;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** OUR client against a real INN nnrpd, with STARTTLS (VERIFY, MAY) and without TLS (fails closed). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InnIT {
    private Peers.PeerDirectory dir;
    private TestPki pki;
    private InnServer withTls;
    private InnServer withoutTls;

    @BeforeAll
    void start() {
        dir = Peers.tempDir("inn-pki");
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        Credential.PemPaths paths = leaf.writePem(dir.path(), "localhost");
        withTls = InnServer.start(new Peers.PemFiles(paths.chain(), paths.privateKey()));
        withoutTls = InnServer.start(null);
    }

    @AfterAll
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {withTls, withoutTls, dir}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
    }

    private ClientSession connect(SecurityLevel level, int port) {
        ClientTls tls = ClientTls.create(
                level == SecurityLevel.NONE ? SecurityLevel.MAY : level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("localhost"),
                Protocol.NNTP.alpn(),
                TlsProfile.modern());
        return new StartTlsClient(Protocol.NNTP, ClientOptions.of(level), tls, Timeouts.all(Duration.ofSeconds(10)))
                .connect(Peers.LOOPBACK, port);
    }

    @Test
    void verifyUpgradesAndRereadsCapabilities() throws Exception {
        String version = InnServer.version();
        try (ClientSession session = connect(SecurityLevel.VERIFY, withTls.port())) {
            assertThat(session.failure()).as(version + ": " + session.failure()).isEmpty();
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.TLS);
            Result r = session.result().orElseThrow();
            assertThat(r.ending()).as(version).isEqualTo(Result.Ending.UPGRADED);
            assertThat(r.greeting()).as(version).contains("InterNetNews");
            assertThat(r.before().has("STARTTLS"))
                    .as(version + ": " + r.before())
                    .isTrue();
            assertThat(r.after().has("VERSION")).as(version + ": " + r.after()).isTrue();
            assertThat(r.after().has("STARTTLS")).as(version + ": " + r.after()).isFalse();
            assertThat(session.verification().orElseThrow().valid()).as(version).isTrue();
            System.out.println(
                    version + ": " + session.tls().orElseThrow() + " before=" + r.before() + " after=" + r.after());
        }
    }

    @Test
    void mayUpgradesToo() throws Exception {
        try (ClientSession session = connect(SecurityLevel.MAY, withTls.port())) {
            assertThat(session.status()).as(InnServer.version()).isEqualTo(ClientSession.Status.TLS);
        }
    }

    /**
     * nnrpd without a certificate still lists STARTTLS (obs. INN 2.7.1) and answers it with 580: a
     * required level must fail closed on the refusal, never continue in plaintext.
     */
    @Test
    void requiredTlsFailsClosedWhenStartTlsIsRefused() throws Exception {
        String version = InnServer.version();
        try (ClientSession session = connect(SecurityLevel.ENCRYPT, withoutTls.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).as(version).isEmpty();
            assertThat(session.failure().orElseThrow().kind()).as(version).isEqualTo(FailureKind.STARTTLS_REFUSED);
            assertThat(session.failure().orElseThrow().detail()).as(version).contains("580");
        }
    }

    @Test
    void mayContinuesInPlaintextWhenStartTlsIsRefused() throws Exception {
        String version = InnServer.version();
        try (ClientSession session = connect(SecurityLevel.MAY, withoutTls.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.socket()).as(version).isPresent();
            assertThat(session.failure().orElseThrow().kind()).as(version).isEqualTo(FailureKind.STARTTLS_REFUSED);
        }
    }
}
