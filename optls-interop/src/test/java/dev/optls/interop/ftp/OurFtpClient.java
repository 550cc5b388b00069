package dev.optls.interop.ftp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ftp.FtpReply;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.ftp.FtpClientSession;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Our FTP client (StartTlsClient + FtpClientSession) as the interop tests use it. */
final class OurFtpClient {
    static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));

    private OurFtpClient() {}

    static ClientTls tls(TestPki pki, SecurityLevel level) {
        return ClientTls.create(
                level == SecurityLevel.NONE ? SecurityLevel.MAY : level,
                TrustAnchors.of(pki.trustStore()),
                ReferenceIdentity.of("localhost"),
                Protocol.FTP.alpn(),
                TlsProfile.modern());
    }

    static ClientSession connect(ClientTls tls, SecurityLevel level, int port, boolean implicit) {
        return new StartTlsClient(Protocol.FTP, ClientOptions.of(level).withImplicitTls(implicit), tls, TIMEOUTS)
                .connect(Peers.LOOPBACK, port);
    }

    static FtpClientSession session(ClientSession control, ClientTls tls) throws IOException {
        return FtpClientSession.over(control, Optional.of(tls), TIMEOUTS, Limits.DEFAULT);
    }

    /**
     * EPSV + LIST with a data connection layered by a separate ClientTls (a fresh JSSE context, as Apache
     * Commons Net does): the control session cannot be resumed. Returns what the data connection carried,
     * then "|" and the completion reply of LIST (read after the data connection closed).
     */
    static String listWithoutResumption(FtpClientSession ftp, ClientTls otherTls) throws IOException {
        FtpReply epsv = ftp.command("EPSV");
        Matcher m = Pattern.compile("\\|\\|\\|(\\d+)\\|").matcher(epsv.text());
        assertThat(m.find()).as(epsv.summary()).isTrue();
        StringBuilder seen = new StringBuilder();
        try (Socket plain = new Socket(InetAddress.getByName(Peers.LOOPBACK), Integer.parseInt(m.group(1)))) {
            FtpReply first = ftp.command("LIST");
            assertThat(first.code()).as(first.summary()).isEqualTo(150);
            try {
                TlsConnection c = otherTls.layer(plain, Peers.LOOPBACK, plain.getPort(), 10_000);
                c.socket().setSoTimeout(10_000);
                seen.append(new String(c.socket().getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                c.socket().close();
            } catch (Exception e) {
                seen.append("<").append(e.getClass().getSimpleName()).append(">");
            }
        }
        return seen + "|" + ftp.command("NOOP").summary();
    }
}
