package dev.optls.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.SecurityLevel;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConfigException;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificates chosen by SNI, and session tickets that several servers share. */
class SniAndTicketsTest {
    private static TestPki pki;
    private static ServerEngines mail;
    private static ServerEngines chat;
    private static ServerEngines fallback;
    private static EventLoopGroup group;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        pki = TestPki.create();
        fallback = engines(pki.issue("default.example.test"), ServerEngines.Provider.JDK);
        mail = engines(pki.issue("mail.example.test"), ServerEngines.Provider.JDK);
        chat = engines(pki.issue("*.chat.example.test"), ServerEngines.Provider.BORINGSSL);
        group = Transport.nio().group(1);
    }

    @AfterAll
    static void tearDown() {
        group.shutdownGracefully().syncUninterruptibly();
    }

    private static ServerEngines engines(Credential c, ServerEngines.Provider provider) {
        return ServerEngines.of(
                ServerTls.create(c.chain(), c.privateKey(), Optional.of("imap"), TlsProfile.modern()), provider);
    }

    @Test
    void selectsByExactNameThenWildcardElseTheDefault() {
        CertificateSelector selector = CertificateSelector.of(List.of(fallback, mail, chat));

        assertThat(selector.select(Optional.of("mail.example.test"))).isSameAs(mail);
        assertThat(selector.select(Optional.of("MAIL.example.test"))).isSameAs(mail);
        assertThat(selector.select(Optional.of("a.chat.example.test"))).isSameAs(chat);
        // RFC 9525 §6.3: the wildcard covers one label only.
        assertThat(selector.select(Optional.of("b.a.chat.example.test"))).isSameAs(fallback);
        assertThat(selector.select(Optional.of("chat.example.test"))).isSameAs(fallback);
        assertThat(selector.select(Optional.of("other.test"))).isSameAs(fallback);
        assertThat(selector.select(Optional.empty())).isSameAs(fallback);
    }

    /** Over a real socket: the client's SNI picks the certificate, with the JDK or the BoringSSL engine. */
    @Test
    void clientsGetTheCertificateForTheirServerName() throws Exception {
        CertificateSelector selector = CertificateSelector.of(List.of(fallback, mail, chat));
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(Transport.nio().serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new AcceptTls(selector, 5000));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .syncUninterruptibly()
                .channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        try {
            assertThat(leafFor(port, "mail.example.test")).contains("mail.example.test");
            assertThat(leafFor(port, "x.chat.example.test")).contains("*.chat.example.test");
            assertThat(leafFor(port, null)).contains("default.example.test");
        } finally {
            server.close().syncUninterruptibly();
        }
    }

    private static String leafFor(int port, String sni) throws Exception {
        try (SSLSocket s = (SSLSocket) pki.clientContext().getSocketFactory().createSocket("127.0.0.1", port)) {
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            s.setSSLParameters(p);
            s.startHandshake();
            X509Certificate leaf = (X509Certificate) s.getSession().getPeerCertificates()[0];
            return String.valueOf(leaf.getSubjectAlternativeNames());
        }
    }

    /** Two BoringSSL servers with one key file: a session from the first resumes on the second. */
    @Test
    void sharedTicketKeysLetAnotherInstanceResume() throws Exception {
        Path keys = Files.writeString(
                dir.resolve("tickets.keys"),
                "# optls gateway ticket keys\n"
                        + Base64.getEncoder().encodeToString(new byte[48]).replace('A', 'B') + "\n");
        Credential c = pki.issue("mail.example.test");
        ServerEngines first = engines(c, ServerEngines.Provider.BORINGSSL).withTicketKeys(TicketKeys.read(keys));
        ServerEngines second = engines(c, ServerEngines.Provider.BORINGSSL).withTicketKeys(TicketKeys.read(keys));
        ServerEngines stranger = engines(c, ServerEngines.Provider.BORINGSSL).withTicketKeys(TicketKeys.generate());
        SSLContext client = pki.clientContext();

        handshake(client, first);
        handshake(client, second);
        handshake(client, stranger);

        assertThat(first.ticketResumptions()).hasValue(0);
        assertThat(second.ticketResumptions()).as("resumed with the shared key").hasValue(1);
        assertThat(stranger.ticketResumptions())
                .as("other keys cannot decrypt the ticket")
                .hasValue(0);
    }

    @Test
    void badKeyFilesAndTheJdkEngineSaySo() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.keys"), "not base64 at all\n");
        assertThatThrownBy(() -> TicketKeys.read(bad))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("line 1")
                .hasMessageContaining("head -c 48 /dev/urandom | base64");
        Path empty = Files.writeString(dir.resolve("empty.keys"), "# nothing\n");
        assertThatThrownBy(() -> TicketKeys.read(empty)).hasMessageContaining("holds 0 ticket keys");
        assertThatThrownBy(() -> mail.withTicketKeys(TicketKeys.generate()))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("BoringSSL");
        assertThat(mail.ticketResumptions()).isEmpty();
    }

    @Test
    void boringSslClientEnginesNeverResumeAndStillSendTheServerName() throws Exception {
        Credential c = pki.issue("mail.example.test");
        ServerEngines server = engines(c, ServerEngines.Provider.BORINGSSL).withTicketKeys(TicketKeys.generate());
        ClientTls tls = ClientTls.create(
                SecurityLevel.VERIFY,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("mail.example.test"),
                Optional.of("imap"),
                TlsProfile.modern());
        ClientEngines engines = ClientEngines.boringSsl(Optional.of("imap"), TlsProfile.modern());

        for (int i = 0; i < 3; i++) {
            ClientTls.EngineHandshake h = tls.newEngine("mail.example.test", 993, engines);
            assertThat(handshake(h.engine(), server)).containsExactly(new SNIHostName("mail.example.test"));
            // A load generator counts full handshakes: a resumed one would check no certificate.
            assertThat(h.established().verification())
                    .hasValueSatisfying(v -> assertThat(v.valid()).isTrue());
            io.netty.util.ReferenceCountUtil.release(h.engine());
        }

        assertThat(server.ticketResumptions())
                .as("tickets were issued, none used")
                .hasValue(0);
    }

    /** A full TLS 1.3 exchange in memory, with data both ways so that the client reads its tickets. */
    private static void handshake(SSLContext clientContext, ServerEngines server) throws Exception {
        SSLEngine c = clientContext.createSSLEngine("mail.example.test", 993);
        c.setUseClientMode(true);
        SSLParameters p = c.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName("mail.example.test")));
        c.setSSLParameters(p);
        handshake(c, server);
    }

    /** Runs the exchange; returns the server names the server was asked for (SNI, RFC 6066 §3). */
    private static List<SNIServerName> handshake(SSLEngine c, ServerEngines server) throws Exception {
        SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
        ByteBuffer cToS = ByteBuffer.allocate(1 << 16);
        ByteBuffer sToC = ByteBuffer.allocate(1 << 16);
        ByteBuffer app = ByteBuffer.allocate(1 << 16);
        ByteBuffer hello = ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII));
        boolean serverGotData = false;
        for (int round = 0; round < 50 && !serverGotData; round++) {
            c.wrap(
                    c.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                            ? hello
                            : ByteBuffer.allocate(0),
                    cToS);
            runTasks(c);
            cToS.flip();
            app.clear();
            while (cToS.hasRemaining()) {
                SSLEngineResult r = s.unwrap(cToS, app);
                runTasks(s);
                if (r.bytesProduced() > 0) {
                    serverGotData = true;
                }
                if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) {
                    break;
                }
            }
            cToS.compact();
            // BoringSSL sends its NewSessionTickets with the next application data it writes.
            s.wrap(
                    serverGotData
                            ? ByteBuffer.wrap("pong".getBytes(StandardCharsets.US_ASCII))
                            : ByteBuffer.allocate(0),
                    sToC);
            runTasks(s);
            sToC.flip();
            while (sToC.hasRemaining()) {
                SSLEngineResult r = c.unwrap(sToC, app);
                runTasks(c);
                if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) {
                    break;
                }
            }
            sToC.compact();
        }
        assertThat(serverGotData)
                .as("the client's data reached the server over TLS")
                .isTrue();
        assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
        List<SNIServerName> requested = ((ExtendedSSLSession) s.getSession()).getRequestedServerNames();
        io.netty.util.ReferenceCountUtil.release(s);
        return requested;
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }
}
