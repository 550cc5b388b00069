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
 * Real clients through the gateway to real plaintext backends: swaks to Postfix, curl to Dovecot IMAP/POP3
 * (STARTTLS and implicit TLS), openssl s_client. The backends have no TLS at all; the clients verify the
 * gateway's certificate and refuse to go on without TLS.
 */
class GatewayIT {
    private static Path dir;
    private static Path ca;
    private static PostfixServer postfix;
    private static DovecotServer dovecot;
    private static Gateway gateway;
    private static int smtpPort;
    private static int imapPort;
    private static int pop3Port;
    private static int imapsPort;
    private static final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Peers.requireCommand("swaks", "swaks");
        Peers.requireCommand("curl", "curl");
        Peers.requireCommand("openssl", "openssl");
        dir = Files.createTempDirectory("optls-gateway-it");
        TestPki pki = TestPki.create();
        pki.leaf("localhost").ipAddresses("127.0.0.1").issue().writePem(dir, "gateway");
        ca = pki.writeCaPem(dir.resolve("ca.pem"));
        dovecot = DovecotServer.builder().tls(PeerTls.NONE).start();
        // Postfix delivers b@example.org into the Dovecot user's Maildir (virtual(8), as the mail user).
        Path mailbox = dovecot.mailbox();
        postfix = PostfixServer.builder()
                .tls(PeerTls.NONE)
                .mainCf("virtual_mailbox_domains", "example.org")
                .mainCf("virtual_transport", "virtual")
                .mainCf("virtual_mailbox_base", mailbox.getParent().toString())
                .mainCf("virtual_mailbox_maps", "static:" + mailbox.getFileName() + "/")
                .mainCf("virtual_uid_maps", "static:" + Files.getAttribute(mailbox, "unix:uid"))
                .mainCf("virtual_gid_maps", "static:" + Files.getAttribute(mailbox, "unix:gid"))
                .mainCf("virtual_minimum_uid", "1")
                .start();
        smtpPort = Peers.freePort();
        imapPort = Peers.freePort();
        pop3Port = Peers.freePort();
        imapsPort = Peers.freePort();
        GatewayConfig config = ConfigLoader.load(Files.writeString(dir.resolve("gateway.toml"), """
                [[route]]
                name = "smtp"
                protocol = "smtp"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "gateway.crt"
                key = "gateway.key"
                hostname = "gateway.test"

                [[route]]
                name = "imap"
                protocol = "imap"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "gateway.crt"
                key = "gateway.key"

                [[route]]
                name = "pop3"
                protocol = "pop3"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "gateway.crt"
                key = "gateway.key"

                [[route]]
                name = "imaps"
                protocol = "imap"
                listen-tls = "implicit"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "gateway.crt"
                key = "gateway.key"
                """.formatted(
                        smtpPort,
                        postfix.port(),
                        imapPort,
                        dovecot.imapPort(),
                        pop3Port,
                        dovecot.pop3Port(),
                        imapsPort,
                        dovecot.imapPort())));
        gateway = Gateway.start(config, new Gateway.Events() {
            @Override
            public void relaying(Route route, SocketAddress client, TlsSessionInfo tls) {
                events.add("relaying " + route.name() + " " + tls.protocolVersion());
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
        if (postfix != null) {
            postfix.close();
        }
        if (dovecot != null) {
            dovecot.close();
        }
    }

    @Test
    void swaksSendsThroughTheGatewayAndCurlFetchesItThroughTheGateway() throws Exception {
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(30),
                null,
                List.of(
                        "swaks",
                        "--server",
                        "127.0.0.1",
                        "--port",
                        String.valueOf(smtpPort),
                        "--helo",
                        "client.example.org",
                        "--from",
                        "a@example.org",
                        "--to",
                        "b@example.org",
                        "--header",
                        "Subject: through the optls gateway",
                        "--tls",
                        "--tls-verify",
                        "--tls-ca-path",
                        ca.toString(),
                        "--timeout",
                        "10"));
        String why = "swaks → gateway → Postfix " + PostfixServer.version() + " (no TLS):\n" + r.output() + "\nevents: "
                + events;
        assertThat(r.exitCode()).as(why).isZero();
        List<String> lines = r.output().lines().toList();
        // The gateway greets and offers STARTTLS in plaintext ("<-"); over TLS ("<~") Postfix answers.
        assertThat(lines).as(why).anyMatch(l -> l.matches("<-\\s+250[- ]STARTTLS"));
        assertThat(lines).as(why).anyMatch(l -> l.matches("<~\\s+250[- ]PIPELINING"));
        assertThat(lines).as(why).noneMatch(l -> l.startsWith("<~") && l.contains("STARTTLS"));
        assertThat(postfix.awaitLog("from=<a@example.org>", Duration.ofSeconds(10)))
                .as(why)
                .contains("from=<a@example.org>");
        assertThat(postfix.awaitLog("status=sent (delivered to maildir)", Duration.ofSeconds(10)))
                .as(why)
                .contains("to=<b@example.org>");
        // Postfix was asked EHLO once, by swaks over TLS: the gateway only read its greeting.
        assertThat(postfix.awaitLog(" mail=1 rcpt=1 data=1 quit=1 ", Duration.ofSeconds(10)))
                .as(why)
                .contains("ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
                .doesNotContain("ehlo=2");
        // The message landed in the mailbox: curl fetches it through the IMAP and POP3 routes (TLS on the
        // client side, plaintext to Dovecot).
        Peers.CommandResult imap = curl("imap://127.0.0.1:" + imapPort + "/INBOX;UID=1");
        assertThat(imap.exitCode()).as(imap.output()).isZero();
        assertThat(imap.output()).as(imap.output()).contains("Subject: through the optls gateway");
        Peers.CommandResult pop3 = curl("pop3://127.0.0.1:" + pop3Port + "/1");
        assertThat(pop3.exitCode()).as(pop3.output()).isZero();
        assertThat(pop3.output()).as(pop3.output()).contains("Subject: through the optls gateway");
    }

    @Test
    void curlListsImapMailboxesOverStartTls() {
        Peers.CommandResult r = curl("imap://127.0.0.1:" + imapPort + "/");
        String why = "curl → gateway → Dovecot " + DovecotServer.version() + " IMAP (no TLS):\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("* LIST").contains("INBOX");
    }

    @Test
    void curlReadsPop3OverStartTls() {
        Peers.CommandResult r = curl("pop3://127.0.0.1:" + pop3Port + "/");
        String why = "curl → gateway → Dovecot " + DovecotServer.version() + " POP3 (no TLS):\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).containsPattern("(?m)^< \\+OK");
    }

    @Test
    void curlUsesTheImplicitTlsRoute() {
        Peers.CommandResult r = curl("imaps://127.0.0.1:" + imapsPort + "/");
        String why = "curl imaps → gateway → Dovecot IMAP (no TLS):\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("INBOX").contains("Dovecot");
    }

    @Test
    void openSslVerifiesTheGatewayForEachStartTlsRoute() {
        for (String[] route : new String[][] {
            {"smtp", String.valueOf(smtpPort)}, {"imap", String.valueOf(imapPort)}, {"pop3", String.valueOf(pop3Port)}
        }) {
            Peers.CommandResult r = Peers.run(
                    Duration.ofSeconds(20),
                    "",
                    List.of(
                            "openssl",
                            "s_client",
                            "-connect",
                            "127.0.0.1:" + route[1],
                            "-starttls",
                            route[0],
                            "-CAfile",
                            ca.toString(),
                            "-verify_return_error",
                            "-verify_ip",
                            "127.0.0.1",
                            "-brief"));
            String why = "openssl s_client -starttls " + route[0] + " → gateway:\n" + r.output();
            assertThat(r.output()).as(why).contains("Verification: OK");
        }
    }

    private static Peers.CommandResult curl(String url) {
        return Peers.run(
                Duration.ofSeconds(30),
                null,
                List.of(
                        "curl",
                        "-sS",
                        "-v",
                        "--ssl-reqd",
                        "--cacert",
                        ca.toString(),
                        "-u",
                        DovecotServer.USER + ":" + DovecotServer.PASSWORD,
                        url));
    }
}
