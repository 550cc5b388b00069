package dev.optls.tls.blocking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.smtp.MailEnvelope;
import dev.optls.core.smtp.MailOutcome;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link MailTransactions} after a real STARTTLS on 127.0.0.1: optls's own SMTP server answers MAIL and RCPT through
 * the blocking server adapter and hands the connection over at DATA, where the test plays the server's part of the
 * data exchange by hand.
 */
class MailTransactionsTest {

    private static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));
    private static TestPki pki;
    private static Credential credential;

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        credential = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
    }

    /** What the server saw after its 354, and whether it was over TLS. */
    record Received(String data, boolean tls, String afterData) {}

    /** Serves one connection: STARTTLS, MAIL/RCPT answered, then DATA by hand with {@code endOfData} as the reply. */
    static CompletableFuture<Received> serveOnce(ServerSocket listener, String endOfData) {
        ServerOptions options = ServerOptions.offering("localhost", Capabilities.of("PIPELINING"))
                .withTlsCapabilities(Capabilities.of("SIZE 100000", "8BITMIME"));
        StartTlsServer server = new StartTlsServer(
                Protocol.SMTP,
                options,
                Optional.of(ServerTls.create(
                        credential.chain(), credential.privateKey(), Optional.empty(), TlsProfile.modern())),
                FAST);
        return CompletableFuture.supplyAsync(() -> {
            try (listener;
                    Socket accepted = listener.accept()) {
                ServerSession session = server.serve(accepted, c -> switch (c.verb()) {
                    case "MAIL" -> c.arguments().contains("SIZE=") ? "250 2.1.0 Ok" : "555 5.5.4 no SIZE";
                    case "RCPT" -> c.arguments().contains("nobody") ? "550 5.1.1 unknown" : "250 2.1.5 Ok";
                    case "DATA" -> CommandHandler.HAND_OVER;
                    default -> "502 5.5.1 not here";
                });
                Socket s = session.socket().orElseThrow();
                ByteBuffer rest = session.result().orElseThrow().remaining();
                assertThat(StandardCharsets.US_ASCII.decode(rest).toString()).isEqualTo("DATA\r\n");
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                out.write("354 go ahead\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String data = readUntil(in, "\r\n.\r\n");
                if (endOfData == null) {
                    // Never answer: the client's reply timeout must end it.
                    readUntil(in, "\u0000never");
                    return new Received(data, s instanceof SSLSocket, "");
                }
                out.write((endOfData + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String quit = readUntil(in, "\r\n");
                out.write("221 2.0.0 Bye\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return new Received(data, s instanceof SSLSocket, quit);
            } catch (IOException e) {
                return new Received("", false, "IOException " + e.getMessage());
            }
        });
    }

    static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        while (!buf.toString(StandardCharsets.ISO_8859_1).endsWith(end)) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            buf.write(b);
        }
        return buf.toString(StandardCharsets.ISO_8859_1);
    }

    static ClientSession connect(int port) {
        ClientTls tls = ClientTls.create(
                SecurityLevel.VERIFY,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.forProtocol(Protocol.SMTP, "localhost"),
                Optional.empty(),
                TlsProfile.modern());
        return new StartTlsClient(Protocol.SMTP, ClientOptions.of(SecurityLevel.VERIFY), tls, FAST)
                .connect("127.0.0.1", port);
    }

    @Test
    void deliversOverTlsWithPerRecipientResultsAndDotStuffing() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Received> server = serveOnce(listener, "250 2.0.0 Ok: queued as ABC");
        byte[] message = "Subject: t\r\n\r\n.hidden end\r\n.\r\nbye\r\n".getBytes(StandardCharsets.US_ASCII);

        ClientSession session = connect(listener.getLocalPort());
        assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
        MailTransactions.Attempt attempt = MailTransactions.send(
                session,
                MailEnvelope.of("reports@example.org", "rua@example.net", "nobody@example.net"),
                message,
                FAST);

        assertThat(attempt.failure()).isEmpty();
        MailOutcome.Delivered d = (MailOutcome.Delivered) attempt.outcome().orElseThrow();
        assertThat(d.accepted()).containsExactly("rua@example.net");
        assertThat(d.refused()).extracting(r -> r.reply().code()).containsExactly(550);
        assertThat(d.reply().text()).isEqualTo("2.0.0 Ok: queued as ABC");
        Received received = server.get(10, TimeUnit.SECONDS);
        assertThat(received.tls()).isTrue();
        assertThat(received.data()).isEqualTo("Subject: t\r\n\r\n..hidden end\r\n..\r\nbye\r\n.\r\n");
        assertThat(received.afterData()).isEqualTo("QUIT\r\n");
        assertThat(session.socket().orElseThrow().isClosed())
                .as("closed after QUIT")
                .isTrue();
    }

    @Test
    void refusalAtTheEndOfDataIsAnOutcome() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Received> server = serveOnce(listener, "451 4.3.0 try later");

        MailTransactions.Attempt attempt = MailTransactions.send(
                connect(listener.getLocalPort()),
                MailEnvelope.of("reports@example.org", "rua@example.net"),
                "Subject: t\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII),
                FAST);

        MailOutcome.Refused r = (MailOutcome.Refused) attempt.outcome().orElseThrow();
        assertThat(r.stage()).isEqualTo(MailOutcome.Stage.END_OF_DATA);
        assertThat(r.temporary()).isTrue();
        assertThat(server.get(10, TimeUnit.SECONDS).afterData()).isEqualTo("QUIT\r\n");
    }

    @Test
    void aServerThatNeverAnswersTheEndOfDataTimesOut() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Received> server = serveOnce(listener, null);
        long start = System.nanoTime();

        MailTransactions.Attempt attempt = MailTransactions.send(
                connect(listener.getLocalPort()),
                MailEnvelope.of("reports@example.org", "rua@example.net"),
                "Subject: t\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII),
                Duration.ofMillis(400),
                dev.optls.core.Limits.DEFAULT);

        assertThat(attempt.outcome()).isEmpty();
        assertThat(attempt.failure().orElseThrow().kind()).isEqualTo(FailureKind.TIMEOUT);
        assertThat(attempt.failure().orElseThrow().temporary()).isTrue();
        assertThat(attempt.failure().orElseThrow().detail()).contains("400 ms", "raise the reply timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        assertThat(server.get(10, TimeUnit.SECONDS).data()).endsWith("\r\n.\r\n");
    }

    @Test
    void aFailedSessionIsACallerBug() {
        ClientSession failed = new StartTlsClient(
                        Protocol.SMTP,
                        ClientOptions.of(SecurityLevel.NONE),
                        ClientTls.create(
                                SecurityLevel.MAY,
                                TrustAnchors.of(pki.trustStore()),
                                ReferenceIdentity.forProtocol(Protocol.SMTP, "localhost"),
                                Optional.empty(),
                                TlsProfile.modern()),
                        Timeouts.all(Duration.ofMillis(500)))
                .connect("127.0.0.1", 1);
        assertThat(failed.status()).isEqualTo(ClientSession.Status.FAILED);
        assertThat(failed.localAddress()).as("never connected").isEmpty();
        assertThatThrownBy(() -> MailTransactions.send(
                        failed, MailEnvelope.of("a@example.org", "b@example.net"), new byte[0], FAST))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FAILED");
    }
}
