package dev.optls.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.optls.core.Blame;
import dev.optls.core.FailureKind;
import dev.optls.core.SecurityLevel;
import dev.optls.testkit.Credential;
import dev.optls.testkit.KeyType;
import dev.optls.testkit.TestPki;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Client and server TLS over real loopback sockets, with certificates from the test PKI. */
class HandshakeTest {
    private static final TestPki PKI = TestPki.create();
    private static final Credential MAIL = PKI.issue("mail.example");
    private static final int TIMEOUT = 10_000;
    private static final ExecutorService POOL = Executors.newCachedThreadPool();

    @AfterAll
    static void stopPool() {
        POOL.shutdownNow();
    }

    /** What the server side of one connection ended with. */
    private record Served(TlsConnection connection, TlsHandshakeException failure) {}

    /** Runs one ServerTls handshake on a loopback listener; {@code preRead} bytes are read in clear first. */
    private static final class Server implements AutoCloseable {
        final ServerSocket listener;
        final CompletableFuture<Served> served;

        Server(ServerTls tls, int preRead) throws Exception {
            listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            served = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            Socket plain = listener.accept();
                            byte[] already = plain.getInputStream().readNBytes(preRead);
                            TlsConnection connection = tls.layer(plain, ByteBuffer.wrap(already), TIMEOUT);
                            // echo one byte + 1, to prove the channel works
                            int b = connection.socket().getInputStream().read();
                            connection.socket().getOutputStream().write(b + 1);
                            connection.socket().getOutputStream().flush();
                            return new Served(connection, null);
                        } catch (TlsHandshakeException e) {
                            return new Served(null, e);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    POOL);
        }

        Server(ServerTls tls) throws Exception {
            this(tls, 0);
        }

