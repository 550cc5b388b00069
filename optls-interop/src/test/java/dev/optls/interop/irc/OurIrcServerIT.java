package dev.optls.interop.irc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.OpenSsl;
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
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code openssl s_client -starttls irc} against OUR IRC server ({@link IrcResponder}), our client against
 * it, and the CVE-2011-0411 injection both ways over real sockets, the attack in one write.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OurIrcServerIT {
    private final Peers.PeerDirectory dir = Peers.tempDir("irc-pki");
    private TestPki pki;
    private Path caFile;
    private IrcResponder responder;

    @BeforeAll
    void start() throws IOException {
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        caFile = pki.writeCaPem(dir.resolve("ca.pem"));
        responder = new IrcResponder(leaf);
    }

    @AfterAll
    void stop() {
        if (responder != null) {
            responder.close();
        }
        dir.close();
    }

    private StartTlsClient client(SecurityLevel level) {
        ClientTls tls = ClientTls.create(
                level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("localhost"),
                Protocol.IRC.alpn(),
                TlsProfile.modern());
        return new StartTlsClient(Protocol.IRC, ClientOptions.of(level), tls, Timeouts.all(Duration.ofSeconds(10)));
    }

    @Test
    void opensslStartTlsIrcVerifies() throws Exception {
        Peers.requireCommand("openssl", "openssl");
        String version = OpenSsl.version();
        // s_client sends "STARTTLS" without CAP LS and waits for 670 (691 is an error, 421/451 "unsupported").
        Peers.CommandResult run = Peers.run(
                Duration.ofSeconds(20),
                "",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        "irc",
                        "-connect",
                        Peers.LOOPBACK + ":" + responder.port(),
                        "-CAfile",
                        caFile.toString(),
                        "-verify_return_error",
                        "-verify_hostname",
                        "localhost",
                        "-alpn",
                        "irc",
                        "-brief"));
        System.out.println(version + ": " + run.output());
        assertThat(run.exitCode()).as(version + ": " + run.output()).isZero();
        assertThat(run.output()).as(version).contains("Verification: OK");
        IrcResponder.Connection c = responder.next();
        assertThat(c.tls()).as(version + ": " + c).isTrue();
        assertThat(c.commands()).as(version).isEmpty();
    }

    @Test
    void ourClientUpgradesAtVerifyAndMay() throws Exception {
        for (SecurityLevel level : List.of(SecurityLevel.VERIFY, SecurityLevel.MAY)) {
            try (ClientSession session = client(level).connect(Peers.LOOPBACK, responder.port())) {
                assertThat(session.failure()).as(level.toString()).isEmpty();
                assertThat(session.status()).isEqualTo(ClientSession.Status.TLS);
                var result = session.result().orElseThrow();
                assertThat(result.before().entries()).containsExactly("multi-prefix", "sasl", "tls");
                assertThat(result.after().entries()).containsExactly("multi-prefix", "sasl");
                assertThat(session.tls().orElseThrow().applicationProtocol()).isEqualTo("irc");
                // Registration is the application's job, over TLS.
                Socket tls = session.socket().orElseThrow();
                OutputStream out = tls.getOutputStream();
                out.write("CAP END\r\nNICK alice\r\nUSER alice 0 * :Alice\r\nQUIT\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String reply = new String(tls.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(reply).contains(" 001 ").endsWith("ERROR :Closing link\r\n");
            }
            IrcResponder.Connection c = responder.next();
            assertThat(c.tls()).isTrue();
            assertThat(c.verbs()).containsExactly("CAP", "NICK", "USER");
            assertThat(c.commands())
                    .allSatisfy(cmd -> assertThat(cmd.tlsActive()).isTrue());
        }
    }

    /** Server side: STARTTLS and the registration in one write; the registration is never answered. */
    @Test
    void ourServerNeverAnswersRegistrationPipelinedWithStarttls() throws Exception {
        try (Socket raw = new Socket(InetAddress.getByName(Peers.LOOPBACK), responder.port())) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            out.write("STARTTLS\r\nNICK x\r\nUSER x 0 * :x\r\n".getBytes(StandardCharsets.US_ASCII)); // one write
            out.flush();
            assertThat(readLine(in)).isEqualTo(":localhost 670 * :STARTTLS successful, go ahead with TLS handshake");
            Thread.sleep(300);
            byte[] after = in.readNBytes(in.available());
            if (after.length > 0) {
                assertThat(after[0]).as("a TLS alert record, not an IRC line").isEqualTo((byte) 21);
            }
            SSLSocket tls = (SSLSocket)
                    pki.clientContext().getSocketFactory().createSocket(raw, "localhost", responder.port(), true);
            tls.setSoTimeout(5000);
            assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
        }
        IrcResponder.Connection c = responder.next();
        assertThat(c.commands()).as(c.toString()).isEmpty();
        assertThat(c.tls()).isFalse();
        assertThat(c.failure()).hasValue(FailureKind.HANDSHAKE_FAILED.name());
    }

    /** Client side: 670 and a forged welcome in one write; our client never starts TLS on it. */
    @Test
    void ourClientRefusesBytesAfter670() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<String> attacker = CompletableFuture.supplyAsync(() -> {
                try (Socket s = listener.accept()) {
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    String seen = readLine(in) + "\n";
                    out.write(":evil CAP * LS :tls\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    seen += readLine(in) + "\n";
                    out.write(":evil 670 * :go ahead\r\n:evil 001 x :Welcome\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    return seen + "after:" + new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                } catch (IOException e) {
                    return "io: " + e;
                }
            });
            try (ClientSession session =
                    client(SecurityLevel.VERIFY).connect(Peers.LOOPBACK, listener.getLocalPort())) {
                assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
                assertThat(session.socket()).isEmpty();
                assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
            }
            assertThat(attacker.get(10, TimeUnit.SECONDS)).isEqualTo("CAP LS 302\nSTARTTLS\nafter:");
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
