package dev.optls.interop.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real Postfix sends mail with {@code smtp_tls_policy_maps = socketmap:inet:127.0.0.1:PORT:postfix} pointing at
 * {@code optls policy serve} (the command, as a process, with an SQLite MTA-STS cache), to real Postfix receivers on
 * loopback. Postfix resolves MX and TLSA records through a validating BIND on 127.0.0.1:53 (it runs in a mount
 * namespace with its own resolv.conf, see {@link MailPolicyWorld}) and does DANE itself ({@code
 * smtp_dns_support_level = dnssec}). Good DANE and MTA-STS domains are delivered over verified TLS; the same policies
 * with an MX that does not offer STARTTLS are deferred; DANE with a TLSA record for another key is deferred; a domain
 * with both DANE and MTA-STS gets DANE.
 *
 * <p>The receivers listen on high ports: the sender's transport map sends {@code d} to {@code smtp:d:PORT} (MX lookup
 * kept), so Postfix asks the service with the key {@code d:PORT}, and the world publishes TLSA records at {@code
 * _PORT._tcp} only: where Postfix looks, and where the service must look to answer {@code dane-only}. Two addresses
 * go to a
 * bracketed relay host ({@code smtp:[mx.d]:PORT}, no MX lookup): the service then answers from the host's own TLSA
 * records at {@code _PORT._tcp}; a third goes to a relay host without TLSA records that has a local rule.
 */
class PostfixThroughPolicyServiceIT {

    private static final String STS_POLICY = """
            version: STSv1
            mode: enforce
            mx: mx.sts-ok.test
            mx: *.sts-notls.test
            max_age: 86400
            """;

    private static Peers.PeerDirectory files;
    private static MailPolicyWorld world;
    private static PostfixServer withTls;
    private static PostfixServer withoutTls;
    private static PostfixServer sender;
    private static PolicyServeProcess service;

    @BeforeAll
    static void start() throws IOException {
        Peers.requireRoot();
        Peers.requireCommand("postfix");
        TestPki pki = TestPki.create();
        files = Peers.tempDir("policy-it");
        Credential mx =
                pki.leaf("mx.dane-ok.test", "mx.sts-ok.test", "mx.both.test").issue();
        Credential.PemPaths pem = mx.writePem(files.path(), "mx");
        withTls = PostfixServer.builder()
                .tls(PeerTls.OPTIONAL)
                .certificate(pem.chain(), pem.privateKey())
                .start();
        withoutTls = PostfixServer.builder().tls(PeerTls.NONE).start();

        world = MailPolicyWorld.builder(pki)
                .dane("dane-ok.test", mx.certificate(), withTls.port())
                .dane("dane-notls.test", mx.certificate(), withoutTls.port())
                .dane("dane-wrongkey.test", pki.leaf("other.test").issue().certificate(), withTls.port())
                .mtaSts("sts-ok.test", STS_POLICY)
                .mtaSts("sts-notls.test", STS_POLICY)
                // The policy does not even list the MX: were MTA-STS applied, nothing would be delivered.
                .daneAndMtaSts(
                        "both.test",
                        mx.certificate(),
                        STS_POLICY.replace("mx.sts-ok.test", "nowhere.both.test"),
                        withTls.port())
                // Signed, no TLSA records, no MTA-STS: only the local dane-only rule below makes it strict.
                .plain("daneonly.test")
                .start();

        // The real command, as an operator runs it.
        Path localRules = files.write(
                "tls-policy", "daneonly.test dane-only\n" + "[mx.daneonly.test]:" + withoutTls.port() + " encrypt\n");
        service = PolicyServeProcess.start(
                world, "sqlite:" + files.resolve("mta-sts.sqlite"), "--local-policies", localRules.toString());
        int servicePort = service.port();

        StringBuilder transport = new StringBuilder();
        for (String d : List.of("dane-ok.test", "dane-wrongkey.test", "sts-ok.test", "both.test", "daneonly.test")) {
            transport
                    .append(d)
                    .append(" smtp:")
                    .append(d)
                    .append(':')
                    .append(withTls.port())
                    .append('\n');
        }
        for (String d : List.of("dane-notls.test", "sts-notls.test")) {
            transport
                    .append(d)
                    .append(" smtp:")
                    .append(d)
                    .append(':')
                    .append(withoutTls.port())
                    .append('\n');
        }
        // A relay host as Postfix users configure it: a bracketed next hop, no MX lookup (the service answers from the
        // TLSA records at _PORT._tcp of the host itself).
        for (String d : List.of("dane-ok.test", "dane-wrongkey.test")) {
            transport
                    .append("relay@")
                    .append(d)
                    .append(" smtp:[mx.")
                    .append(d)
                    .append("]:")
                    .append(withTls.port())
                    .append('\n');
        }
        // A relay host with a local rule (encrypt) and no STARTTLS.
        transport
                .append("relay@daneonly.test smtp:[mx.daneonly.test]:")
                .append(withoutTls.port())
                .append('\n');
        Path transportFile = files.write("transport", transport.toString());
        sender = PostfixServer.builder()
                .tls(PeerTls.NONE)
                .resolvConf(world.resolvConf())
                .mainCf("transport_maps", "texthash:" + transportFile)
                .mainCf("smtp_tls_policy_maps", "socketmap:inet:" + Peers.LOOPBACK + ":" + servicePort + ":postfix")
                .mainCf("smtp_dns_support_level", "dnssec")
                .mainCf("smtp_tls_security_level", "may")
                .mainCf("smtp_tls_CAfile", world.caPem().toString())
                .mainCf("smtp_tls_loglevel", "1")
                .mainCf("smtp_connect_timeout", "5s")
                .mainCf("smtp_helo_name", "sender.test")
                .mainCf("smtp_address_preference", "ipv4")
                .start();
    }

