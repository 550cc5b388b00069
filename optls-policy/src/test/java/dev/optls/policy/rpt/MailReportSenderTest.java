package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.policy.dkim.DkimKey;
import dev.optls.policy.dkim.DkimPy;
import dev.optls.policy.dkim.DkimSigner;
import dev.optls.testkit.ClosedPort;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MailReportSender} against a relay on 127.0.0.1 played by optls's own SMTP server (STARTTLS with a test PKI
 * certificate, MAIL and RCPT answered by a handler, the data read by hand); the delivered message is checked with
 * dkimpy.
 */
class MailReportSenderTest {

    private static final Timeouts FAST = Timeouts.all(Duration.ofSeconds(5));
    private static final Instant NOW = Instant.parse("2026-11-30T00:10:00Z");
    private static TestPki pki;
    private static Credential localhost;
    private static DkimSigner signer;

    @TempDir
    Path dir;

    /** A loopback port where connections are refused, held for the test (see {@link ClosedPort}). */
    private final ClosedPort refusing = ClosedPort.open();

    @AfterEach
    void releasePort() {
        refusing.close();
    }

    @BeforeAll
    static void setUp() throws Exception {
        pki = TestPki.create();
        localhost = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        signer = DkimSigner.create(
                DkimKey.of(KeyPairGenerator.getInstance("Ed25519")
                        .generateKeyPair()
                        .getPrivate()),
                "company-x.example",
                "tlsrpt");
    }

    /** What the relay saw. */
    record Relayed(List<String> commands, String data, boolean tls) {}

    /** A relay for one connection; {@code withTls} offers STARTTLS with the localhost certificate. */
    static CompletableFuture<Relayed> relay(ServerSocket listener, boolean withTls) {
        ServerOptions options = withTls
                ? ServerOptions.offering("localhost", Capabilities.of("PIPELINING"))
                        .withTlsCapabilities(Capabilities.of("SIZE 10240000", "8BITMIME"))
                : ServerOptions.withoutTls("localhost", Capabilities.of("SIZE 10240000"));
        StartTlsServer server = new StartTlsServer(
                Protocol.SMTP,
                options,
                withTls
                        ? Optional.of(ServerTls.create(
                                localhost.chain(), localhost.privateKey(), Optional.empty(), TlsProfile.modern()))
                        : Optional.empty(),
                FAST);
        List<String> commands = new CopyOnWriteArrayList<>();
        return CompletableFuture.supplyAsync(() -> {
            try (listener;
                    Socket accepted = listener.accept()) {
                ServerSession session = server.serve(accepted, c -> {
                    commands.add(c.line());
                    return switch (c.verb()) {
                        case "MAIL" -> "250 2.1.0 Ok";
                        case "RCPT" -> c.arguments().contains("nobody") ? "550 5.1.1 unknown" : "250 2.1.5 Ok";
                        case "DATA" -> CommandHandler.HAND_OVER;
                        case "QUIT" -> "221 2.0.0 Bye";
                        default -> "502 5.5.1 not here";
                    };
                });
                if (session.socket().isEmpty()) {
                    return new Relayed(commands, "", false);
                }
                Socket s = session.socket().get();
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                write(out, "354 go ahead\r\n");
                String data = readUntil(in, "\r\n.\r\n");
                write(out, "250 2.0.0 Ok: queued as 4Q1\r\n");
                commands.add(readUntil(in, "\r\n").strip());
                write(out, "221 2.0.0 Bye\r\n");
                return new Relayed(commands, data, s instanceof SSLSocket);
            } catch (IOException e) {
                return new Relayed(commands, "IOException " + e, false);
            }
        });
    }

