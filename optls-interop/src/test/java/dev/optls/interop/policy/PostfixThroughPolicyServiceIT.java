package dev.optls.interop.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.policy.dns.DnsConfig;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.engine.PolicyEngine;
import dev.optls.policy.postfix.PolicyService;
import dev.optls.policy.postfix.PostfixPolicy;
import dev.optls.policy.postfix.SocketmapReply;
import dev.optls.policy.postfix.SocketmapServer;
import dev.optls.policy.sts.HttpsPolicyFetcher;
import dev.optls.policy.sts.InMemoryPolicyCache;
import dev.optls.policy.sts.MtaStsResolver;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real Postfix sends mail with {@code smtp_tls_policy_maps = socketmap:inet:127.0.0.1:PORT:postfix} pointing at
 * optls's policy service, to real Postfix receivers on loopback, resolving MX and TLSA records through a validating
 * BIND on port 53 (Postfix runs in a mount namespace with its own resolv.conf, see {@link MailPolicyWorld}) and doing
 * DANE itself ({@code smtp_dns_support_level = dnssec}). A good DANE domain and a good MTA-STS domain are delivered;
 * the same policies with an MX that does not offer STARTTLS are deferred.
 */
class PostfixThroughPolicyServiceIT {

    private static final String STS_POLICY = """
            version: STSv1
            mode: enforce
            mx: mx.sts-ok.test
            mx: *.sts-notls.test
            max_age: 86400
            """;

    private static Peers.PeerDirectory certs;
    private static MailPolicyWorld world;
    private static PostfixServer withTls;
    private static PostfixServer withoutTls;
    private static PostfixServer sender;
    private static SocketmapServer service;
    private static final List<String> answers = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        Peers.requireRoot();
        Peers.requireCommand("postfix");
        TestPki pki = TestPki.create();
        certs = Peers.tempDir("policy-certs");
        Credential mx = pki.leaf("mx.dane-ok.test", "mx.sts-ok.test").issue();
        Credential.PemPaths pem = mx.writePem(certs.path(), "mx");
        withTls = PostfixServer.builder()
                .tls(PeerTls.OPTIONAL)
                .certificate(pem.chain(), pem.privateKey())
                .start();
        withoutTls = PostfixServer.builder().tls(PeerTls.NONE).start();

        world = MailPolicyWorld.builder(pki)
                .dane("dane-ok.test", mx.certificate(), 25, withTls.port())
                .dane("dane-notls.test", mx.certificate(), 25, withoutTls.port())
                .dane("dane-wrongkey.test", pki.leaf("other.test").issue().certificate(), 25, withTls.port())
                .mtaSts("sts-ok.test", STS_POLICY)
                .mtaSts("sts-notls.test", STS_POLICY.replace("mx.sts-ok.test", "mx.sts-ok.test\nmx: mx.sts-notls.test"))
                .start();

        DnsResolver dns =
                DnsResolver.trustingAdBitFrom(DnsConfig.of(world.resolver()).withTimeout(Duration.ofSeconds(5)));
        HttpsPolicyFetcher.Builder fetcher =
                HttpsPolicyFetcher.builder().trustAnchors(dev.optls.tls.TrustAnchors.fromPemFile(world.caPem()));
        world.httpsPorts().forEach(fetcher::connectToLoopback);
        PolicyEngine engine = PolicyEngine.builder(dns)
                .mtaSts(new MtaStsResolver(dns, fetcher.build(), new InMemoryPolicyCache()))
                .build();
        PolicyService policy = new PolicyService(
                engine,
                Set.of("postfix"),
                PostfixPolicy.Options.defaults(),
                Duration.ofSeconds(60),
                Duration.ofSeconds(10),
                1000,
                Clock.systemUTC());
        service = SocketmapServer.start(
                new InetSocketAddress(Peers.LOOPBACK, 0),
                policy,
                SocketmapServer.Settings.defaults(),
                new SocketmapServer.Listener() {
                    @Override
                    public void answered(
                            SocketAddress client, String mapName, String key, SocketmapReply reply, long nanos) {
                        answers.add(mapName + " " + key + " -> " + reply.wire());
                    }
                });

