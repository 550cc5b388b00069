package dev.optls.interop.sieve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.FailureKind;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.tls.blocking.ClientSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Our ManageSieve client against Dovecot's managesieve-login (Pigeonhole) with {@code ssl = yes}, {@code ssl
 * = required} and {@code ssl = no}. Connections come from {@link Peers#OTHER_LOOPBACK}: Dovecot treats
 * 127.0.0.1 → 127.0.0.1 as secured and would list SASL mechanisms before TLS even when TLS is required.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DovecotManageSieveIT {
    private SieveInterop.Pki pki;
    private ManageSieveDovecot optional;
    private ManageSieveDovecot required;
    private ManageSieveDovecot plain;
    private String version;

    @BeforeAll
    void start() {
        pki = new SieveInterop.Pki();
        optional = ManageSieveDovecot.start(PeerTls.OPTIONAL, pki.pem());
        required = ManageSieveDovecot.start(PeerTls.REQUIRED, pki.pem());
        plain = ManageSieveDovecot.start(PeerTls.NONE, null);
        version = ManageSieveDovecot.version();
        System.out.println("DovecotManageSieveIT against " + version);
    }

    @AfterAll
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {optional, required, plain, pki}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("closing " + c + ": " + e);
            }
        }
    }

    @Test
    void verifyUpgradesThenAuthenticatesOverTls() throws Exception {
        try (ClientSession session = SieveInterop.negotiate(
                SieveInterop.client(SecurityLevel.VERIFY, pki.trust()), Peers.OTHER_LOOPBACK, optional.port())) {
            Result r = upgraded(session, "ssl=yes");
            // ssl = yes with disable_plaintext_auth = no: the same mechanisms before and after TLS.
            assertThat(r.before().find("SASL")).as(version).hasValue("SASL PLAIN LOGIN");
            assertThat(r.after().find("SASL")).as(version).hasValue("SASL PLAIN LOGIN");
            assertThat(r.after().find("IMPLEMENTATION"))
                    .as(version)
                    .get()
                    .asString()
                    .startsWith("IMPLEMENTATION Dovecot")
                    .endsWith("Pigeonhole");
            assertThat(r.after().has("VERSION")).as(version).isTrue();
            SieveInterop.Lines lines = new SieveInterop.Lines(session.socket().orElseThrow());
            assertThat(lines.send(SieveInterop.authenticatePlain(ManageSieveDovecot.USER, ManageSieveDovecot.PASSWORD))
                            .readResponse())
                    .as(version)
                    .last()
                    .asString()
                    .startsWith("OK");
            assertThat(lines.send("LISTSCRIPTS").readResponse())
                    .last()
                    .asString()
                    .startsWith("OK");
            assertThat(lines.send("LOGOUT").readResponse()).last().asString().startsWith("OK");
        }
    }

    @Test
    void mayUpgradesToo() throws Exception {
        try (ClientSession session = SieveInterop.negotiate(
                SieveInterop.client(SecurityLevel.MAY, pki.trust()), Peers.OTHER_LOOPBACK, optional.port())) {
            upgraded(session, "ssl=yes, level MAY");
        }
    }

    @Test
    void requiredTlsHidesMechanismsUntilTls() throws Exception {
        try (ClientSession session = SieveInterop.negotiate(
                SieveInterop.client(SecurityLevel.VERIFY, pki.trust()), Peers.OTHER_LOOPBACK, required.port())) {
            Result r = upgraded(session, "ssl=required");
            // LOGINDISABLED-like: "SASL" "" before TLS, the mechanisms after it (RFC 5804 §2.2 re-issued list).
            assertThat(r.before().find("SASL"))
                    .as(version + " before: " + r.before())
                    .hasValue("SASL");
            assertThat(r.after().find("SASL"))
                    .as(version + " after: " + r.after())
                    .hasValue("SASL PLAIN LOGIN");
            SieveInterop.Lines lines = new SieveInterop.Lines(session.socket().orElseThrow());
            assertThat(lines.send(SieveInterop.authenticatePlain(ManageSieveDovecot.USER, ManageSieveDovecot.PASSWORD))
                            .readResponse())
                    .last()
                    .asString()
                    .startsWith("OK");
            lines.send("LOGOUT").readResponse();
        }
    }

    @Test
    void requiredLevelFailsClosedWithoutTls() throws Exception {
        try (ClientSession session = SieveInterop.negotiate(
                SieveInterop.client(SecurityLevel.ENCRYPT, pki.trust()), Peers.OTHER_LOOPBACK, plain.port())) {
            System.out.println(version + " ssl=no at ENCRYPT: " + session);
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).isEmpty();
            assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(session.failure().orElseThrow().blame()).isEqualTo(Blame.POLICY);
        }
    }

    @Test
    void mayContinuesInPlaintextWithoutTls() throws Exception {
        try (ClientSession session = SieveInterop.negotiate(
                SieveInterop.client(SecurityLevel.MAY, pki.trust()), Peers.OTHER_LOOPBACK, plain.port())) {
            System.out.println(version + " ssl=no at MAY: " + session);
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.socket()).get().isNotInstanceOf(SSLSocket.class);
            SieveInterop.Lines lines = new SieveInterop.Lines(session.socket().orElseThrow());
            assertThat(lines.send(SieveInterop.authenticatePlain(ManageSieveDovecot.USER, ManageSieveDovecot.PASSWORD))
                            .readResponse())
                    .as(version)
                    .last()
                    .asString()
                    .startsWith("OK");
            lines.send("LOGOUT").readResponse();
        }
    }

    private Result upgraded(ClientSession session, String mode) {
        System.out.println(version + " " + mode + ": " + session);
        assertThat(session.status()).as(version + " " + mode + ": " + session).isEqualTo(ClientSession.Status.TLS);
        assertThat(session.socket()).get().isInstanceOf(SSLSocket.class);
        assertThat(session.verification().orElseThrow().valid()).isTrue();
        Result r = session.result().orElseThrow();
        assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(r.before().has("STARTTLS"))
                .as(version + " before: " + r.before())
                .isTrue();
        assertThat(r.after().has("STARTTLS"))
                .as(version + " after: " + r.after())
                .isFalse();
        return r;
    }
}
