package dev.optls.interop.irc;

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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** OUR IRC client against a real InspIRCd 3 with the ssl_gnutls and starttls modules, and without them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OurClientAgainstInspircdIT {
    private TestPki pki;
    private InspircdServer withTls;
    private InspircdServer withoutTls;
    private String version;

    @BeforeAll
    void start() {
        Peers.requireCommand("inspircd", "inspircd");
        version = InspircdServer.version();
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        withTls = new InspircdServer(leaf, true);
        withoutTls = new InspircdServer(leaf, false);
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

    private StartTlsClient client(SecurityLevel level) {
        ClientTls tls = ClientTls.create(
                level == SecurityLevel.NONE ? SecurityLevel.MAY : level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("localhost"),
                Protocol.IRC.alpn(),
                TlsProfile.modern());
        return new StartTlsClient(Protocol.IRC, ClientOptions.of(level), tls, Timeouts.all(Duration.ofSeconds(10)));
    }

    @Test
    void upgradesAtVerifyAndRegistersOverTls() throws Exception {
        try (ClientSession session = client(SecurityLevel.VERIFY).connect(Peers.LOOPBACK, withTls.port())) {
            assertThat(session.failure()).as(version).isEmpty();
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.verification().orElseThrow().valid()).as(version).isTrue();
            Result result = session.result().orElseThrow();
            assertThat(result.before().entries()).as(version).contains("tls");
            assertThat(result.after().entries()).as(version).doesNotContain("tls");
            // Registration is the application's job, over TLS: InspIRCd welcomes us with 001.
            Socket tls = session.socket().orElseThrow();
            tls.setSoTimeout(10_000);
            OutputStream out = tls.getOutputStream();
            out.write("CAP END\r\nNICK optls\r\nUSER optls 0 * :optls\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String line;
            InputStream in = tls.getInputStream();
            do {
                line = readLine(in);
            } while (!line.contains(" 001 ") && !line.startsWith("ERROR"));
            assertThat(line).as(version).startsWith(":" + InspircdServer.NAME + " 001 optls ");
        }
    }

    @Test
    void upgradesAtMay() {
        try (ClientSession session = client(SecurityLevel.MAY).connect(Peers.LOOPBACK, withTls.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.TLS);
            assertThat(session.tls().orElseThrow().protocolVersion())
                    .as(version)
                    .startsWith("TLSv1.");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void requiredLevelFailsClosedWithoutStarttls() throws IOException {
        try (ClientSession session = client(SecurityLevel.ENCRYPT).connect(Peers.LOOPBACK, withoutTls.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).isEmpty();
            assertThat(session.failure().orElseThrow().kind()).as(version).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        }
    }

    @Test
    void mayFallsBackToPlaintextWithoutStarttls() throws IOException {
        try (ClientSession session = client(SecurityLevel.MAY).connect(Peers.LOOPBACK, withoutTls.port())) {
            assertThat(session.status()).as(version).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.failure().orElseThrow().kind()).as(version).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("end of input after: " + line.toString(StandardCharsets.UTF_8));
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
