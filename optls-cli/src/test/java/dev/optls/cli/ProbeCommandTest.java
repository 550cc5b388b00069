package dev.optls.cli;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.optls.core.Protocol;
import dev.optls.testkit.ClosedPort;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class ProbeCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static DemoServers demo;
    private static Path ca;

    @BeforeAll
    static void startServers() throws IOException {
        demo = DemoServers.start();
        ca = demo.writeCa(dir.resolve("ca.pem"));
    }

    @AfterAll
    static void stopServers() {
        demo.close();
    }

    /** A loopback port where connections are refused, held for the test (see {@link ClosedPort}). */
    private final ClosedPort refusing = ClosedPort.open();

    @AfterEach
    void releasePort() {
        refusing.close();
    }

    private static String uri(Protocol protocol, DemoServers.Kind kind) {
        return demo.servers().stream()
                .filter(s -> s.protocol() == protocol && s.kind() == kind)
                .findFirst()
                .orElseThrow()
                .uri();
    }

    private static CliRun probe(String uri, String... options) {
        List<String> args = new ArrayList<>(List.of("probe", uri, "--timeout", "10"));
        args.addAll(List.of(options));
        return CliRun.of(args.toArray(new String[0]));
    }

    private static JsonNode json(CliRun run) throws IOException {
        assertThat(run.out().lines().count())
                .as("--json prints one line: %s", run.out())
                .isEqualTo(1);
        JsonNode node = JSON.readTree(run.out());
        assertThat(node.isObject()).isTrue();
        return node;
    }

    private static List<String> strings(JsonNode array) {
        assertThat(array.isArray()).as("%s is an array", array).isTrue();
        List<String> list = new ArrayList<>();
        array.forEach(n -> list.add(n.asText()));
        return list;
    }

    // --- TLS at verify -------------------------------------------------------------------------------

    @Test
    void jsonReportAtVerifyDescribesTheConnection() throws Exception {
        String uri = uri(Protocol.SMTP, DemoServers.Kind.STARTTLS);

        CliRun run = probe(uri, "--level", "verify", "--ca", ca.toString(), "--servername", "localhost", "--json");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
        assertThat(run.err()).isEmpty();
        JsonNode r = json(run);
        assertThat(r.get("target").asText()).isEqualTo(uri);
        assertThat(r.get("protocol").asText()).isEqualTo("smtp");
        assertThat(r.get("host").asText()).isEqualTo("127.0.0.1");
        assertThat(r.get("port").asInt()).isEqualTo(Target.parse(uri).port());
        assertThat(r.get("level").asText()).isEqualTo("verify");
        assertThat(r.get("outcome").asText()).isEqualTo("tls");
        assertThat(r.get("satisfied").asBoolean()).isTrue();
        assertThat(r.get("greeting").asText()).contains("localhost");

        List<String> before = strings(r.at("/capabilities/before"));
        List<String> after = strings(r.at("/capabilities/after"));
        assertThat(before).contains("STARTTLS", "PIPELINING").doesNotContain("AUTH PLAIN");
        assertThat(after).doesNotContain("STARTTLS").contains("AUTH PLAIN", "PIPELINING");

        assertThat(r.at("/tls/version").asText()).isIn("TLSv1.2", "TLSv1.3");
        assertThat(r.at("/tls/cipher").asText()).startsWith("TLS_");
        assertThat(r.at("/tls").has("alpn"))
                .as("no ALPN id exists for SMTP: %s", r.get("tls"))
                .isFalse();

        X509Certificate leaf = demoCertificate();
        JsonNode c = r.get("certificate");
        assertThat(c.get("subject").asText())
                .isEqualTo(leaf.getSubjectX500Principal().getName());
        assertThat(c.get("subject").asText()).contains("CN=localhost");
        assertThat(strings(c.get("sans"))).contains("DNS:localhost", "IP:127.0.0.1");
        assertThat(c.get("issuer").asText()).contains("optls demo CA");
        assertThat(Instant.parse(c.get("notAfter").asText()))
                .isEqualTo(leaf.getNotAfter().toInstant())
                .isAfter(Instant.now());
        assertThat(Instant.parse(c.get("notBefore").asText())).isBefore(Instant.now());
        assertThat(c.get("sha256").asText()).isEqualTo(sha256(leaf.getEncoded()));
        assertThat(c.get("spkiSha256").asText())
                .isEqualTo(sha256(leaf.getPublicKey().getEncoded()));
        assertThat(c.get("chainLength").asInt()).isGreaterThanOrEqualTo(1);

        JsonNode v = r.get("verification");
        assertThat(v.get("result").asText()).isEqualTo("valid");
        assertThat(v.get("chainValid").asBoolean()).isTrue();
        assertThat(v.get("nameMatches").asBoolean()).isTrue();
        assertThat(r.has("failure")).isFalse();
        assertThat(r.get("millis").asLong()).isNotNegative();
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void everyStartTlsServerVerifies(Protocol protocol) throws IOException {
        CliRun run = probe(
                uri(protocol, DemoServers.Kind.STARTTLS), "--ca", ca.toString(), "--servername", "localhost", "--json");

        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.OK);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("tls");
        assertThat(r.get("protocol").asText()).isEqualTo(protocol.scheme());
        switch (protocol) {
            case SMTP, SUBMISSION, LMTP, IMAP, POP3, SIEVE, NNTP, IRC, XMPP, XMPP_SERVER, FTP -> {
                // Protocols with a capability list: the upgrade is offered before TLS and never after.
                String upgrade = protocol == Protocol.POP3
                        ? "STLS"
                        : protocol == Protocol.IRC
                                ? "tls"
                                : protocol == Protocol.XMPP || protocol == Protocol.XMPP_SERVER
                                        ? "starttls"
                                        : protocol == Protocol.FTP ? "AUTH TLS" : "STARTTLS";
                assertThat(strings(r.at("/capabilities/before"))).contains(upgrade);
                assertThat(strings(r.at("/capabilities/after"))).isNotEmpty().doesNotContain(upgrade);
            }
            default -> {
                // PostgreSQL and LDAP ask no capability question; MySQL's offer is the CLIENT_SSL flag.
                if (protocol == Protocol.MYSQL) {
                    assertThat(strings(r.at("/capabilities/before"))).contains("CLIENT_SSL");
                }
                assertThat(strings(r.at("/capabilities/after"))).isEmpty();
            }
        }
    }

    @Test
    void ftpListRunsOverAProtectedDataChannelThatResumesTheControlSession() throws IOException {
        CliRun run = probe(
                uri(Protocol.FTP, DemoServers.Kind.STARTTLS),
                "--ca",
                ca.toString(),
                "--servername",
                "localhost",
                "--list",
                "/pub",
                "--json");

        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.OK);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("tls");
        assertThat(r.at("/listing/error").isNull()).as(r.toString()).isTrue();
        assertThat(r.at("/listing/dataTls").asBoolean()).isTrue();
        assertThat(r.at("/listing/sessionResumed").asBoolean()).isTrue();
        assertThat(r.at("/listing/closeNotify").asBoolean()).isTrue();
        assertThat(strings(r.at("/listing/lines")))
                .anySatisfy(l -> assertThat(l).endsWith(" hello.txt"));
    }

    @Test
    void ftpListAsTextOverImplicitFtps() {
        CliRun run = probe(
                uri(Protocol.FTP, DemoServers.Kind.IMPLICIT),
                "--ca",
                ca.toString(),
                "--servername",
                "localhost",
                "--list");

        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.OK);
        assertThat(run.out())
                .contains("FTP listing of the login directory as anonymous")
                .contains("control session resumed: yes")
                .contains(" pub");
    }

    @Test
    void ftpListInPlaintextAtMayWithoutTls() {
        CliRun run = probe(uri(Protocol.FTP, DemoServers.Kind.NO_STARTTLS), "--level", "may", "--list", "/pub");

        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.OK);
        assertThat(run.out()).contains("data channel: plaintext").contains("hello.txt");
    }

    @Test
    void listIsForFtpOnly() {
        CliRun run = probe(uri(Protocol.IMAP, DemoServers.Kind.STARTTLS), "--list");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("--list is for ftp:// and ftps:// only");
    }

    @ParameterizedTest
    @EnumSource(
            value = Protocol.class,
            names = {"SUBMISSION", "IMAP", "POP3", "XMPP"})
    void implicitTlsVerifies(Protocol protocol) throws IOException {
        String uri = uri(protocol, DemoServers.Kind.IMPLICIT);

        CliRun run = probe(uri, "--ca", ca.toString(), "--servername", "localhost", "--json");

        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.OK);
        JsonNode r = json(run);
        assertThat(r.get("protocol").asText())
                .isEqualTo(protocol.implicitScheme().orElseThrow());
        assertThat(r.get("outcome").asText()).isEqualTo("tls");
        assertThat(r.at("/verification/result").asText()).isEqualTo("valid");
        protocol.alpn().ifPresent(alpn -> assertThat(r.at("/tls/alpn").asText()).isEqualTo(alpn));
    }

    @Test
    void textOutputEndsWithTheOutcomeLine() {
        String uri = uri(Protocol.IMAP, DemoServers.Kind.STARTTLS);

        CliRun run = probe(uri, "--ca", ca.toString(), "--servername", "localhost");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
        assertThat(run.out()).startsWith(uri + "  (imap, level verify)");
        assertThat(run.out()).contains("before TLS", "after TLS", "certificate", "verification   valid");
        List<String> lines = run.out().lines().toList();
        assertThat(lines.get(lines.size() - 1).strip()).matches("outcome +tls \\(level verify satisfied\\)");
    }

    // --- certificate problems -------------------------------------------------------------------------

    @Test
    void wrongNameAtVerifyIsCertificateInvalid() throws IOException {
        CliRun run = probe(
                uri(Protocol.SMTP, DemoServers.Kind.STARTTLS),
                "--level",
                "verify",
                "--ca",
                ca.toString(),
                "--servername",
                "wrong.example",
                "--json");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.CERTIFICATE_INVALID);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("certificate-invalid");
        assertThat(r.get("satisfied").asBoolean()).isFalse();
        assertThat(r.at("/verification/result").asText()).isEqualTo("invalid");
        assertThat(r.at("/verification/chainValid").asBoolean()).isTrue();
        assertThat(r.at("/verification/nameMatches").asBoolean()).isFalse();
        assertThat(r.at("/failure/kind").asText()).isEqualTo("certificate-invalid");
        assertThat(r.at("/failure/detail").asText()).contains("wrong.example");
    }

    @Test
    void rejectedCertificateIsStillDescribed() throws Exception {
        // A probe exists to show why a certificate was refused: the report should describe it.
        CliRun run = probe(
                uri(Protocol.SMTP, DemoServers.Kind.STARTTLS),
                "--ca",
                ca.toString(),
                "--servername",
                "wrong.example",
                "--json");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.CERTIFICATE_INVALID);
        JsonNode r = json(run);
        assertThat(r.has("certificate"))
                .as("certificate of a chain rejected at verify: %s", r)
                .isTrue();
        assertThat(r.at("/certificate/sha256").asText())
                .isEqualTo(sha256(demoCertificate().getEncoded()));
    }

    @Test
    void wrongNameAtEncryptIsAcceptedButReported() throws IOException {
        CliRun run = probe(
                uri(Protocol.SMTP, DemoServers.Kind.STARTTLS),
                "--level",
                "encrypt",
                "--ca",
                ca.toString(),
                "--servername",
                "wrong.example",
                "--json");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("tls");
        assertThat(r.at("/verification/result").asText()).isEqualTo("invalid-not-enforced");
        assertThat(r.at("/verification/nameMatches").asBoolean()).isFalse();
        assertThat(r.has("failure")).isFalse();
    }

    @Test
    void unknownCaAtVerifyIsCertificateInvalid() throws IOException {
        // The JDK's trust store does not hold the throwaway demo CA.
        CliRun run = probe(uri(Protocol.SMTP, DemoServers.Kind.STARTTLS), "--servername", "localhost", "--json");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.CERTIFICATE_INVALID);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("certificate-invalid");
        assertThat(r.at("/verification/chainValid").asBoolean()).isFalse();
        assertThat(r.at("/verification/nameMatches").asBoolean()).isTrue();
    }

    // --- no TLS ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"encrypt", "verify"})
    void requiredTlsWithoutStartTlsIsRefused(String level) throws IOException {
        CliRun run = probe(
                uri(Protocol.SMTP, DemoServers.Kind.NO_STARTTLS), "--level", level, "--ca", ca.toString(), "--json");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.NO_TLS);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("starttls-not-offered");
        assertThat(r.get("satisfied").asBoolean()).isFalse();
        assertThat(r.at("/failure/kind").asText()).isEqualTo("starttls-not-offered");
        assertThat(r.has("tls")).isFalse();
        assertThat(r.has("certificate")).isFalse();
    }

    @Test
    void mayWithoutStartTlsContinuesInPlaintext() throws IOException {
        CliRun run = probe(uri(Protocol.POP3, DemoServers.Kind.NO_STARTTLS), "--level", "may", "--json");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("starttls-not-offered");
        assertThat(r.get("satisfied").asBoolean()).isTrue();
        assertThat(strings(r.at("/capabilities/before"))).doesNotContain("STLS");
        assertThat(r.has("tls")).isFalse();
    }

    @Test
    void mayWithStartTlsUsesTls() throws IOException {
        CliRun run = probe(uri(Protocol.SMTP, DemoServers.Kind.STARTTLS), "--level", "may", "--json");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("tls");
        assertThat(r.at("/verification/result").asText())
                .as("the JDK trust store does not know the demo CA; may does not enforce it")
                .isEqualTo("invalid-not-enforced");
    }

    @Test
    void noneStaysInPlaintext() throws IOException {
        CliRun run = probe(uri(Protocol.SMTP, DemoServers.Kind.STARTTLS), "--level", "none", "--json");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("plaintext");
        assertThat(r.get("satisfied").asBoolean()).isTrue();
        assertThat(strings(r.at("/capabilities/before"))).contains("STARTTLS");
        assertThat(r.has("tls")).isFalse();
        assertThat(r.has("certificate")).isFalse();
        assertThat(r.has("failure")).isFalse();
    }

    @Test
    void closedPortIsConnectFailed() throws IOException {
        int port = refusing.port();

        CliRun run = probe("smtp://127.0.0.1:" + port, "--json");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.CONNECT_FAILED);
        JsonNode r = json(run);
        assertThat(r.get("outcome").asText()).isEqualTo("connect-failed");
        assertThat(r.at("/failure/kind").asText()).isEqualTo("connect-failed");
        assertThat(r.at("/failure/phase").asText()).isEqualTo("connect");
        assertThat(r.has("capabilities")).isFalse();
    }

    // --- usage errors ---------------------------------------------------------------------------------

    private static void assertUsageError(CliRun run, String... fragments) {
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines().toList()).as(run.err()).hasSize(1);
        assertThat(run.err()).startsWith("optls: ").contains(fragments);
        assertThat(run.err()).doesNotContain("Exception", "\tat ");
    }

    @Test
    void badLevelIsAUsageError() {
        assertUsageError(
                probe("smtp://127.0.0.1:1", "--level", "sometimes"),
                "unknown --level 'sometimes'",
                "none, may, encrypt or verify");
    }

    @Test
    void badUriIsAUsageError() {
        assertUsageError(probe("http://127.0.0.1:1"), "unknown scheme", "smtp://");
    }

    @Test
    void uriWithPathIsAUsageError() {
        assertUsageError(probe("imap://127.0.0.1:1/INBOX"), "only scheme://host[:port]");
    }

    @Test
    void missingCaFileIsAUsageError() {
        Path missing = dir.resolve("no-such-ca.pem");

        assertUsageError(probe("smtp://127.0.0.1:1", "--ca", missing.toString()), missing.toString());
    }

    @Test
    void caFileWithoutCertificatesIsAUsageError() throws IOException {
        Path notPem = Files.writeString(dir.resolve("not-a-ca.pem"), "hello\n");

        assertUsageError(
                probe("smtp://127.0.0.1:1", "--ca", notPem.toString()), notPem.toString(), "-----BEGIN CERTIFICATE");
    }

    @Test
    void portOutOfRangeIsAUsageErrorNotAnInternalError() {
        assertUsageError(probe("smtp://127.0.0.1:99999"), "99999", "1 to 65535");
    }

    @Test
    void levelNoneOnImplicitTlsIsAUsageError() {
        assertUsageError(probe("imaps://127.0.0.1:1", "--level", "none"), "implicit TLS", "imap");
    }

    @Test
    void nonPositiveTimeoutIsAUsageError() {
        assertUsageError(CliRun.of("probe", "smtp://127.0.0.1:1", "--timeout", "0"), "--timeout");
    }

    @Test
    void unknownOptionIsAUsageErrorWithAHint() {
        CliRun run = CliRun.of("probe", "smtp://127.0.0.1:1", "--frobnicate");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("optls: ").contains("--frobnicate", "optls probe --help");
        assertThat(run.err()).doesNotContain("\tat ");
    }

    @Test
    void missingUriIsAUsageError() {
        CliRun run = CliRun.of("probe");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).startsWith("optls: ").contains("URI");
    }

    @Test
    void helpListsTheExitCodes() {
        CliRun run = CliRun.of("probe", "--help");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        assertThat(run.out()).contains("--level", "--servername", "Exit codes:", "6  certificate invalid");
    }

    // --- misbehaving servers --------------------------------------------------------------------------

    @Test
    void bytesAfterTheStartTlsReplyArePeerViolation() throws Exception {
        try (ScriptedServer server = new ScriptedServer(socket -> {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), US_ASCII));
            OutputStream out = socket.getOutputStream();
            out.write("220 mx ESMTP\r\n".getBytes(US_ASCII));
            out.flush();
            assertThat(in.readLine()).startsWith("EHLO ");
            out.write("250-mx\r\n250 STARTTLS\r\n".getBytes(US_ASCII));
            out.flush();
            assertThat(in.readLine()).isEqualTo("STARTTLS");
            // RFC 3207 §5 / CVE-2011-0411: a reply injected after the go-ahead, in the same segment.
            out.write("220 go\r\n250-injected\r\n250 AUTH LOGIN\r\n".getBytes(US_ASCII));
            out.flush();
            drain(socket);
        })) {
            CliRun run = probe("smtp://127.0.0.1:" + server.port(), "--level", "may", "--json");
            server.awaitScript();

            assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.PEER_VIOLATION);
            JsonNode r = json(run);
            assertThat(r.get("outcome").asText()).isEqualTo("peer-violation");
            assertThat(r.get("satisfied").asBoolean()).isFalse();
            assertThat(r.at("/failure/kind").asText()).isEqualTo("bytes-after-upgrade-reply");
            assertThat(r.at("/failure/blame").asText()).isEqualTo("peer");
            assertThat(r.has("tls")).isFalse();
        }
    }

    @Test
    void injectionIsReportedInText() throws Exception {
        try (ScriptedServer server = new ScriptedServer(socket -> {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), US_ASCII));
            OutputStream out = socket.getOutputStream();
            out.write("220 mx ESMTP\r\n".getBytes(US_ASCII));
            in.readLine();
            out.write("250-mx\r\n250 STARTTLS\r\n".getBytes(US_ASCII));
            in.readLine();
            out.write("220 go\r\n250-injected\r\n250 AUTH LOGIN\r\n".getBytes(US_ASCII));
            drain(socket);
        })) {
            CliRun run = probe("smtp://127.0.0.1:" + server.port(), "--level", "verify");
            server.awaitScript();

            assertThat(run.exitCode()).isEqualTo(ExitCodes.PEER_VIOLATION);
            assertThat(run.out()).contains("problem        bytes-after-upgrade-reply: ");
            assertThat(run.out()).contains("peer-violation (level verify NOT satisfied)");
        }
    }

    @Test
    void closeInTheMiddleOfAReplyIsPeerViolation() throws Exception {
        try (ScriptedServer server = new ScriptedServer(socket -> {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), US_ASCII));
            OutputStream out = socket.getOutputStream();
            out.write("220 mx ESMTP\r\n".getBytes(US_ASCII));
            out.flush();
            assertThat(in.readLine()).startsWith("EHLO ");
            out.write("250-mx\r\n250-PIPEL".getBytes(US_ASCII));
            out.flush();
            // try-with-resources closes the socket here, mid-reply.
        })) {
            CliRun run = probe("smtp://127.0.0.1:" + server.port(), "--level", "may", "--json");
            server.awaitScript();

            assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.PEER_VIOLATION);
            JsonNode r = json(run);
            assertThat(r.get("outcome").asText()).isEqualTo("peer-violation");
            assertThat(r.at("/failure/blame").asText()).isEqualTo("peer");
            assertThat(r.at("/failure/phase").asText()).isNotBlank();
        }
    }

    @Test
    void closeInTheMiddleOfTheGreetingIsPeerViolation() throws Exception {
        try (ScriptedServer server = new ScriptedServer(socket -> {
            socket.getOutputStream().write("220-mx ESMTP\r\n220".getBytes(US_ASCII));
            socket.getOutputStream().flush();
        })) {
            CliRun run = probe("smtp://127.0.0.1:" + server.port(), "--level", "none", "--json");
            server.awaitScript();

            assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.PEER_VIOLATION);
            assertThat(json(run).get("outcome").asText()).isEqualTo("peer-violation");
        }
    }

    /** Reads until the client closes, so the client sees no early close. */
    private static void drain(Socket socket) throws IOException {
        byte[] buffer = new byte[512];
        while (socket.getInputStream().read(buffer) >= 0) {
            // discard
        }
    }

    // --- the certificate as seen over a plain JSSE connection ------------------------------------------

    private static X509Certificate demoCertificate() throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(demo.trustStore());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        Target implicit = Target.parse(uri(Protocol.SUBMISSION, DemoServers.Kind.IMPLICIT));
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(implicit.host(), implicit.port())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
