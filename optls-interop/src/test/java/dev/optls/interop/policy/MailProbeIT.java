package dev.optls.interop.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.optls.cli.ExitCodes;
import dev.optls.cli.Main;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.policy.dns.TestDnsServers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code optls probe mail DOMAIN --json} run in-process against real DNS (BIND with a test root and a signed
 * {@code probe.} zone, from optls-policy's {@link TestDnsServers}), real Postfix servers on 127.0.0.1 (one with a
 * test-PKI certificate, one without STARTTLS) and an MTA-STS policy served by the JDK's HTTPS server: DANE match for
 * a correct TLSA record, mismatch for a wrong one, STARTTLS missing under DANE, an MX not listed in an MTA-STS policy
 * in enforce mode, and {@code optls probe smtp://DOMAIN --mx}.
 */
class MailProbeIT {

    private static final String STS_POLICY = "version: STSv1\nmode: enforce\nmx: mx1.sts.probe\nmax_age: 86400\n";

    private static TestPki pki;
    private static Peers.PeerDirectory dir;
    private static PostfixServer postfix;
    private static PostfixServer plainPostfix;
    private static TestDnsServers dns;
    private static HttpsServer policyServer;
    private static Path anchors;
    private static Path caFile;

    @BeforeAll
    static void start() throws Exception {
        pki = TestPki.create();
        dir = Peers.tempDir("mail-probe");
        Credential mx =
                pki.issue("mx.dane.probe", "mx.danebad.probe", "mx.strip.probe", "mx1.sts.probe", "mx2.sts.probe");
        Credential.PemPaths pem = mx.writePem(dir.path(), "mx");
        postfix = PostfixServer.builder()
                .tls(PeerTls.OPTIONAL)
                .certificate(pem.chain(), pem.privateKey())
                .start();
        plainPostfix = PostfixServer.builder().tls(PeerTls.NONE).start();
        String good = tlsa(mx);
        String wrong = tlsa(pki.issue("mx.danebad.probe"));
        String records = String.join(
                "\n",
                "dane MX 10 mx.dane",
                "mx.dane A 127.0.0.1",
                "_25._tcp.mx.dane TLSA " + good,
                "danebad MX 10 mx.danebad",
                "mx.danebad A 127.0.0.1",
                "_25._tcp.mx.danebad TLSA " + wrong,
                "strip MX 10 mx.strip",
                "mx.strip A 127.0.0.1",
                "_25._tcp.mx.strip TLSA " + good,
                "mixed MX 10 mx1.mixed",
                "mixed MX 20 mx2.mixed",
                "mx1.mixed A 127.0.0.1",
                "mx2.mixed A 127.0.0.1",
                "_25._tcp.mx1.mixed TLSA " + good,
                "_25._tcp.mx2.mixed TLSA " + good,
                "sts MX 10 mx1.sts",
                "sts MX 20 mx2.sts",
                "mx1.sts A 127.0.0.1",
                "mx2.sts A 127.0.0.1",
                "_mta-sts.sts TXT \"v=STSv1; id=20261130T000000;\"",
                "_smtp._tls.sts TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@sts.probe\"",
                "mta-sts.sts A 127.0.0.1");
        dns = TestDnsServers.start(List.of(new TestDnsServers.Zone("probe", true, records)));
        anchors = Files.writeString(dir.resolve("anchors.txt"), dns.trustAnchorText());
        caFile = pki.writeCaPem(dir.resolve("ca.pem"));
        policyServer = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        policyServer.setHttpsConfigurator(
                new HttpsConfigurator(pki.issue("mta-sts.sts.probe").serverContext()));
        policyServer.createContext("/.well-known/mta-sts.txt", exchange -> {
            byte[] body = STS_POLICY.getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        policyServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (policyServer != null) {
            policyServer.stop(0);
        }
        if (dns != null) {
            dns.close();
        }
        for (PostfixServer p : new PostfixServer[] {postfix, plainPostfix}) {
            if (p != null) {
                p.close();
            }
        }
        if (dir != null) {
            dir.close();
        }
    }

    private static String tlsa(Credential credential) throws Exception {
        byte[] spki = credential.certificate().getPublicKey().getEncoded();
        return "3 1 1 "
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(spki));
    }

    /** One CLI run: exit code, the JSON (null for text), and stdout followed by stderr. */
    record Run(int exitCode, JsonNode json, String output) {}

    private static Run probe(String... extra) throws Exception {
        return run(true, extra);
    }

    private static Run run(boolean asJson, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(extra));
        args.addAll(List.of(
                "--dns",
                "127.0.0.1:" + dns.recursive().getPort(),
                "--dnssec-anchors",
                anchors.toString(),
                "--ca",
                caFile.toString(),
                "--timeout",
                "10"));
        if (asJson) {
            args.add("--json");
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args.toArray(new String[0]));
        System.out.println("optls " + String.join(" ", args) + " -> " + code + "\n" + out + err);
        return new Run(code, asJson ? new ObjectMapper().readTree(out.toString()) : null, out + err.toString());
    }

    private static Run probeMail(String domain, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("probe", "mail", domain, "--port", String.valueOf(postfix.port())));
        args.addAll(List.of(extra));
        return probe(args.toArray(new String[0]));
    }

    @Test
    void daneWithAMatchingTlsaRecordIsSecure() throws Exception {
        Run run = probeMail("dane.probe");
        JsonNode json = run.json();
        assertThat(json.at("/verdict/status").asText()).isEqualTo("secure");
        assertThat(json.at("/verdict/reason").asText()).isEqualTo("DANE: all MX authenticated");
        assertThat(json.at("/policy/source").asText()).isEqualTo("dane");
        assertThat(json.at("/mx/dnssec").asText()).isEqualTo("secure");
        JsonNode host = json.at("/mx/hosts/0");
        assertThat(host.at("/host").asText()).isEqualTo("mx.dane.probe");
        assertThat(host.at("/requirement").asText()).isEqualTo("dane");
        assertThat(host.at("/addresses/0/address").asText()).isEqualTo("127.0.0.1");
        assertThat(host.at("/addresses/0/dnssec").asText()).isEqualTo("secure");
        assertThat(host.at("/starttls").asText()).isEqualTo("offered");
        assertThat(host.at("/tls/version").asText()).startsWith("TLSv1.");
        assertThat(host.at("/certificate/sans").toString()).contains("DNS:mx.dane.probe");
        assertThat(host.at("/pkix/chainValid").asBoolean()).isTrue();
        assertThat(host.at("/dane/outcome").asText()).isEqualTo("required");
        assertThat(host.at("/dane/dnssec").asText()).isEqualTo("secure");
        assertThat(host.at("/dane/tlsaName").asText()).isEqualTo("_25._tcp.mx.dane.probe");
        assertThat(host.at("/dane/records/0/match").asText()).isEqualTo("match");
        assertThat(host.at("/dane/authenticated").asBoolean()).isTrue();
        assertThat(json.at("/mtaSts/reason").asText()).contains("DANE covers every MX host");
        assertThat(json.at("/tlsRpt/record").asText()).isEqualTo("absent");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        assertThat(run.output()).contains("connecting to mx.dane.probe [127.0.0.1]:" + postfix.port());
    }

    @Test
    void theTextReportShowsTheSameForPeople() throws Exception {
        Run run = run(false, "probe", "mail", "dane.probe", "--port", String.valueOf(postfix.port()));
        assertThat(run.output())
                .contains("dane.probe  (mail domain)")
                .contains("  MX             records, DNSSEC secure\n")
                .contains("  10 mx.dane.probe  [dane]\n")
                .contains("    STARTTLS     offered at 127.0.0.1\n")
                .contains("    DANE         required, authenticated\n")
                .contains("        match    3 1 1 ")
                .contains("  verdict        secure: DANE: all MX authenticated\n");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
    }

    @Test
    void aWrongTlsaRecordIsAMismatchAndMailWouldBeDeferred() throws Exception {
        Run run = probeMail("danebad.probe");
        JsonNode json = run.json();
        JsonNode host = json.at("/mx/hosts/0");
        assertThat(host.at("/dane/records/0/match").asText()).isEqualTo("no-match");
        assertThat(host.at("/dane/records/0/detail").asText()).contains("does not match");
        assertThat(host.at("/dane/authenticated").asBoolean()).isFalse();
        assertThat(json.at("/verdict/status").asText()).isEqualTo("fail");
        assertThat(json.at("/verdict/reason").asText())
                .startsWith("DANE: the certificate of mx.danebad.probe matches no TLSA record")
                .contains("deferred");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.MAIL_FAILED);
    }

    @Test
    void starttlsMissingWhileDaneRequiresItFails() throws Exception {
        Run run = probeMail("strip.probe", "--port", "mx.strip.probe=" + plainPostfix.port());
        JsonNode json = run.json();
        JsonNode host = json.at("/mx/hosts/0");
        assertThat(host.at("/starttls").asText()).isEqualTo("not-offered");
        assertThat(host.at("/dane/records/0/match").asText()).isEqualTo("not-probed");
        assertThat(json.at("/verdict/status").asText()).isEqualTo("fail");
        assertThat(json.at("/verdict/reason").asText())
                .contains("STARTTLS stripped on mx.strip.probe while DANE requires it");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.MAIL_FAILED);
    }

    @Test
    void oneMxStrippedUnderDaneDegradesTheDomain() throws Exception {
        Run run = probeMail("mixed.probe", "--port", "mx1.mixed.probe=" + plainPostfix.port());
        JsonNode json = run.json();
        assertThat(json.at("/mx/hosts/0/starttls").asText()).isEqualTo("not-offered");
        assertThat(json.at("/mx/hosts/0/verdict/status").asText()).isEqualTo("fail");
        assertThat(json.at("/mx/hosts/1/dane/authenticated").asBoolean()).isTrue();
        assertThat(json.at("/verdict/status").asText()).isEqualTo("degraded");
        assertThat(json.at("/verdict/reason").asText())
                .isEqualTo("DANE: STARTTLS stripped on mx1.mixed.probe while DANE requires it; mail goes to the other 1"
                        + " MX host(s)");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.MAIL_DEGRADED);
    }

    @Test
    void anMxNotListedInAnEnforcedMtaStsPolicyDegradesTheDomain() throws Exception {
        Run run = probeMail(
                "sts.probe",
                "--mta-sts-ca",
                caFile.toString(),
                "--testing-mta-sts-port",
                "mta-sts.sts.probe=" + policyServer.getAddress().getPort());
        JsonNode json = run.json();
        assertThat(json.at("/policy/source").asText()).isEqualTo("mta-sts-enforce");
        assertThat(json.at("/mtaSts/record").asText()).isEqualTo("valid");
        assertThat(json.at("/mtaSts/id").asText()).isEqualTo("20261130T000000");
        assertThat(json.at("/mtaSts/mode").asText()).isEqualTo("enforce");
        assertThat(json.at("/mtaSts/policy").asText()).isEqualTo(STS_POLICY);
        assertThat(json.at("/mtaSts/mx/0").asText()).isEqualTo("mx1.sts.probe");
        assertThat(json.at("/mx/hosts/0/host").asText()).isEqualTo("mx1.sts.probe");
        assertThat(json.at("/mx/hosts/0/stsListed").asBoolean()).isTrue();
        assertThat(json.at("/mx/hosts/0/verdict/status").asText()).isEqualTo("ok");
        assertThat(json.at("/mx/hosts/1/stsListed").asBoolean()).isFalse();
        assertThat(json.at("/mx/hosts/1/requirement").asText()).isEqualTo("skip");
        assertThat(json.at("/tlsRpt/record").asText()).isEqualTo("valid");
        assertThat(json.at("/tlsRpt/rua/0").asText()).isEqualTo("mailto:tlsrpt@sts.probe");
        assertThat(json.at("/verdict/status").asText()).isEqualTo("degraded");
        assertThat(json.at("/verdict/reason").asText()).startsWith("MTA-STS enforce: mx2.sts.probe not listed");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.MAIL_DEGRADED);
    }

    @Test
    void mxExpansionProbesEachMxHostWithoutThePolicyPart() throws Exception {
        Run run = probe("probe", "smtp://sts.probe:" + postfix.port(), "--mx", "--level", "verify");
        JsonNode json = run.json();
        assertThat(json.at("/mx/hosts")).hasSize(2);
        assertThat(json.at("/mx/hosts/1/host").asText()).isEqualTo("mx2.sts.probe");
        assertThat(json.at("/mx/hosts/1/pkix/nameMatches").asBoolean()).isTrue();
        assertThat(json.has("mtaSts")).isFalse();
        assertThat(json.has("policy")).isFalse();
        assertThat(json.at("/verdict/status").asText()).isEqualTo("ok");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
    }
}
