package dev.optls.interop.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.blocking.ClientSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * optls's client against a real MariaDB with a certificate from the test CA and {@code
 * --require-secure-transport=ON}: the upgrade at VERIFY, ENCRYPT and MAY, then a real login over TLS with the
 * scramble of the plaintext greeting; the same login in plaintext is refused.
 */
class MariaDbRequiredTlsIT {
    private static TestPki pki;
    private static Peers.PeerDirectory caDir;
    private static MariaDbServer server;
    private static String version;

    @BeforeAll
    static void start() {
        pki = TestPki.create();
        Credential credential =
                pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        caDir = Peers.tempDir("mariadb-ca");
        server = MariaDbServer.start(MariaDbServer.Tls.REQUIRED, credential, pki.writeCaPem(caDir.resolve("ca.pem")));
        version = MariaDbServer.version();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (caDir != null) {
            caDir.close();
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"VERIFY", "MAY", "ENCRYPT"})
    void upgradesAndLogsInOverTls(SecurityLevel level) throws Exception {
        long acceptsBefore = server.status("Ssl_accepts");
        try (ClientSession session = OurClient.connect(level, pki, server.port())) {
            String why = version + " at " + level + ": " + session;
            assertThat(session.failure()).as(why).isEmpty();
            assertThat(session.status()).as(why).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.socket()).get().isInstanceOf(SSLSocket.class);
            if (level == SecurityLevel.VERIFY) {
                assertThat(session.verification().orElseThrow().valid()).as(why).isTrue();
            }
            var result = session.result().orElseThrow();
            assertThat(result.greeting()).as(why).contains("MariaDB");
            assertThat(result.before().has("CLIENT_SSL")).as(why).isTrue();

            // The application's part: HandshakeResponse41 (sequence 2) inside TLS, for a REQUIRE SSL user.
            MysqlWire.Packet answer = OurClient.login(session, MariaDbServer.TLS_USER, MariaDbServer.PASSWORD);
            assertThat(answer.isOk())
                    .as(why + ": " + (answer.isErr() ? answer.errText() : ""))
                    .isTrue();
            assertThat(answer.sequence()).isEqualTo(3);
        }
        // MariaDB counts TLS accepts (several per connection with its non-blocking accept loop).
        assertThat(server.status("Ssl_accepts")).as(version).isGreaterThan(acceptsBefore);
    }

    @Test
    void plaintextLoginIsRefusedWith3159() throws Exception {
        try (ClientSession session = OurClient.connect(SecurityLevel.NONE, pki, server.port())) {
            assertThat(session.status()).isEqualTo(ClientSession.Status.PLAINTEXT);
            MysqlWire.Packet answer = OurClient.login(session, MariaDbServer.USER, MariaDbServer.PASSWORD);
            assertThat(answer.isErr()).as(version).isTrue();
            // MySQL answers 3159 (protocols.md §11.2, and what our server sends); MariaDB 10.11 answers a
            // plaintext login under require_secure_transport with a plain 1045 "Access denied" (observed).
            assertThat(answer.errText())
                    .as(version)
                    .matches("(3159 Connections using insecure transport are prohibited.*|1045 Access denied for user"
                            + " 'optls'@'127.0.0.1'.*)");
        }
    }
}
