package dev.optls.tls.blocking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * {@link StartTlsClient#withHandshakeCheck}: the check sees the completed handshake before any byte goes over TLS; a
 * failure it returns closes the connection with nothing sent (what DANE needs, RFC 7672 §3), and the session reports
 * the failure and the peer chain. Against a minimal SMTP server that records what arrives over TLS.
 */
class HandshakeCheckTest {

    private static final TestPki PKI = TestPki.create();
    private static final Credential LOCALHOST = PKI.issue("localhost");
    private static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));

    /** Greets, offers STARTTLS, upgrades, and returns everything the client sent over TLS until it closed. */
    private static CompletableFuture<String> serveOnce(ServerSocket listener) {
        return CompletableFuture.supplyAsync(() -> {
            try (listener;
                    Socket plain = listener.accept()) {
                plain.setSoTimeout(5000);
                OutputStream out = plain.getOutputStream();
                InputStream in = plain.getInputStream();
                out.write("220 localhost ESMTP test\r\n".getBytes(StandardCharsets.US_ASCII));
                readLine(in);
                out.write("250-localhost\r\n250 STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
                readLine(in);
                out.write("220 go ahead\r\n".getBytes(StandardCharsets.US_ASCII));
                SSLSocket tls =
                        (SSLSocket) LOCALHOST.serverContext().getSocketFactory().createSocket(plain, in, true);
                tls.setUseClientMode(false);
                tls.startHandshake();
                ByteArrayOutputStream received = new ByteArrayOutputStream();
                InputStream tlsIn = tls.getInputStream();
                byte[] buffer = new byte[256];
                try {
                    for (int n = tlsIn.read(buffer); n > 0 && received.size() < 4096; n = tlsIn.read(buffer)) {
                        received.write(buffer, 0, n);
                        if (received.toString(StandardCharsets.US_ASCII).endsWith("\r\n")) {
                            tls.getOutputStream().write("250 localhost\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                } catch (IOException closed) {
                    // The client closed the connection: everything it sent is in 'received'.
                }
                return received.toString(StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
            line.append((char) c);
        }
        return line.toString();
    }

    private static StartTlsClient client() {
        ClientTls tls = ClientTls.create(
                SecurityLevel.ENCRYPT,
                TrustAnchors.of(PKI.trustStore()),
                ReferenceIdentity.of("localhost"),
                Optional.empty(),
                TlsProfile.modern());
        return new StartTlsClient(Protocol.SMTP, ClientOptions.of(SecurityLevel.ENCRYPT), tls, FAST);
    }

    @Test
    void aVetoClosesTheConnectionBeforeAnyByteOverTls() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<String> server = serveOnce(listener);
        AtomicReference<Integer> seenChain = new AtomicReference<>();
        ClientSession session = client().withHandshakeCheck(connection -> {
                    seenChain.set(connection.peerChain().size());
                    return Optional.of(
                            Failure.peer(FailureKind.CERTIFICATE_INVALID, Phase.HANDSHAKE, "no TLSA record matches"));
                })
                .connect("127.0.0.1", listener.getLocalPort());
        assertThat(seenChain.get()).isEqualTo(1);
        assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
        assertThat(session.socket()).isEmpty();
        assertThat(session.failure()).get().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(FailureKind.CERTIFICATE_INVALID);
            assertThat(f.detail()).isEqualTo("no TLSA record matches");
        });
        assertThat(session.tls()).isPresent();
        assertThat(session.peerChain()).hasSize(1);
        // The connection's own address stays known after it was closed (TLS-RPT's sending-mta-ip).
        assertThat(session.localAddress())
                .get()
                .satisfies(a -> assertThat(a.getAddress().getHostAddress()).isEqualTo("127.0.0.1"));
        assertThat(session.result())
                .get()
                .satisfies(r -> assertThat(r.greeting()).contains("localhost"));
        assertThat(server.get(10, TimeUnit.SECONDS))
                .as("bytes received over TLS")
                .isEmpty();
    }

    @Test
    void anAcceptingCheckLetsTheSessionGoOn() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<String> server = serveOnce(listener);
        ClientSession session = client().withHandshakeCheck(StartTlsClient.HandshakeCheck.NONE)
                .connect("127.0.0.1", listener.getLocalPort());
        assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
        session.close();
        assertThat(server.get(10, TimeUnit.SECONDS)).isEqualTo("EHLO localhost\r\n");
    }
}
