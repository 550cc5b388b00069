package dev.optls.interop.xmpp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
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
 * {@code openssl s_client -starttls xmpp} / {@code xmpp-server} and {@code gnutls-cli --starttls-proto=xmpp}
 * against OUR XMPP server ({@link XmppResponder}), our client against it, and the CVE-2011-0411 injection both
 * ways over real sockets, the attack in one write.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OurXmppServerIT {
    private static final String HEADER = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0'"
            + " xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    private static final String STARTTLS = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    private static final String PROCEED = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

    private final Peers.PeerDirectory dir = Peers.tempDir("xmpp-pki");
    private TestPki pki;
    private Path caFile;
    private XmppResponder c2s;
    private XmppResponder s2s;
    private XmppResponder c2sForAddress;

    @BeforeAll
    void start() throws IOException {
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        caFile = pki.writeCaPem(dir.resolve("ca.pem"));
        c2s = new XmppResponder(Protocol.XMPP, "localhost", leaf);
        s2s = new XmppResponder(Protocol.XMPP_SERVER, "localhost", leaf);
        // gnutls-cli puts the host it connects to into 'to' (it has no option for the domain).
        c2sForAddress = new XmppResponder(Protocol.XMPP, Peers.LOOPBACK, leaf);
    }

    @AfterAll
    void stop() {
        for (XmppResponder r : new XmppResponder[] {c2s, s2s, c2sForAddress}) {
            if (r != null) {
                r.close();
            }
        }
        dir.close();
    }

    private Peers.CommandResult openssl(String starttls, int port, String alpn) {
        Peers.requireCommand("openssl", "openssl");
        return Peers.run(
                Duration.ofSeconds(20),
                "",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        starttls,
                        "-xmpphost",
                        "localhost",
                        "-connect",
                        Peers.LOOPBACK + ":" + port,
                        "-CAfile",
                        caFile.toString(),
                        "-verify_return_error",
                        "-verify_hostname",
                        "localhost",
                        "-alpn",
                        alpn,
                        "-brief"));
    }

    @Test
    void opensslStartTlsXmppVerifies() throws Exception {
        String version = OpenSsl.version();
        Peers.CommandResult run = openssl("xmpp", c2s.port(), "xmpp-client");
        assertThat(run.exitCode()).as(version + ": " + run.output()).isZero();
        assertThat(run.output()).as(version).contains("Verification: OK");
        XmppResponder.Connection c = c2s.next();
        assertThat(c.tls()).as(version + ": " + c).isTrue();
        assertThat(c.commands()).as(version).isEmpty();
    }

    @Test
    void opensslStartTlsXmppServerVerifies() throws Exception {
        String version = OpenSsl.version();
        Peers.CommandResult run = openssl("xmpp-server", s2s.port(), "xmpp-server");
        assertThat(run.exitCode()).as(version + ": " + run.output()).isZero();
        assertThat(run.output()).as(version).contains("Verification: OK");
        XmppResponder.Connection c = s2s.next();
        assertThat(c.tls()).as(version + ": " + c).isTrue();
    }

    @Test
    void gnutlsCliStartTlsXmppVerifies() throws Exception {
        Peers.requireCommand("gnutls-cli", "gnutls-bin");
        String version = Peers.run(Duration.ofSeconds(10), null, List.of("gnutls-cli", "--version"))
                .output()
                .lines()
                .findFirst()
                .orElse("gnutls-cli")
                .strip();
        Peers.CommandResult run = Peers.run(
                Duration.ofSeconds(20),
                null,
                List.of(
                        "gnutls-cli",
                        "--starttls-proto=xmpp",
                        "--x509cafile=" + caFile,
                        "--port=" + c2sForAddress.port(),
                        "--sni-hostname=localhost",
                        "--verify-hostname=localhost",
                        Peers.LOOPBACK));
        String why = version + ":\n" + run.output();
        assertThat(run.output()).as(why).contains("Handshake was completed");
        assertThat(run.output()).as(why).contains("Status: The certificate is trusted.");
        assertThat(run.exitCode()).as(why).isZero();
        assertThat(c2sForAddress.next().tls()).as(why).isTrue();
    }

    @Test
    void ourClientUpgradesAtVerifyAndMay() throws Exception {
        for (SecurityLevel level : List.of(SecurityLevel.VERIFY, SecurityLevel.MAY)) {
            ClientTls tls = ClientTls.create(
                    level,
                    TrustAnchors.of(pki.trustStore()),
                    ReferenceIdentity.forProtocol(Protocol.XMPP, "localhost"),
                    Protocol.XMPP.alpn(),
                    TlsProfile.modern());
            try (ClientSession session = new StartTlsClient(
                            Protocol.XMPP, ClientOptions.of(level), tls, Timeouts.all(Duration.ofSeconds(10)))
                    .connect(Peers.LOOPBACK, c2s.port())) {
                assertThat(session.failure()).as(level.toString()).isEmpty();
                Result result = session.result().orElseThrow();
                assertThat(result.before().entries()).containsExactly("starttls", "dialback");
                assertThat(result.after().entries()).containsExactly("mechanisms PLAIN", "dialback");
                assertThat(session.tls().orElseThrow().applicationProtocol()).isEqualTo("xmpp-client");
                // SASL is the application's job, over TLS, on the same stream.
                Socket socket = session.socket().orElseThrow();
                socket.getOutputStream()
                        .write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"
                                .getBytes(StandardCharsets.UTF_8));
                socket.getOutputStream().flush();
                socket.setSoTimeout(5000);
                byte[] buf = new byte[256];
                int n = socket.getInputStream().read(buf);
                assertThat(new String(buf, 0, n, StandardCharsets.UTF_8)).contains("<not-authorized/>");
            }
            XmppResponder.Connection c = c2s.next();
            assertThat(c.tls()).isTrue();
            assertThat(c.commands()).singleElement().satisfies(cmd -> {
                assertThat(cmd.verb()).isEqualTo("auth");
                assertThat(cmd.tlsActive()).isTrue();
            });
        }
    }

    /** Server side: {@code <starttls/>} and a stanza in one write; the stanza is never answered. */
    @Test
    void ourServerNeverAnswersAStanzaPipelinedWithStarttls() throws Exception {
        try (Socket raw = new Socket(InetAddress.getByName(Peers.LOOPBACK), c2s.port())) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            out.write(HEADER.getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertThat(readUntil(in, "</stream:features>")).contains("<starttls");
            out.write((STARTTLS + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>")
                    .getBytes(StandardCharsets.UTF_8)); // one write
            out.flush();
            assertThat(readUntil(in, PROCEED)).isEqualTo(PROCEED);
            Thread.sleep(300);
            byte[] after = in.readNBytes(in.available());
            if (after.length > 0) {
                assertThat(after[0]).as("a TLS alert record, not XML").isEqualTo((byte) 21);
            }
            SSLSocket tls =
                    (SSLSocket) pki.clientContext().getSocketFactory().createSocket(raw, "localhost", c2s.port(), true);
            tls.setSoTimeout(5000);
            assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
        }
        XmppResponder.Connection c = c2s.next();
        assertThat(c.commands()).as(c.toString()).isEmpty();
        assertThat(c.tls()).isFalse();
        assertThat(c.failure()).hasValue(FailureKind.HANDSHAKE_FAILED.name());
    }

    /** Client side: {@code <proceed/>} and a forged new stream with features in one write. */
    @Test
    void ourClientRefusesBytesAfterProceed() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<String> attacker = CompletableFuture.supplyAsync(() -> {
                try (Socket s = listener.accept()) {
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    String seen = readUntil(in, "'>");
                    String header =
                            "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
                                    + " from='localhost' id='evil' version='1.0'>";
                    out.write((header + "<stream:features>" + STARTTLS + "</stream:features>")
                            .getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    seen += "|" + readUntil(in, "/>");
                    out.write((PROCEED + header + "<stream:features><mechanisms"
                                    + " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
                                    + "</mechanisms></stream:features>")
                            .getBytes(StandardCharsets.UTF_8)); // one write
                    out.flush();
                    return seen + "|after:" + new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                } catch (IOException e) {
                    return "io: " + e;
                }
            });
            ClientTls tls = ClientTls.create(
                    SecurityLevel.VERIFY,
                    TrustAnchors.of(pki.trustStore()),
                    ReferenceIdentity.forProtocol(Protocol.XMPP, "localhost"),
                    Protocol.XMPP.alpn(),
                    TlsProfile.modern());
            try (ClientSession session = new StartTlsClient(
                            Protocol.XMPP,
                            ClientOptions.of(SecurityLevel.VERIFY),
                            tls,
                            Timeouts.all(Duration.ofSeconds(10)))
                    .connect(Peers.LOOPBACK, listener.getLocalPort())) {
                assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
                assertThat(session.socket()).isEmpty();
                assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
            }
            String seen = attacker.get(10, TimeUnit.SECONDS);
            assertThat(seen).startsWith("<?xml version='1.0'?><stream:stream to='localhost'");
            // Nothing after <starttls/>: no ClientHello, no SASL.
            assertThat(seen).endsWith("|" + STARTTLS + "|after:");
        }
    }

    /** Reads until {@code end} has been seen; returns what was read. */
    private static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        while (!buf.toString(StandardCharsets.UTF_8).endsWith(end)) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("end of input after: " + buf.toString(StandardCharsets.UTF_8));
            }
            buf.write(b);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
