package dev.optls.interop.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.FailureKind;
import dev.optls.core.SecurityLevel;
import dev.optls.core.mysql.MysqlFlags;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.blocking.ClientSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** security.md §5 A and E over real sockets, the attack in one write each way. */
class InjectionIT {
    /** MariaDB 10.11.18's greeting (captured on loopback) with CLIENT_SSL set. */
    private static final byte[] GREETING = HexFormat.of()
            .parseHex("640000000a352e352e352d31302e31312e31382d4d6172696144422d302b6465623132753100030000002a455b7a"
                    + "77636b7000fefF080200ff81150000000000001d0000006f5f6e2a257954787d2d632d006d7973716c5f6e6174"
                    + "6976655f70617373776f726400");

    private static TestPki pki;
    private static MysqlResponder responder;

    @BeforeAll
    static void start() {
        pki = TestPki.create();
        Credential credential =
                pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        responder = MysqlResponder.start(Optional.of(credential));
    }

    @AfterAll
    static void stop() {
        if (responder != null) {
            responder.close();
        }
    }

    /** Server side: SSLRequest and a HandshakeResponse41 in one write; the response is never answered. */
    @Test
    void ourServerNeverAnswersAResponsePipelinedWithTheSslRequest() throws Exception {
        int flags = (int) (MysqlFlags.CLIENT_PROTOCOL_41
                | MysqlFlags.CLIENT_SSL
                | MysqlFlags.CLIENT_SECURE_CONNECTION
                | MysqlFlags.CLIENT_PLUGIN_AUTH);
        byte[] sslRequest = MysqlWire.frame(
                1, java.util.Arrays.copyOf(MysqlWire.handshakeResponse(flags, "", new byte[0], ""), 32));
        byte[] response =
                MysqlWire.frame(2, MysqlWire.handshakeResponse(flags, "mallory", new byte[0], "mysql_native_password"));
        try (Socket raw = new Socket(InetAddress.getByName(Peers.LOOPBACK), responder.port())) {
            raw.setSoTimeout(5000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            MysqlWire.Packet greeting = MysqlWire.read(in);
            assertThat(greeting.sequence()).isZero();
            ByteArrayOutputStream attack = new ByteArrayOutputStream();
            attack.writeBytes(sslRequest);
            attack.writeBytes(response);
            out.write(attack.toByteArray()); // one write
            out.flush();
            Thread.sleep(300);
            byte[] after = in.readNBytes(in.available());
            if (after.length > 0) {
                // Only a TLS alert may follow (the injected bytes reached TLS as a bogus ClientHello).
                assertThat(after[0])
                        .as("a TLS alert record, not a MySQL packet")
                        .isEqualTo((byte) 21);
            }
            SSLSocket tls = (SSLSocket)
                    pki.clientContext().getSocketFactory().createSocket(raw, "localhost", responder.port(), true);
            tls.setSoTimeout(5000);
            assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
        }
        MysqlResponder.Connection c = responder.awaitOne();
        assertThat(c.user()).as(c.toString()).isEmpty();
        assertThat(c.tlsEstablished()).as(c.toString()).isFalse();
        assertThat(c.failure().orElseThrow().kind()).as(c.toString()).isEqualTo(FailureKind.HANDSHAKE_FAILED);
    }

    /** Client side: the greeting and a forged OK packet in one write; our client never starts TLS on it. */
    @Test
    void ourClientRefusesBytesAfterTheGreeting() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<byte[]> attacker = CompletableFuture.supplyAsync(() -> {
                try (Socket s = listener.accept()) {
                    s.setSoTimeout(5000);
                    ByteArrayOutputStream attack = new ByteArrayOutputStream();
                    attack.writeBytes(GREETING);
                    attack.writeBytes(HexFormat.of().parseHex("0700000200000002000000")); // OK, sequence 2
                    s.getOutputStream().write(attack.toByteArray()); // one write
                    s.getOutputStream().flush();
                    return s.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            ClientSession session = OurClient.connect(SecurityLevel.VERIFY, pki, listener.getLocalPort());
            assertThat(session.status()).as(session.toString()).isEqualTo(ClientSession.Status.FAILED);
            assertThat(session.socket()).isEmpty();
            assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
            // The client wrote its SSLRequest (36 bytes, sequence 1) and closed: no ClientHello followed.
            byte[] sent = attacker.get(10, TimeUnit.SECONDS);
            assertThat(sent).hasSize(36);
            assertThat(sent[3]).isEqualTo((byte) 1);
        }
    }
}