        String transport = "dane-ok.test smtp:dane-ok.test:" + withTls.port() + "\n"
                + "dane-notls.test smtp:dane-notls.test:" + withoutTls.port() + "\n"
                + "dane-wrongkey.test smtp:dane-wrongkey.test:" + withTls.port() + "\n"
                + "sts-ok.test smtp:sts-ok.test:" + withTls.port() + "\n"
                + "sts-notls.test smtp:sts-notls.test:" + withoutTls.port() + "\n";
        java.nio.file.Path transportFile = certs.write("transport", transport);
        sender = PostfixServer.builder()
                .tls(PeerTls.NONE)
                .resolvConf(world.resolvConf())
                .mainCf("transport_maps", "texthash:" + transportFile)
                .mainCf(
                        "smtp_tls_policy_maps",
                        "socketmap:inet:" + Peers.LOOPBACK + ":"
                                + service.address().getPort() + ":postfix")
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
        for (AutoCloseable c : new AutoCloseable[] {sender, service, withTls, withoutTls, world, certs}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("cannot close " + c + ": " + e);
                }
            }
        }
    }

    @Test
    void daneDomainIsDeliveredWithAVerifiedDaneSession() throws IOException {
        String id = send("dane-ok.test");
        String log = sender.awaitLog("to=<user@dane-ok.test>", Duration.ofSeconds(30));
        // Postfix asks with its next hop, domain:port from the transport map.
        assertThat(answers).contains("postfix dane-ok.test:" + withTls.port() + " -> OK dane-only");
        assertThat(log).contains("Verified TLS connection established to mx.dane-ok.test[127.0.0.1]:" + withTls.port());
        assertThat(sender.awaitLog("status=sent", Duration.ofSeconds(30))).contains("to=<user@dane-ok.test>");
        withTls.awaitLog(id, Duration.ofSeconds(30));
    }

    @Test
    void daneDomainWhoseMxOffersNoStarttlsIsDeferred() throws IOException {
        send("dane-notls.test");
        String log = sender.awaitLog("to=<user@dane-notls.test>", Duration.ofSeconds(30));
        assertThat(answers).contains("postfix dane-notls.test:" + withoutTls.port() + " -> OK dane-only");
        assertThat(log).contains("TLS is required, but was not offered by host mx.dane-notls.test[127.0.0.1]");
        assertThat(lineOf(log, "to=<user@dane-notls.test>")).contains("status=deferred");
        assertThat(sender.queue()).contains("user@dane-notls.test").contains("TLS is required, but was not offered");
        assertThat(withoutTls.log()).doesNotContain("user@dane-notls.test");
    }

    @Test
    void daneDomainWhoseTlsaRecordsDoNotMatchTheCertificateIsDeferred() throws IOException {
        // Proves that Postfix itself matched the TLSA records it resolved (AD bit through glibc from the world's
        // validating resolver): the MX offers STARTTLS with a certificate the test CA issued, but not the key the
        // TLSA record names.
        send("dane-wrongkey.test");
        String log = sender.awaitLog("to=<user@dane-wrongkey.test>", Duration.ofSeconds(30));
        assertThat(answers).contains("postfix dane-wrongkey.test:" + withTls.port() + " -> OK dane-only");
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
        assertThat(answers)
                .contains("postfix sts-ok.test:" + withTls.port()
                        + " -> OK secure match=mx.sts-ok.test:.sts-notls.test servername=hostname");
        assertThat(log).contains("Verified TLS connection established to mx.sts-ok.test[127.0.0.1]:" + withTls.port());
        assertThat(lineOf(log, "to=<user@sts-ok.test>")).contains("status=sent");
        withTls.awaitLog(id, Duration.ofSeconds(30));
    }

    @Test
    void mtaStsEnforceDomainWhoseMxOffersNoStarttlsIsDeferred() throws IOException {
        send("sts-notls.test");
        String log = sender.awaitLog("to=<user@sts-notls.test>", Duration.ofSeconds(30));
        assertThat(answers)
                .contains("postfix sts-notls.test:" + withoutTls.port()
                        + " -> OK secure match=mx.sts-ok.test:mx.sts-notls.test:.sts-notls.test servername=hostname");
        assertThat(log).contains("TLS is required, but was not offered by host mx.sts-notls.test[127.0.0.1]");
        assertThat(lineOf(log, "to=<user@sts-notls.test>")).contains("status=deferred");
        assertThat(sender.queue()).contains("user@sts-notls.test");
        assertThat(withoutTls.log()).doesNotContain("user@sts-notls.test");
    }

    private static String lineOf(String log, String text) {
        return log.lines().filter(l -> l.contains(text)).reduce((a, b) -> b).orElse("");
    }

    /** Submits a message for user@{@code domain} to the sender over SMTP; returns its unique Message-ID text. */
    private static String send(String domain) throws IOException {
        String id = "optls-" + domain + "-" + System.nanoTime();
        try (Socket s = new Socket(sender.host(), sender.port())) {
            s.setSoTimeout(30_000);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            expect(in, "220");
            command(out, in, "EHLO client.test", "250");
            command(out, in, "MAIL FROM:<sender@sender.test>", "250");
            command(out, in, "RCPT TO:<user@" + domain + ">", "250");
            command(out, in, "DATA", "354");
            command(
                    out,
                    in,
                    "From: <sender@sender.test>\r\nTo: <user@" + domain + ">\r\nSubject: policy test\r\n"
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
