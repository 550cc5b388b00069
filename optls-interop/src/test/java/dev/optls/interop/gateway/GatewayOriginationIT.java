package dev.optls.interop.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Failure;
import dev.optls.gateway.ConfigLoader;
import dev.optls.gateway.Gateway;
import dev.optls.gateway.GatewayConfig;
import dev.optls.gateway.Route;
import dev.optls.interop.peers.DovecotServer;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TlsSessionInfo;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS origination: plaintext clients (swaks, curl) through the gateway, which does STARTTLS (or implicit TLS)
 * towards Postfix and Dovecot at level verify, trusting only the test CA. The issue's case: an upstream that
 * stops offering STARTTLS (Postfix with {@code smtpd_tls_security_level = none}) gets the client's connection
 * closed with a 421, never bridged in plaintext.
 */
class GatewayOriginationIT {
    private static Path dir;
    private static PostfixServer postfix;
    private static PostfixServer postfixWithoutTls;
    private static DovecotServer dovecot;
    private static Gateway gateway;
    private static int smtpPort;
    private static int downgradedPort;
    private static int imapPort;
    private static int imapsPort;
    private static int pop3Port;
    private static final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Peers.requireCommand("swaks", "swaks");
        Peers.requireCommand("curl", "curl");
        dir = Files.createTempDirectory("optls-gateway-origination-it");
        TestPki pki = TestPki.create();
        pki.leaf("localhost").ipAddresses("127.0.0.1").issue().writePem(dir, "upstream");
        pki.writeCaPem(dir.resolve("ca.pem"));
        Path chain = dir.resolve("upstream.crt");
        Path key = dir.resolve("upstream.key");
        postfix = PostfixServer.builder()
                .tls(PeerTls.REQUIRED)
                .certificate(chain, key)
                .start();
        // The same server after someone turned STARTTLS off: a certificate, but nothing offered.
        postfixWithoutTls = PostfixServer.builder()
                .tls(PeerTls.OPTIONAL)
                .certificate(chain, key)
                .mainCf("smtpd_tls_security_level", "none")
                .start();
        dovecot = DovecotServer.builder()
                .tls(PeerTls.REQUIRED)
                .certificate(chain, key)
                .start();
        smtpPort = Peers.freePort();
        downgradedPort = Peers.freePort();
        imapPort = Peers.freePort();
        imapsPort = Peers.freePort();
        pop3Port = Peers.freePort();
        GatewayConfig config = ConfigLoader.load(Files.writeString(dir.resolve("gateway.toml"), """
                [[route]]
                name = "smtp-out"
                protocol = "smtp"
                listen = "127.0.0.1:%d"
                listen-tls = "none"
                connect = "127.0.0.1:%d"
                connect-tls = "starttls"
                ca = "ca.pem"
                server-name = "localhost"
                hostname = "gateway.test"

                [[route]]
                name = "smtp-downgraded"
                protocol = "smtp"
                listen = "127.0.0.1:%d"
                listen-tls = "none"
                connect = "127.0.0.1:%d"
                connect-tls = "starttls"
                level = "encrypt"
                ca = "ca.pem"
                hostname = "gateway.test"

                [[route]]
                name = "imap-out"
                protocol = "imap"
                listen = "127.0.0.1:%d"
                listen-tls = "none"
                connect = "127.0.0.1:%d"
                connect-tls = "starttls"
                ca = "ca.pem"
                server-name = "localhost"

                [[route]]
                name = "imap-to-imaps"
                protocol = "imap"
                listen = "127.0.0.1:%d"
                listen-tls = "none"
                connect = "127.0.0.1:%d"
                connect-tls = "implicit"
                ca = "ca.pem"
                server-name = "localhost"

                [[route]]
                name = "pop3-out"
                protocol = "pop3"
                listen = "127.0.0.1:%d"
                listen-tls = "none"
                connect = "127.0.0.1:%d"
                connect-tls = "starttls"
                ca = "ca.pem"
                server-name = "localhost"
                """.formatted(
                        smtpPort,
                        postfix.port(),
                        downgradedPort,
                        postfixWithoutTls.port(),
                        imapPort,
                        dovecot.imapPort(),
                        imapsPort,
                        dovecot.imapsPort(),
                        pop3Port,
                        dovecot.pop3Port())));
        gateway = Gateway.start(config, new Gateway.Events() {
            @Override
            public void upstreamTls(Route route, SocketAddress client, TlsSessionInfo tls) {
                events.add("upstream-tls " + route.name() + " " + tls.protocolVersion());
            }

            @Override
            public void upstreamPlaintext(Route route, SocketAddress client, Failure reason) {
                events.add("upstream-plaintext " + route.name() + " " + reason);
            }

            @Override
            public void refused(Route route, SocketAddress client, Failure failure) {
                events.add("refused " + route.name() + " " + failure);
            }
        });
    }

    @AfterAll
    static void stop() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        for (AutoCloseable peer : new AutoCloseable[] {postfix, postfixWithoutTls, dovecot}) {
            if (peer != null) {
                try {
                    peer.close();
                } catch (Exception e) {
                    throw new IOException(e);
                }
            }
        }
    }

    @Test
    void plaintextSwaksDeliversToPostfixOverTheGatewaysTls() {
        Peers.CommandResult r = swaks(smtpPort, "a@example.org");
        String why = "swaks (plaintext) → gateway → STARTTLS → Postfix " + PostfixServer.version() + " (TLS "
                + "required):\n" + r.output() + "\nevents: " + events;
        assertThat(r.exitCode()).as(why).isZero();
        List<String> lines = r.output().lines().toList();
        // The gateway greets; the EHLO reply is Postfix's over TLS: no STARTTLS left to offer.
        assertThat(lines).as(why).anyMatch(l -> l.matches("<-\\s+220 .*"));
        assertThat(lines).as(why).anyMatch(l -> l.matches("<-\\s+250[- ]PIPELINING"));
        assertThat(lines).as(why).noneMatch(l -> l.contains("STARTTLS"));
        // Postfix requires TLS (smtpd_tls_security_level = encrypt): it took the mail, and says it was over TLS.
        String log = postfix.awaitLog("from=<a@example.org>", Duration.ofSeconds(10));
        assertThat(log).as(why).containsPattern("TLS connection established from [^\\n]*127\\.0\\.0\\.1");
        assertThat(events).as(why).anyMatch(e -> e.startsWith("upstream-tls smtp-out TLSv1."));
    }

    /** The issue's case: the upstream no longer offers STARTTLS; the client is closed, nothing is bridged. */
    @Test
    void upstreamThatStopsOfferingStartTlsClosesTheClient() {
        Peers.CommandResult r = swaks(downgradedPort, "downgrade@example.org");
        String why = "swaks (plaintext) → gateway → Postfix with smtpd_tls_security_level = none:\n" + r.output()
                + "\nevents: " + events;
        assertThat(r.exitCode()).as(why).isNotZero();
        assertThat(r.output()).as(why).containsPattern("<\\*{0,2}-?\\s*421 4\\.7\\.0 ");
        assertThat(r.output()).as(why).doesNotContain("EHLO client.example.org\n<-  250");
        assertThat(events)
                .as(why)
                .anyMatch(e -> e.startsWith("refused smtp-downgraded") && e.contains("not relayed in plaintext"));
        // Postfix saw the gateway's EHLO only: no client command, no sender.
        assertThat(postfixWithoutTls.log()).as(why).doesNotContain("downgrade@example.org");
    }

    @Test
    void plaintextCurlListsImapMailboxesOverTheGatewaysStartTls() {
        Peers.CommandResult r = curl("imap://127.0.0.1:" + imapPort + "/");
        String why = "curl imap (plaintext) → gateway → STARTTLS → Dovecot " + DovecotServer.version()
                + " (ssl = required):\n" + r.output() + "\nevents: " + events;
        // Dovecot refuses a plaintext login (ssl = required): the login works only because the gateway's
        // connection to it is TLS.
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("* LIST").contains("INBOX");
        assertThat(r.output()).as(why).doesNotContain("STARTTLS");
        assertThat(events).as(why).anyMatch(e -> e.startsWith("upstream-tls imap-out TLSv1."));
    }

    @Test
    void plaintextCurlThroughImplicitTlsToDovecotImaps() {
        Peers.CommandResult r = curl("imap://127.0.0.1:" + imapsPort + "/");
        String why = "curl imap (plaintext) → gateway → implicit TLS → Dovecot IMAPS:\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("INBOX");
        assertThat(events).as(why).anyMatch(e -> e.startsWith("upstream-tls imap-to-imaps TLSv1."));
    }

    @Test
    void plaintextCurlReadsPop3OverTheGatewaysStls() {
        Peers.CommandResult r = curl("pop3://127.0.0.1:" + pop3Port + "/");
        String why = "curl pop3 (plaintext) → gateway → STLS → Dovecot POP3:\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).containsPattern("(?m)^< \\+OK");
        assertThat(r.output()).as(why).doesNotContain("STLS");
    }

    private static Peers.CommandResult swaks(int port, String from) {
        return Peers.run(
                Duration.ofSeconds(30),
                null,
                List.of(
                        "swaks",
                        "--server",
                        "127.0.0.1",
                        "--port",
                        String.valueOf(port),
                        "--helo",
                        "client.example.org",
                        "--from",
                        from,
                        "--to",
                        "b@example.org",
                        "--header",
                        "Subject: originated by the optls gateway",
                        "--timeout",
                        "10"));
    }

    private static Peers.CommandResult curl(String url) {
        return Peers.run(
                Duration.ofSeconds(30),
                null,
                List.of("curl", "-sS", "-v", "-u", DovecotServer.USER + ":" + DovecotServer.PASSWORD, url));
    }
}
