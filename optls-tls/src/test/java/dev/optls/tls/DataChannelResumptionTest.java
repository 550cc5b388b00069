package dev.optls.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.SecurityLevel;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A data connection layered with {@link ClientTls#layerDataChannel} resumes the control connection's TLS
 * session (protocols.md §8.3), which a layered SSLSocket would not: JSSE keys its client cache by the
 * socket's peer port.
 */
class DataChannelResumptionTest {
    private static final TestPki PKI = TestPki.create();
    private static final Credential FTP = PKI.issue("ftp.example");
    private static final int TIMEOUT = 10_000;

    record ServerSide(boolean resumed, String dataProtocol) {}

    private static ServerSide run(TlsProfile profile, ClientTls client, boolean useEngine, StringBuilder clientSide)
            throws Exception {
        ServerTls server = ServerTls.create(FTP.chain(), FTP.privateKey(), Optional.of("ftp"), profile);
        try (ServerSocket controlListener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ServerSocket dataListener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<ServerSide> served = CompletableFuture.supplyAsync(() -> {
                try (Socket c = controlListener.accept()) {
                    TlsConnection control = server.layer(c, ByteBuffer.allocate(0), TIMEOUT);
                    // One round trip over TLS: the client reads the TLS 1.3 NewSessionTicket on the way.
                    control.socket().getOutputStream().write('x');
                    control.socket().getOutputStream().flush();
                    try (Socket d = dataListener.accept()) {
                        TlsConnection data = server.layer(d, ByteBuffer.allocate(0), TIMEOUT);
                        data.socket().getOutputStream().write("listing".getBytes(StandardCharsets.US_ASCII));
                        data.socket().close();
                        // JSSE keeps the creation time of the session a TLS 1.3 PSK resumes (new id, same time).
                        ServerSide s = new ServerSide(
                                control.socket().getSession().getCreationTime()
                                        == data.socket().getSession().getCreationTime(),
                                data.protocolVersion());
                        control.socket().getInputStream().read();
                        return s;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Socket plain = new Socket(InetAddress.getLoopbackAddress(), controlListener.getLocalPort());
            TlsConnection control = client.layer(plain, "localhost", controlListener.getLocalPort(), TIMEOUT);
            assertThat(control.socket().getInputStream().read()).isEqualTo('x');
            Socket dataPlain = new Socket(InetAddress.getLoopbackAddress(), dataListener.getLocalPort());
            if (useEngine) {
                try (TlsDataChannel data = client.layerDataChannel(control, dataPlain, TIMEOUT)) {
                    InputStream in = data.input();
                    clientSide.append(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
                    clientSide.append(" resumed=").append(data.resumed());
                    clientSide.append(" closeNotify=").append(data.closeNotifyReceived());
                }
            } else {
                TlsConnection data = client.layer(dataPlain, "localhost", controlListener.getLocalPort(), TIMEOUT);
                clientSide.append(new String(data.socket().getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
                data.socket().close();
            }
            control.socket().getOutputStream().write('y');
            control.socket().getOutputStream().flush();
            ServerSide s = served.get(20, TimeUnit.SECONDS);
            control.socket().close();
            return s;
        }
    }

    private static ClientTls client(TlsProfile profile) {
        return ClientTls.create(
                SecurityLevel.VERIFY,
                TrustAnchors.of(PKI.trustStore()),
                ReferenceIdentity.of("ftp.example"),
                Optional.of("ftp"),
                profile);
    }

    @Test
    void engineResumesTheControlSessionAtTls13() throws Exception {
        StringBuilder clientSide = new StringBuilder();
        ServerSide s = run(TlsProfile.modern(), client(TlsProfile.modern()), true, clientSide);
        assertThat(clientSide).hasToString("listing resumed=true closeNotify=true");
        assertThat(s.resumed())
                .as("the server chose no certificate: PSK resumption")
                .isTrue();
        assertThat(s.dataProtocol()).isEqualTo("TLSv1.3");
    }

    @Test
    void layeredSocketDoesNotResume() throws Exception {
        StringBuilder clientSide = new StringBuilder();
        ServerSide s = run(TlsProfile.modern(), client(TlsProfile.modern()), false, clientSide);
        assertThat(clientSide).hasToString("listing");
        // JSSE looked the session up under the data socket's port: a full handshake.
        assertThat(s.resumed()).isFalse();
    }
}