    static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        while (!buf.toString(StandardCharsets.ISO_8859_1).endsWith(end)) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            buf.write(b);
        }
        return buf.toString(StandardCharsets.ISO_8859_1);
    }

    static byte[] reportMessage(String to) {
        TlsRptReport report = TlsRptJsonTest.rfcExampleReport();
        return TlsRptMail.build(
                "tlsrpt-noreply@company-x.example",
                to,
                "company-x.example",
                report,
                TlsRptFiles.gzip(TlsRptJson.toBytes(report)),
                TlsRptFiles.fileName("company-x.example", report, null),
                ZonedDateTime.of(2016, 4, 2, 3, 0, 0, 0, ZoneOffset.UTC));
    }

    private MailReportSender.Builder sender(int port) {
        return MailReportSender.builder("127.0.0.1", port, signer)
                .serverName("localhost")
                .trust(TrustAnchors.of(pki.trustStore()))
                .helloName("reporter.company-x.example")
                .timeouts(FAST)
                .clock(Clock.fixed(NOW, ZoneOffset.UTC));
    }

    @Test
    void deliversSignedOverVerifiedTlsWithAnOutcomePerUri() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Relayed> relay = relay(listener, true);
        URI good = URI.create("mailto:sts-reports@company-y.example?subject=ignored");
        URI halfBad = URI.create("mailto:other@company-y.example%2Cnobody@company-y.example");
        URI unusable = URI.create("mailto:not%20an%20address");
        URI duplicate = URI.create("mailto:sts-reports@company-y.example");

        List<ReportDelivery> results = sender(listener.getLocalPort())
                .build()
                .send(
                        reportMessage("sts-reports@company-y.example"),
                        List.of(good, halfBad, unusable, duplicate),
                        "tlsrpt-bounces@company-x.example");

        assertThat(results).hasSize(4);
        assertThat(results.get(0)).isInstanceOfSatisfying(ReportDelivery.MailAccepted.class, a -> {
            assertThat(a.recipients()).containsExactly("sts-reports@company-y.example");
            assertThat(a.reply()).isEqualTo("250 2.0.0 Ok: queued as 4Q1");
        });
        assertThat(results.get(1)).isEqualTo(new ReportDelivery.MailRefused(halfBad, "550 5.1.1 unknown", true));
        assertThat(results.get(2)).isInstanceOf(ReportDelivery.Failed.class);
        assertThat(((ReportDelivery.Failed) results.get(2)).reason()).contains("no usable address");
        assertThat(results.get(3).accepted()).isTrue();
        assertThat(results).filteredOn(ReportDelivery::accepted).hasSize(2);

        Relayed relayed = relay.get(10, TimeUnit.SECONDS);
        assertThat(relayed.tls()).isTrue();
        assertThat(relayed.commands())
                .containsExactly(
                        "MAIL FROM:<tlsrpt-bounces@company-x.example> SIZE="
                                + (relayed.data().length() - 3),
                        "RCPT TO:<sts-reports@company-y.example>",
                        "RCPT TO:<other@company-y.example>",
                        "RCPT TO:<nobody@company-y.example>",
                        "DATA",
                        "QUIT");
        String data = relayed.data();
        assertThat(data).startsWith("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=company-x.example;");
        assertThat(data).containsPattern("\\st=" + NOW.getEpochSecond() + ";").contains("TLS-Required: No\r\n");

        DkimPy.require();
        byte[] received = data.substring(0, data.length() - 3).getBytes(StandardCharsets.ISO_8859_1);
        DkimPy.Verdict verdict = DkimPy.verify(
                dir, received, signer.keyRecordName(), signer.key().tlsRptDnsTxtValue(), "strict");
        assertThat(verdict.pass()).as(verdict.output()).isTrue();
    }

    @Test
    void asTheSchedulesMailDeliveryItSendsWithTheConfiguredEnvelopeSender() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Relayed> relay = relay(listener, true);
        URI rua = URI.create("mailto:sts-reports@company-y.example");

        MailReportDelivery delivery =
                sender(listener.getLocalPort()).build().delivery("tlsrpt-bounces@company-x.example");
        List<ReportDelivery> results = delivery.send(reportMessage("sts-reports@company-y.example"), List.of(rua));

        assertThat(results).singleElement().matches(ReportDelivery::accepted);
        assertThat(relay.get(10, TimeUnit.SECONDS).commands().get(0))
                .startsWith("MAIL FROM:<tlsrpt-bounces@company-x.example> SIZE=");
        assertThatThrownBy(() -> sender(1).build().delivery("not an address"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void verifyRefusesARelayWithoutStartTlsAndInsecureMaySendsInPlaintext() throws Exception {
        URI rua = URI.create("mailto:sts-reports@company-y.example");
        ServerSocket plain = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Relayed> refused = relay(plain, false);

        List<ReportDelivery> verify =
                sender(plain.getLocalPort()).build().send(reportMessage("x@y.example"), List.of(rua), "");

        assertThat(verify)
                .singleElement()
                .isInstanceOfSatisfying(
                        ReportDelivery.Failed.class,
                        f -> assertThat(f.reason())
                                .contains("starttls-not-offered", "127.0.0.1:" + plain.getLocalPort()));
        assertThat(refused.get(10, TimeUnit.SECONDS).commands()).isEmpty();

        ServerSocket plain2 = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Relayed> taken = relay(plain2, false);
        List<ReportDelivery> may = sender(plain2.getLocalPort())
                .tls(MailReportSender.RelayTls.INSECURE_MAY)
                .build()
                .send(reportMessage("x@y.example"), List.of(rua), "");

        assertThat(may).singleElement().matches(ReportDelivery::accepted);
        Relayed relayed = taken.get(10, TimeUnit.SECONDS);
        assertThat(relayed.tls()).isFalse();
        assertThat(relayed.commands().get(0)).startsWith("MAIL FROM:<> SIZE=");
    }

    @Test
    void aRelayCertificateForAnotherNameFailsEveryUri() throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        CompletableFuture<Relayed> relay = relay(listener, true);
        List<URI> ruas = List.of(URI.create("mailto:a@company-y.example"), URI.create("mailto:b@company-y.example"));

        List<ReportDelivery> results = sender(listener.getLocalPort())
                .serverName("relay.company-x.example")
                .build()
                .send(reportMessage("a@company-y.example"), ruas, "");

        assertThat(results).hasSize(2).allSatisfy(r -> {
            assertThat(r).isInstanceOf(ReportDelivery.Failed.class);
            assertThat(((ReportDelivery.Failed) r).reason()).contains("certificate");
        });
        assertThat(relay.get(10, TimeUnit.SECONDS).commands()).isEmpty();
    }

    @Test
    void aClosedPortIsAFailureAndOtherSchemesAreCallerBugs() throws Exception {
        int port = refusing.port();
        URI rua = URI.create("mailto:a@company-y.example");
        List<ReportDelivery> results =
                sender(port).build().send(reportMessage("a@company-y.example"), List.of(rua), "");
        assertThat(results)
                .singleElement()
                .isInstanceOfSatisfying(
                        ReportDelivery.Failed.class, f -> assertThat(f.reason()).contains("connect"));

        assertThatThrownBy(() ->
                        sender(port).build().send(new byte[0], List.of(URI.create("https://tlsrpt.example/v1")), ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("mailto:");
        assertThatThrownBy(() -> sender(port).build().send(new byte[0], List.of(rua), "bad sender"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("envelopeFrom");
        assertThat(sender(port).build().send(new byte[0], List.of(), "")).isEmpty();
    }

    @Test
    void mailtoAddressesFollowRfc6068() {
        assertThat(MailReportSender.addressesOf(URI.create("mailto:a@example.net")))
                .containsExactly("a@example.net");
        assertThat(MailReportSender.addressesOf(URI.create("mailto:a@example.net%2C%20b@example.net?subject=x")))
                .containsExactly("a@example.net", "b@example.net");
        assertThat(MailReportSender.addressesOf(URI.create("mailto:a@example.net,a@example.net")))
                .containsExactly("a@example.net");
        assertThat(MailReportSender.addressesOf(URI.create("mailto:%0D%0ARCPT%20TO:x@example.net")))
                .isEmpty();
        assertThat(MailReportSender.addressesOf(URI.create("mailto:?to=a@example.net")))
                .isEmpty();
    }
}