    @AfterAll
    static void stop() {
        Peers.closeAll(service, sender, withTls, withoutTls, world, files);
    }

    @Test
    void daneDomainIsDeliveredWithAVerifiedDaneSession() throws IOException {
        String id = send("dane-ok.test");
        String log = sender.awaitLog("to=<user@dane-ok.test>", Duration.ofSeconds(30));
        // Postfix asks with its next hop: domain:port from the transport map.
        assertThat(answer("dane-ok.test:" + withTls.port())).isEqualTo("OK dane-only");
        assertThat(log).contains("Verified TLS connection established to mx.dane-ok.test[127.0.0.1]:" + withTls.port());
        assertThat(lineOf(log, "to=<user@dane-ok.test>")).contains("status=sent");
        withTls.awaitLog(id, Duration.ofSeconds(30));
    }

    @Test
    void daneDomainWhoseMxOffersNoStarttlsIsDeferred() throws IOException {
        send("dane-notls.test");
        String log = sender.awaitLog("to=<user@dane-notls.test>", Duration.ofSeconds(30));
        assertThat(answer("dane-notls.test:" + withoutTls.port())).isEqualTo("OK dane-only");
        assertThat(log).contains("TLS is required, but was not offered by host mx.dane-notls.test[127.0.0.1]");
        assertThat(lineOf(log, "to=<user@dane-notls.test>")).contains("status=deferred");
        assertThat(sender.queue()).contains("user@dane-notls.test").contains("TLS is required, but was not offered");
        assertThat(withoutTls.log()).doesNotContain("user@dane-notls.test");
    }

    @Test
    void daneDomainWhoseTlsaRecordsDoNotMatchTheCertificateIsDeferred() throws IOException {
        // Postfix itself matched the TLSA records it resolved (the AD bit reached it through glibc): the MX offers
        // STARTTLS with a certificate the test CA issued, but not the key the TLSA record names.
        send("dane-wrongkey.test");
        String log = sender.awaitLog("to=<user@dane-wrongkey.test>", Duration.ofSeconds(30));
        assertThat(answer("dane-wrongkey.test:" + withTls.port())).isEqualTo("OK dane-only");
        assertThat(log).contains("Untrusted TLS connection established to mx.dane-wrongkey.test[127.0.0.1]");
        assertThat(lineOf(log, "to=<user@dane-wrongkey.test>"))
                .contains("status=deferred")
                .contains("Server certificate not verified");
        assertThat(sender.queue()).contains("user@dane-wrongkey.test");
    }

    @Test
    void mtaStsEnforceDomainIsDeliveredWithAVerifiedSession() throws IOException {
        String id = send("sts-ok.test");
        String log = sender.awaitLog("to=<user@sts-ok.test>", Duration.ofSeconds(30));
        assertThat(answer("sts-ok.test:" + withTls.port()))
                .isEqualTo("OK secure match=mx.sts-ok.test:.sts-notls.test servername=hostname");
        assertThat(log).contains("Verified TLS connection established to mx.sts-ok.test[127.0.0.1]:" + withTls.port());
        assertThat(lineOf(log, "to=<user@sts-ok.test>")).contains("status=sent");
        withTls.awaitLog(id, Duration.ofSeconds(30));
    }

    @Test
    void mtaStsEnforceDomainWhoseMxOffersNoStarttlsIsDeferred() throws IOException {
        send("sts-notls.test");
        String log = sender.awaitLog("to=<user@sts-notls.test>", Duration.ofSeconds(30));
        assertThat(answer("sts-notls.test:" + withoutTls.port()))
                .isEqualTo("OK secure match=mx.sts-ok.test:.sts-notls.test servername=hostname");
        assertThat(log).contains("TLS is required, but was not offered by host mx.sts-notls.test[127.0.0.1]");
        assertThat(lineOf(log, "to=<user@sts-notls.test>")).contains("status=deferred");
        assertThat(sender.queue()).contains("user@sts-notls.test");
        assertThat(withoutTls.log()).doesNotContain("user@sts-notls.test");
    }

    @Test
    void aBracketedRelayHostGetsDaneFromItsOwnTlsaRecords() throws IOException {
        String id = send("relay", "dane-ok.test");
        String log = sender.awaitLog("to=<relay@dane-ok.test>", Duration.ofSeconds(30));
        assertThat(answer("[mx.dane-ok.test]:" + withTls.port())).isEqualTo("OK dane-only");
        assertThat(log).contains("Verified TLS connection established to mx.dane-ok.test[127.0.0.1]:" + withTls.port());
        assertThat(lineOf(log, "to=<relay@dane-ok.test>")).contains("status=sent");
        withTls.awaitLog(id, Duration.ofSeconds(30));
    }

