package dev.optls.interop.mysql;

import dev.optls.core.ClientOptions;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.mysql.MysqlFlags;
import dev.optls.core.mysql.MysqlGreeting;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;

/** optls's blocking MySQL client, and the login an application does after it. */
final class OurClient {
    private OurClient() {}

    static ClientSession connect(SecurityLevel level, TestPki pki, int port) {
        // Level NONE never starts TLS, but the adapter still wants a ClientTls: any will do.
        ClientTls tls = ClientTls.create(
                level == SecurityLevel.NONE ? SecurityLevel.MAY : level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("localhost"),
                Optional.empty(),
                TlsProfile.modern());
        StartTlsClient client =
                new StartTlsClient(Protocol.MYSQL, ClientOptions.of(level), tls, Timeouts.all(Duration.ofSeconds(10)));
        return client.connect(Peers.LOOPBACK, port);
    }

    /**
     * Sends a HandshakeResponse41 for {@code user} with mysql_native_password over the session's socket and
     * returns the server's answer. The scramble is the one of the plaintext greeting (MySQL's design): over
     * TLS the sequence id is 2, in plaintext 1.
     */
    static MysqlWire.Packet login(ClientSession session, String user, String password) throws IOException {
        Result result = session.result().orElseThrow();
        long serverFlags = 0;
        for (String entry : result.before().entries()) {
            serverFlags |= MysqlFlags.flag(entry);
        }
        int flags = MysqlFlags.sslRequestFlags(serverFlags);
        if (!result.tlsActive()) {
            flags &= ~(int) MysqlFlags.CLIENT_SSL;
        }
        byte[] scramble = MysqlGreeting.authPluginData(result.before()).orElseThrow();
        Socket socket = session.socket().orElseThrow();
        socket.setSoTimeout(10_000);
        MysqlWire.write(
                socket.getOutputStream(),
                result.tlsActive() ? 2 : 1,
                MysqlWire.handshakeResponse(
                        flags, user, MysqlWire.nativePassword(password, scramble), "mysql_native_password"));
        return MysqlWire.read(socket.getInputStream());
    }
}
