package dev.optls.interop.xmpp;

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
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * OUR XMPP client (c2s, s2s, direct TLS) against a real Prosody 0.12 with STARTTLS required, and against one
 * without TLS. The certificate has no DNS-ID: only SRV-IDs and an XmppAddr (RFC 6120 §13.7.1.2), so a pass
 * at VERIFY shows the XMPP name rules at work.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OurClientAgainstProsodyIT {
    private TestPki pki;
    private ProsodyServer withTls;
    private ProsodyServer withoutTls;
    private String version;

    @BeforeAll
    void start() {
        Peers.requireCommand("prosody", "prosody");
        version = ProsodyServer.version();
        pki = TestPki.create();
        Credential leaf = pki.leaf()
                .commonName("optls xmpp test")
                .srvNames("_xmpp-client." + ProsodyServer.DOMAIN, "_xmpp-server." + ProsodyServer.DOMAIN)
                .xmppAddrs(ProsodyServer.DOMAIN)
                .issue();
        withTls = new ProsodyServer(leaf);
        withoutTls = new ProsodyServer(null);
    }

    @AfterAll
    void stop() {
        if (withTls != null) {
            withTls.close();
        }
        if (withoutTls != null) {
            withoutTls.close();
        }
    }

    private StartTlsClient client(Protocol protocol, SecurityLevel level, ReferenceIdentity identity, String to) {
        ClientTls tls = ClientTls.create(
                level == SecurityLevel.NONE ? SecurityLevel.MAY : level,
                TrustAnchors.of(pki.trustStore()),
                identity,
                protocol.alpn(),
                TlsProfile.modern());
        ClientOptions options = ClientOptions.of(level).withServiceDomain(to).withHelloName("client.test");
        return new StartTlsClient(protocol, options, tls, Timeouts.all(Duration.ofSeconds(10)));
    }

    private StartTlsClient client(Protocol protocol, SecurityLevel level) {
        return client(
                protocol, level, ReferenceIdentity.forProtocol(protocol, ProsodyServer.DOMAIN), ProsodyServer.DOMAIN);
    }

    @Test
    void c2sUpgradesAtVerifyWithAnSrvIdCertificate() throws IOException {
        try (ClientSession session =
                client(Protocol.XMPP, SecurityLevel.VERIFY).connect(Peers.LOOPBACK, withTls.c2sPort())) {
            assertThat(session.failure()).as(version).isEmpty();
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.verification().orElseThrow().valid()).as(version).isTrue();
            Result result = session.result().orElseThrow();
            // Prosody requires TLS before SASL: only <starttls><required/> before, SASL mechanisms after.
            assertThat(result.before().entries()).as(version).contains("starttls required");
            assertThat(result.after().has("mechanisms"))
                    .as(version + " " + result.after())
                    .isTrue();
            assertThat(result.after().has("starttls")).as(version).isFalse();
        }
    }

    @Test
    void aPlainDnsIdentityDoesNotAcceptTheSrvIdCertificate() throws IOException {
        try (ClientSession session = client(
                        Protocol.XMPP,
                        SecurityLevel.VERIFY,
                        ReferenceIdentity.of(ProsodyServer.DOMAIN),
                        ProsodyServer.DOMAIN)
                .connect(Peers.LOOPBACK, withTls.c2sPort())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.failure().orElseThrow().kind()).as(version).isEqualTo(FailureKind.CERTIFICATE_INVALID);
        }
    }

    @Test
    void c2sUpgradesAtMay() throws IOException {
        try (ClientSession session =
                client(Protocol.XMPP, SecurityLevel.MAY).connect(Peers.LOOPBACK, withTls.c2sPort())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.tls().orElseThrow().protocolVersion())
                    .as(version)
                    .startsWith("TLSv1.");
        }
    }

    @Test
    void s2sUpgradesAtVerify() throws IOException {
        try (ClientSession session =
                client(Protocol.XMPP_SERVER, SecurityLevel.VERIFY).connect(Peers.LOOPBACK, withTls.s2sPort())) {
            assertThat(session.failure()).as(version).isEmpty();
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.verification().orElseThrow().valid()).as(version).isTrue();
            Result result = session.result().orElseThrow();
            assertThat(result.before().has("starttls")).as(version).isTrue();
            assertThat(result.after().has("starttls")).as(version).isFalse();
            assertThat(result.after().entries())
                    .as(version + " " + result.after())
                    .isNotEmpty();
        }
    }

    @Test
    void directTlsReadsTheFeatures() throws IOException {
        ClientTls tls = ClientTls.create(
                SecurityLevel.VERIFY,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.forProtocol(Protocol.XMPP, ProsodyServer.DOMAIN),
                Protocol.XMPP.alpn(),
                TlsProfile.modern());
        ClientOptions options = ClientOptions.of(SecurityLevel.VERIFY)
                .withServiceDomain(ProsodyServer.DOMAIN)
                .withImplicitTls(true);
        try (ClientSession session = new StartTlsClient(
                        Protocol.XMPP, options, tls, Timeouts.all(Duration.ofSeconds(10)))
                .connect(Peers.LOOPBACK, withTls.directTlsPort())) {
            assertThat(session.failure()).as(version).isEmpty();
            Result result = session.result().orElseThrow();
            assertThat(result.ending()).as(version).isEqualTo(Result.Ending.IMPLICIT_TLS);
            assertThat(result.after().has("mechanisms"))
                    .as(version + " " + result.after())
                    .isTrue();
        }
    }

    @Test
    void aDomainProsodyDoesNotServeIsHostUnknown() throws IOException {
        try (ClientSession session = client(
                        Protocol.XMPP,
                        SecurityLevel.MAY,
                        ReferenceIdentity.forProtocol(Protocol.XMPP, "other.test"),
                        "other.test")
                .connect(Peers.LOOPBACK, withTls.c2sPort())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.failure().orElseThrow().detail()).as(version).contains("<host-unknown/>");
        }
    }

    @Test
    void requiredLevelFailsClosedWithoutTls() throws IOException {
        for (Protocol protocol : new Protocol[] {Protocol.XMPP, Protocol.XMPP_SERVER}) {
            int port = protocol == Protocol.XMPP ? withoutTls.c2sPort() : withoutTls.s2sPort();
            try (ClientSession session = client(protocol, SecurityLevel.ENCRYPT).connect(Peers.LOOPBACK, port)) {
                assertThat(session.status()).as(version + " " + protocol).isEqualTo(ClientSession.Status.FAILED);
                assertThat(session.socket()).isEmpty();
                assertThat(session.failure().orElseThrow().kind())
                        .as(version + " " + protocol)
                        .isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            }
        }
    }

    @Test
    void mayFallsBackToPlaintextWithoutTls() throws IOException {
        try (ClientSession session =
                client(Protocol.XMPP, SecurityLevel.MAY).connect(Peers.LOOPBACK, withoutTls.c2sPort())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.failure().orElseThrow().kind()).as(version).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            // Prosody without TLS still offers SASL in plaintext (c2s_require_encryption = false).
            assertThat(session.result().orElseThrow().before().has("mechanisms"))
                    .as(version)
                    .isTrue();
        }
    }
}