    @Test
    void aBracketedRelayHostWhoseTlsaRecordsDoNotMatchIsDeferred() throws IOException {
        // Without the service's answer Postfix would send at its smtp_tls_security_level (may): unauthenticated TLS.
        send("relay", "dane-wrongkey.test");
        String log = sender.awaitLog("to=<relay@dane-wrongkey.test>", Duration.ofSeconds(30));
        assertThat(answer("[mx.dane-wrongkey.test]:" + withTls.port())).isEqualTo("OK dane-only");
        assertThat(lineOf(log, "to=<relay@dane-wrongkey.test>"))
                .contains("status=deferred")
                .contains("Server certificate not verified");
        assertThat(sender.queue()).contains("relay@dane-wrongkey.test");
    }

    @Test
    void aLocalRuleForARelayHostThatOffersNoStarttlsDefersTheMail() throws IOException {
        // The relay host has no TLSA records: the rule "[mx.daneonly.test]:PORT encrypt" applies. Without it Postfix
        // would send at its own level (may), in plaintext.
        send("relay", "daneonly.test");
        String log = sender.awaitLog("to=<relay@daneonly.test>", Duration.ofSeconds(30));
        assertThat(answer("[mx.daneonly.test]:" + withoutTls.port())).isEqualTo("OK encrypt");
        assertThat(log).contains("TLS is required, but was not offered by host mx.daneonly.test[127.0.0.1]");
        assertThat(lineOf(log, "to=<relay@daneonly.test>")).contains("status=deferred");
        assertThat(sender.queue()).contains("relay@daneonly.test");
        assertThat(withoutTls.log()).doesNotContain("relay@daneonly.test");
    }

    @Test
    void aLocalDaneOnlyRuleDefersADomainWithoutTlsaRecords() throws IOException {
        // The MX offers STARTTLS with a certificate from the test CA: at Postfix's own level (may) this would be sent.
        send("daneonly.test");
        String log = sender.awaitLog("to=<user@daneonly.test>", Duration.ofSeconds(30));
        assertThat(answer("daneonly.test:" + withTls.port()))
                .startsWith("TEMP ")
                .contains("local policy dane-only");
        assertThat(lineOf(log, "to=<user@daneonly.test>")).contains("status=deferred");
        assertThat(sender.queue()).contains("user@daneonly.test");
        assertThat(withTls.log()).doesNotContain("user@daneonly.test");
    }

    @Test
    void daneRanksAboveMtaSts() throws IOException {
        // postfix-mta-sts-resolver answers "secure match=…" here; RFC 8461 §2 says DANE takes precedence.
        String id = send("both.test");
        String log = sender.awaitLog("to=<user@both.test>", Duration.ofSeconds(30));
        assertThat(answer("both.test:" + withTls.port())).isEqualTo("OK dane-only");
        assertThat(log).contains("Verified TLS connection established to mx.both.test[127.0.0.1]:" + withTls.port());
        assertThat(lineOf(log, "to=<user@both.test>")).contains("status=sent");
        withTls.awaitLog(id, Duration.ofSeconds(30));
    }

    /** The reply the service logged for {@code key} (its debug line per answer), waiting for it. */
    private static String answer(String key) {
        String line = service.awaitLog("key=\"" + key + "\" reply=");
        return line.replaceAll(".* reply=\"([^\"]*)\".*", "$1");
    }

    private static String lineOf(String log, String text) {
        return log.lines().filter(l -> l.contains(text)).reduce((a, b) -> b).orElse("");
    }

    /** Submits a message for user@{@code domain} to the sender over SMTP; returns its unique Message-ID text. */
    private static String send(String domain) throws IOException {
        return send("user", domain);
    }

    /** Submits a message for {@code local}@{@code domain}; returns its unique Message-ID text. */
    private static String send(String local, String domain) throws IOException {
        String id = "optls-" + local + "-" + domain + "-" + System.nanoTime();
        try (Socket s = new Socket(sender.host(), sender.port())) {
            s.setSoTimeout(30_000);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            expect(in, "220");
            command(out, in, "EHLO client.test", "250");
            command(out, in, "MAIL FROM:<sender@sender.test>", "250");
            command(out, in, "RCPT TO:<" + local + "@" + domain + ">", "250");
            command(out, in, "DATA", "354");
            command(
                    out,
                    in,
                    "From: <sender@sender.test>\r\nTo: <" + local + "@" + domain + ">\r\nSubject: policy test\r\n"
                            + "Message-ID: <" + id + "@sender.test>\r\n\r\nhello\r\n.",
                    "250");
            command(out, in, "QUIT", "221");
        }
        return id;
    }

    private static void command(OutputStream out, BufferedReader in, String line, String code) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        expect(in, code);
    }

    private static void expect(BufferedReader in, String code) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("the sender closed the connection, expected " + code);
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        assertThat(line).startsWith(code);
    }
}