        Served result() throws Exception {
            return served.get(30, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws java.io.IOException {
            listener.close();
        }
    }

    private static ServerTls server(Credential credential, Optional<String> alpn) {
        return ServerTls.create(credential.chain(), credential.privateKey(), alpn, TlsProfile.modern());
    }

    private static ClientTls client(SecurityLevel level, String name, Optional<String> alpn) {
        return ClientTls.create(
                level, TrustAnchors.of(PKI.trustStore()), ReferenceIdentity.of(name), alpn, TlsProfile.modern());
    }

    private static TlsConnection connect(ClientTls client, ServerSocket listener) throws Exception {
        Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        TlsConnection connection = client.layer(plain, "localhost", listener.getLocalPort(), TIMEOUT);
        OutputStream out = connection.socket().getOutputStream();
        out.write(41);
        out.flush();
        assertThat(connection.socket().getInputStream().read()).isEqualTo(42);
        return connection;
    }

    private static TlsHandshakeException failToConnect(ClientTls client, ServerSocket listener) throws Exception {
        Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        TlsHandshakeException e = catchThrowableOfType(
                TlsHandshakeException.class, () -> client.layer(plain, "localhost", listener.getLocalPort(), TIMEOUT));
        assertThat(e).as("handshake should have failed").isNotNull();
        assertThat(plain.isClosed())
                .as("the plain socket is closed after a failed handshake")
                .isTrue();
        return e;
    }

    private static TlsHandshakeException certificateRejected(Credential credential) throws Exception {
        try (Server server = new Server(server(credential, Optional.empty()))) {
            TlsHandshakeException e =
                    failToConnect(client(SecurityLevel.VERIFY, "mail.example", Optional.empty()), server.listener);
            assertThat(e.failure().kind()).isEqualTo(FailureKind.CERTIFICATE_INVALID);
            assertThat(e.failure().blame()).isEqualTo(Blame.PEER);
            assertThat(e.verification())
                    .hasValueSatisfying(v -> assertThat(v.valid()).isFalse());
            assertThat(server.result().failure())
                    .as("the server sees the abort")
                    .isNotNull();
            return e;
        }
    }

    @Test
    void verifySucceedsWithTrustedChainAndMatchingName() throws Exception {
        try (Server server = new Server(server(MAIL, Optional.empty()))) {
            TlsConnection client =
                    connect(client(SecurityLevel.VERIFY, "mail.example", Optional.empty()), server.listener);

            assertThat(client.protocolVersion()).isEqualTo("TLSv1.3");
            assertThat(client.cipherSuite()).startsWith("TLS_AES_");
            assertThat(client.applicationProtocol()).isEmpty();
            assertThat(client.peerChain()).containsExactlyElementsOf(MAIL.chain());
            assertThat(client.verification()).hasValueSatisfying(v -> {
                assertThat(v.valid()).isTrue();
                assertThat(v.reason()).contains("name mail.example matches");
            });
            assertThat(client.summary().protocolVersion()).isEqualTo("TLSv1.3");
            TlsConnection served = server.result().connection();
            assertThat(served.serverName()).contains("mail.example");
            assertThat(served.peerChain()).isEmpty();
            assertThat(served.verification()).isEmpty();
            client.socket().close();
        }
    }

    @Test
    void verifyAcceptsAnIntermediateChainAndAnRsaKey() throws Exception {
        Credential rsa = PKI.intermediate("optls Intermediate")
                .leaf("mail.example")
                .keyType(KeyType.RSA_2048)
                .issue();
        try (Server server = new Server(server(rsa, Optional.empty()))) {
            TlsConnection client =
                    connect(client(SecurityLevel.VERIFY, "mail.example", Optional.empty()), server.listener);
            assertThat(client.peerChain()).hasSize(2);
            assertThat(client.verification().orElseThrow().valid()).isTrue();
        }
    }

    @Test
    void verifyRejectsWrongName() throws Exception {
        TlsHandshakeException e = certificateRejected(PKI.issue("other.example"));
        assertThat(e.failure().detail())
                .contains("name mail.example does not match the certificate's DNS names [other.example]");
        assertThat(e.verification().orElseThrow().chainValid()).isTrue();
        assertThat(e.verification().orElseThrow().nameMatches()).isFalse();
    }

    @Test
    void verifyRejectsExpiredCertificate() throws Exception {
        Instant notAfter = LocalDate.of(2026, 1, 1).atStartOfDay(ZoneOffset.UTC).toInstant();
        Credential expired = PKI.leaf("mail.example")
                .validity(notAfter.minus(Duration.ofDays(90)), notAfter)
                .issue();
        assertThat(certificateRejected(expired).failure().detail()).contains("certificate expired on 2026-01-01");
    }

    @Test
    void verifyRejectsNotYetValidCertificate() throws Exception {
        assertThat(certificateRejected(PKI.leaf("mail.example").notYetValid().issue())
                        .failure()
                        .detail())
                .contains("is not valid before");
    }

    @Test
    void verifyRejectsUnknownCa() throws Exception {
        TlsHandshakeException e = certificateRejected(
                PKI.leaf("mail.example").signedByUntrustedCa().issue());
        assertThat(e.failure().detail()).contains("issuer not trusted: CN=optls Untrusted CA");
        assertThat(e.verification().orElseThrow().nameMatches()).isTrue();
    }

    @Test
    void verifyRejectsSelfSigned() throws Exception {
        assertThat(certificateRejected(PKI.leaf("mail.example").selfSigned().issue())
                        .failure()
                        .detail())
                .contains("self-signed certificate CN=mail.example is not trusted");
    }

    @Test
    void encryptAcceptsSelfSignedButReportsIt() throws Exception {
        Credential self = PKI.leaf("mail.example").selfSigned().issue();
        try (Server server = new Server(server(self, Optional.empty()))) {
            TlsConnection client =
                    connect(client(SecurityLevel.ENCRYPT, "mail.example", Optional.empty()), server.listener);
            Verification v = client.verification().orElseThrow();
            assertThat(v.valid()).isFalse();
            assertThat(v.chainValid()).isFalse();
            assertThat(v.nameMatches()).isTrue();
            assertThat(v.reason()).contains("self-signed");
            assertThat(client.peerChain()).containsExactly(self.certificate());
        }
    }

    @Test
    void mayAcceptsWrongNameButReportsIt() throws Exception {
        try (Server server = new Server(server(PKI.issue("other.example"), Optional.empty()))) {
            TlsConnection client =
                    connect(client(SecurityLevel.MAY, "mail.example", Optional.empty()), server.listener);
            Verification v = client.verification().orElseThrow();
            assertThat(v.chainValid()).isTrue();
            assertThat(v.nameMatches()).isFalse();
            assertThat(v.reason()).contains("does not match");
        }
    }

    @Test
    void alpnOwnIdIsSelected() throws Exception {
        try (Server server = new Server(server(MAIL, Optional.of("imap")))) {
            TlsConnection client =
                    connect(client(SecurityLevel.VERIFY, "mail.example", Optional.of("imap")), server.listener);
            assertThat(client.applicationProtocol()).isEqualTo("imap");
            assertThat(server.result().connection().applicationProtocol()).isEqualTo("imap");
        }
    }

    @Test
    void alpnAbsentIsServed() throws Exception {
        try (Server server = new Server(server(MAIL, Optional.of("imap")))) {
            TlsConnection client =
                    connect(client(SecurityLevel.VERIFY, "mail.example", Optional.empty()), server.listener);
            assertThat(client.applicationProtocol()).isEmpty();
            assertThat(server.result().connection().applicationProtocol()).isEmpty();
        }
    }

    @Test
    void alpnForeignIdIsRefusedByAServerWithAnId() throws Exception {
        try (Server server = new Server(server(MAIL, Optional.of("imap")))) {
            TlsHandshakeException e = failToConnect(
                    client(SecurityLevel.VERIFY, "mail.example", Optional.of("http/1.1")), server.listener);
            assertThat(e.failure().kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED);
            assertThat(e.failure().detail()).contains("no_application_protocol");
            TlsHandshakeException refused = server.result().failure();
            assertThat(refused.failure().kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED);
            assertThat(refused.failure().blame()).isEqualTo(Blame.PEER);
            assertThat(refused.failure().detail())
                    .contains("offered only ALPN protocols [http/1.1], not 'imap'")
                    .contains("no_application_protocol");
        }
    }

    @Test
    void alpnAnyIdIsRefusedByAServerWithoutOne() throws Exception {
        // SMTP has no ALPN id: any offered list is foreign (ALPACA).
        try (Server server = new Server(server(MAIL, Optional.empty()))) {
            TlsHandshakeException e =
                    failToConnect(client(SecurityLevel.ENCRYPT, "mail.example", Optional.of("h2")), server.listener);
            assertThat(e.failure().detail()).contains("no_application_protocol");
            assertThat(server.result().failure().failure().detail())
                    .contains("[h2]")
                    .contains("no ALPN id");
        }
    }

    @Test
    void sniIsTheDnsName() throws Exception {
        try (Server server = new Server(server(MAIL, Optional.empty()))) {
            TlsConnection client =
                    connect(client(SecurityLevel.VERIFY, "Mail.Example.", Optional.empty()), server.listener);
            assertThat(client.serverName()).contains("mail.example");
            assertThat(server.result().connection().serverName()).contains("mail.example");
        }
    }

    @Test
    void noSniForAnIpLiteral() throws Exception {
        Credential byAddress = PKI.leaf().ipAddresses("127.0.0.1").issue();
        try (Server server = new Server(server(byAddress, Optional.empty()))) {
            TlsConnection client =
                    connect(client(SecurityLevel.VERIFY, "127.0.0.1", Optional.empty()), server.listener);
            assertThat(client.serverName()).isEmpty();
            assertThat(client.verification().orElseThrow().valid()).isTrue();
            assertThat(server.result().connection().serverName()).isEmpty();
        }
    }

    @Test
    void serverFeedsAlreadyReceivedBytesToTls() throws Exception {
        // The plaintext phase read the first 5 bytes (the TLS record header) past the STARTTLS command.
        try (Server server = new Server(server(MAIL, Optional.empty()), 5)) {
            TlsConnection client =
                    connect(client(SecurityLevel.VERIFY, "mail.example", Optional.empty()), server.listener);
            assertThat(client.verification().orElseThrow().valid()).isTrue();
            assertThat(server.result().connection().protocolVersion()).isEqualTo("TLSv1.3");
        }
    }

    @Test
    void tls12ServerGetsAnEcdheAeadSuite() throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) MAIL.serverContext()
                .getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setEnabledProtocols(new String[] {"TLSv1.2"});
            CompletableFuture<Void> served = CompletableFuture.runAsync(
                    () -> {
                        try (SSLSocket s = (SSLSocket) listener.accept()) {
                            InputStream in = s.getInputStream();
                            s.getOutputStream().write(in.read() + 1);
                            s.getOutputStream().flush();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    POOL);
            TlsConnection client = connect(client(SecurityLevel.VERIFY, "mail.example", Optional.empty()), listener);
            assertThat(client.protocolVersion()).isEqualTo("TLSv1.2");
            assertThat(client.cipherSuite())
                    .matches("TLS_ECDHE_ECDSA_WITH_(AES_\\d+_GCM_SHA\\d+|CHACHA20_POLY1305_SHA256)");
            assertThat(client.verification().orElseThrow().valid()).isTrue();
            served.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void silentServerTimesOut() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return listener.accept(); // and never answer
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    POOL);
            Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
            long start = System.nanoTime();
            TlsHandshakeException e = catchThrowableOfType(
                    TlsHandshakeException.class,
                    () -> client(SecurityLevel.VERIFY, "mail.example", Optional.empty())
                            .layer(plain, "localhost", listener.getLocalPort(), 300));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(e.failure().kind()).isEqualTo(FailureKind.TIMEOUT);
            assertThat(e.failure().blame()).isEqualTo(Blame.NETWORK);
            assertThat(e.failure().temporary()).isTrue();
            assertThat(e.failure().detail()).contains("within 300 ms");
            assertThat(millis).isBetween(250L, 5_000L);
            accepted.get(5, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void slowDripPeerHitsTheWholeHandshakeDeadline() throws Exception {
        // Each read gets a byte well within the timeout, so only a deadline over the whole handshake stops it.
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> dripper = CompletableFuture.runAsync(
                    () -> {
                        try (Socket s = listener.accept()) {
                            OutputStream out = s.getOutputStream();
                            out.write(new byte[] {0x16, 0x03, 0x03, 0x40, 0x00}); // handshake record, 16 KiB body
                            out.flush();
                            for (int i = 0; i < 100; i++) {
                                Thread.sleep(100);
                                out.write(0);
                                out.flush();
                            }
                        } catch (Exception e) {
                            // the client hangs up
                        }
                    },
                    POOL);
            Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
            long start = System.nanoTime();
            TlsHandshakeException e = catchThrowableOfType(
                    TlsHandshakeException.class,
                    () -> client(SecurityLevel.ENCRYPT, "mail.example", Optional.empty())
                            .layer(plain, "localhost", listener.getLocalPort(), 700));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(e.failure().kind()).isEqualTo(FailureKind.TIMEOUT);
            assertThat(millis).isBetween(600L, 3_000L);
            assertThat(plain.isClosed()).isTrue();
            dripper.get(15, TimeUnit.SECONDS);
        }
    }

    @Test
    void plaintextReplyIsAHandshakeFailureBlamedOnThePeer() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> talker = CompletableFuture.runAsync(
                    () -> {
                        try (Socket s = listener.accept()) {
                            s.getOutputStream().write("554 no TLS for you\r\n".getBytes(StandardCharsets.US_ASCII));
                            s.getOutputStream().flush();
                            s.getInputStream().readAllBytes();
                        } catch (Exception e) {
                            // the client hangs up
                        }
                    },
                    POOL);
            TlsHandshakeException e =
                    failToConnect(client(SecurityLevel.ENCRYPT, "mail.example", Optional.empty()), listener);
            assertThat(e.failure().kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED);
            assertThat(e.failure().blame()).isEqualTo(Blame.PEER);
            assertThat(e.verification()).isEmpty();
            assertThat(e.failure().detail()).contains("plaintext, not TLS");
            talker.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void trustAnchorsVerifyOutsideAHandshake() {
        Verification ok = TrustAnchors.of(PKI.trustStore()).verify(MAIL.chain(), ReferenceIdentity.of("mail.example"));
        assertThat(ok.valid()).isTrue();

        Verification jdk = TrustAnchors.jdkDefault().verify(MAIL.chain(), ReferenceIdentity.of("mail.example"));
        assertThat(jdk.chainValid()).isFalse();
        assertThat(jdk.nameMatches()).isTrue();
        assertThat(jdk.reason()).isEqualTo("issuer not trusted: CN=optls Test CA");

        Verification both = TrustAnchors.jdkDefault().verify(MAIL.chain(), ReferenceIdentity.of("mx.example"));
        assertThat(both.reason())
                .isEqualTo("issuer not trusted: CN=optls Test CA; name mx.example does not match the"
                        + " certificate's DNS names [mail.example]");
    }

    @Test
    void levelNoneHasNoTls() {
        Throwable thrown = catchThrowableOfType(
                IllegalArgumentException.class, () -> client(SecurityLevel.NONE, "mail.example", Optional.empty()));
        assertThat(thrown).hasMessageContaining("NONE");
    }
}
