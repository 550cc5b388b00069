package dev.optls.interop.nntp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Command;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.interop.peers.OpenSsl;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code openssl s_client -starttls nntp} against OUR NNTP server (StartTlsServer with a tiny responder),
 * and the CVE-2011-0411 injection both ways over real loopback sockets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OurNntpServerIT {
    private static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));
    private static final ServerOptions OPTIONS = ServerOptions.offering("localhost", Capabilities.of("READER"))
            .withTlsCapabilities(Capabilities.of("READER", "AUTHINFO USER"));

    private Peers.PeerDirectory dir;
    private TestPki pki;
    private Credential leaf;
    private Path caFile;
    private final List<Command> seen = new CopyOnWriteArrayList<>();

    @BeforeAll
    void pki() {
        dir = Peers.tempDir("nntp-pki");
        pki = TestPki.create();
        leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        caFile = pki.writeCaPem(dir.resolve("ca.pem"));
    }

    @AfterAll
    void cleanUp() {
        if (dir != null) {
            dir.close();
        }
    }

    /** Serves one connection on a fresh loopback listener; the responder records what it was asked. */
    private CompletableFuture<ServerSession> serveOnce(ServerSocket listener) {
        StartTlsServer server = new StartTlsServer(
                Protocol.NNTP,
                OPTIONS,
                Optional.of(
                        ServerTls.create(leaf.chain(), leaf.privateKey(), Protocol.NNTP.alpn(), TlsProfile.modern())),
                TIMEOUTS);
        return CompletableFuture.supplyAsync(() -> {
            try (Socket accepted = listener.accept()) {
                return server.serve(accepted, c -> {
                    seen.add(c);
                    return c.verb().equals("MODE") ? "200 Reader mode, posting permitted" : "502 not in test";
                });
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void opensslStartTlsNntpVerifiesAndQuits() throws Exception {
        Peers.requireCommand("openssl", "openssl");
        String version = OpenSsl.version();
        seen.clear();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<ServerSession> served = serveOnce(listener);
            Peers.CommandResult run = Peers.run(
                    Duration.ofSeconds(20),
                    "MODE READER\r\nQUIT\r\n",
                    List.of(
                            "openssl",
                            "s_client",
                            "-starttls",
                            "nntp",
                            "-connect",
                            Peers.LOOPBACK + ":" + listener.getLocalPort(),
                            "-CAfile",
                            caFile.toString(),
                            "-verify_return_error",
                            "-verify_hostname",
                            "localhost",
                            "-crlf",
                            "-ign_eof",
                            "-brief"));
            System.out.println(version + ": " + run.output());
            assertThat(run.exitCode()).as(version + ": " + run.output()).isZero();
            assertThat(run.output()).as(version).contains("Verification: OK");
            assertThat(run.output()).as(version).contains("200 Reader mode", "205 ");
            ServerSession session = served.get(20, TimeUnit.SECONDS);
            assertThat(session.failure()).as(version + ": " + session).isEmpty();
            assertThat(session.tls()).as(version).isPresent();
            // The command s_client relayed came over TLS, and it was the only one the application saw.
            assertThat(seen).as(version).singleElement().satisfies(c -> {
                assertThat(c.verb()).isEqualTo("MODE");
                assertThat(c.tlsActive()).isTrue();
            });
        }
    }

    /** CVE-2011-0411: CAPABILITIES pipelined after STARTTLS in one write goes to TLS, never answered. */
    @Test
    void serverNeverAnswersCommandsInjectedWithStartTls() throws Exception {
        seen.clear();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<ServerSession> served = serveOnce(listener);
            try (Socket raw = new Socket(Peers.LOOPBACK, listener.getLocalPort())) {
                raw.setSoTimeout(5000);
                InputStream in = raw.getInputStream();
                assertThat(readLine(in)).startsWith("200 ");
                OutputStream out = raw.getOutputStream();
                out.write("STARTTLS\r\nCAPABILITIES\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertThat(readLine(in)).startsWith("382 ");
                Thread.sleep(300);
                byte[] after = in.readNBytes(in.available());
                if (after.length > 0) {
                    // Only a TLS alert record may follow, never a plaintext 101 capability list.
                    assertThat(after[0]).as("a TLS alert record, not plaintext").isEqualTo((byte) 21);
                }
                SSLSocket tls =
                        (SSLSocket) pki.clientContext().getSocketFactory().createSocket(raw, "localhost", 0, true);
                tls.setSoTimeout(5000);
                assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
            }
            ServerSession session = served.get(20, TimeUnit.SECONDS);
            assertThat(seen).as("the injected command reached the application").isEmpty();
            assertThat(session.tls()).isEmpty();
            assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED);
        }
    }

    /** Response injection: a forged capability line right after the 382 go-ahead, in the same write. */
    @Test
    void ourClientRejectsBytesAfterTheGoAhead() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<String> attacker = CompletableFuture.supplyAsync(() -> {
                try (Socket s = fake.accept()) {
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    out.write("200 evil ready\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    String caps = readLine(in);
                    out.write("101 Capability list:\r\nVERSION 2\r\nSTARTTLS\r\n.\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    String upgrade = readLine(in);
                    out.write("382 go\r\n101 x\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    byte[] rest = in.readNBytes(64);
                    return caps + "|" + upgrade + "|after:" + new String(rest, StandardCharsets.ISO_8859_1);
                } catch (IOException e) {
                    return "io: " + e;
                }
            });
            ClientTls tls = ClientTls.create(
                    SecurityLevel.VERIFY,
                    TrustAnchors.of(pki.trustStore()),
                    ReferenceIdentity.of("localhost"),
                    Protocol.NNTP.alpn(),
                    TlsProfile.modern());
            StartTlsClient client =
                    new StartTlsClient(Protocol.NNTP, ClientOptions.of(SecurityLevel.VERIFY), tls, TIMEOUTS);
            try (ClientSession session = client.connect(Peers.LOOPBACK, fake.getLocalPort())) {
                assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
                assertThat(session.socket()).isEmpty();
                assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
            }
            // The client sent STARTTLS, then nothing: no ClientHello, no plaintext command.
            assertThat(attacker.get(10, TimeUnit.SECONDS)).isEqualTo("CAPABILITIES|STARTTLS|after:");
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("end of input after: " + line.toString(StandardCharsets.UTF_8));
            }
            line.write(b);
        }
        String s = line.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
