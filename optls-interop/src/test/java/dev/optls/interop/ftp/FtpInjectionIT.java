package dev.optls.interop.ftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.FailureKind;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.ftp.FtpServerPolicy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * security.md §5 #9 and #47 for FTP over real loopback sockets, the attack in one write: our server never
 * answers a USER pipelined after AUTH TLS (CVE-2011-1575), and our client refuses plaintext after 234.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FtpInjectionIT {
    private TestPki pki;
    private OurFtpServer server;

    @BeforeAll
    void start() {
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        server = new OurFtpServer(leaf, FtpServerPolicy.SECURE, false);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void ourServerHandsUserPipelinedAfterAuthTlsToTlsUnparsed() throws Exception {
        try (Socket raw = new Socket(InetAddress.getByName(Peers.LOOPBACK), server.port())) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            assertThat(readLine(in)).isEqualTo("220 localhost ready");
            out.write("AUTH TLS\r\nUSER x\r\n".getBytes(StandardCharsets.US_ASCII)); // one write
            out.flush();
            assertThat(readLine(in)).isEqualTo("234 AUTH TLS successful");
            Thread.sleep(300);
            byte[] after = in.readNBytes(in.available());
            if (after.length > 0) {
                // "USER x\r\n" was fed to TLS as a ClientHello: the answer is a TLS alert record, never 331.
                assertThat(after[0]).as("a TLS alert record, not an FTP reply").isEqualTo((byte) 21);
            }
            SSLSocket tls = (SSLSocket)
                    pki.clientContext().getSocketFactory().createSocket(raw, "localhost", server.port(), true);
            tls.setSoTimeout(5000);
            assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
        }
        ServerSession s = server.next();
        assertThat(s.failure()).isPresent();
        assertThat(s.failure().orElseThrow().kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED);
        assertThat(server.data()).isEmpty();
    }

    @Test
    void ourClientRefusesALoginReplyInjectedAfter234() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<String> script = CompletableFuture.supplyAsync(() -> {
                try (Socket s = fake.accept()) {
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    out.write("220 fake ready\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    String feat = readLine(in);
                    out.write("211-Features:\r\n AUTH TLS\r\n211 End\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    String auth = readLine(in);
                    // The go-ahead and a forged login success in one write.
                    out.write("234 Proceed\r\n230 Login successful.\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    byte[] rest = in.readAllBytes();
                    return feat + "|" + auth + "|" + rest.length;
                } catch (IOException e) {
                    return "io: " + e;
                }
            });
            try (ClientSession session = OurFtpClient.connect(
                    OurFtpClient.tls(pki, SecurityLevel.VERIFY), SecurityLevel.VERIFY, fake.getLocalPort(), false)) {
                assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
                assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
            }
            // The client sent FEAT and AUTH TLS, then closed without a ClientHello or any further command.
            assertThat(script.get(10, TimeUnit.SECONDS)).isEqualTo("FEAT|AUTH TLS|0");
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
