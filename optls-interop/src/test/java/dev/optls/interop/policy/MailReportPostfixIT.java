package dev.optls.interop.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.policy.dkim.DkimKey;
import dev.optls.policy.dkim.DkimSigner;
import dev.optls.policy.rpt.MailReportSender;
import dev.optls.policy.rpt.PolicyReport;
import dev.optls.policy.rpt.ReportDelivery;
import dev.optls.policy.rpt.ReportPolicy;
import dev.optls.policy.rpt.TlsRptFiles;
import dev.optls.policy.rpt.TlsRptJson;
import dev.optls.policy.rpt.TlsRptMail;
import dev.optls.policy.rpt.TlsRptReport;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A TLS-RPT report mailed by {@link MailReportSender} through a real Postfix on 127.0.0.1 that requires STARTTLS
 * ({@code smtpd_tls_security_level = encrypt}, a test PKI certificate the sender verifies) and delivers the
 * recipient domain to a Maildir with its {@code virtual} agent: the message lands in the mailbox, and dkimpy
 * (Debian {@code python3-dkim}) verifies the DKIM signature of the delivered file, for RSA and Ed25519 keys.
 */
class MailReportPostfixIT {

    private static final String RECEIVER = "company-y.example";
    private static final String SUBMITTER = "company-x.example";
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    private static Peers.PeerDirectory dir;
    private static TestPki pki;
    private static PostfixServer postfix;
    private static Path mailboxes;

    @BeforeAll
    static void startPostfix() throws IOException {
        Peers.require(dkimpyInstalled(), "dkimpy (python3 module dkim)", "python3-dkim");
        dir = Peers.tempDir("mail-report");
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        Credential.PemPaths pem = leaf.writePem(dir.path(), "localhost");
        mailboxes = dir.mkdir("mailboxes");
        // The virtual agent delivers as the uid/gid below; it must be able to create the Maildir.
        Files.setPosixFilePermissions(mailboxes, PosixFilePermissions.fromString("rwxrwxrwx"));
        postfix = PostfixServer.builder()
                .tls(PeerTls.REQUIRED)
                .certificate(pem.chain(), pem.privateKey())
                .mainCf("virtual_mailbox_domains", RECEIVER)
                .mainCf("virtual_mailbox_base", mailboxes.toString())
                .mainCf("virtual_mailbox_maps", "inline:{ sts-reports@" + RECEIVER + "=sts-reports/ }")
                .mainCf("virtual_uid_maps", "static:65534")
                .mainCf("virtual_gid_maps", "static:65534")
                .start();
        System.out.println("MailReportPostfixIT against Postfix " + PostfixServer.version());
    }

    @AfterAll
    static void stop() {
        if (postfix != null) {
            postfix.close();
        }
        if (dir != null) {
            dir.close();
        }
    }

    static boolean dkimpyInstalled() {
        try {
            return Files.isExecutable(PYTHON)
                    && new ProcessBuilder(PYTHON.toString(), "-c", "import dkim, nacl")
                                    .start()
                                    .waitFor()
                            == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static byte[] report(String reportId, String to) {
        TlsRptReport report = TlsRptReport.forDay(
                "Company-X",
                "sts-reporting@" + SUBMITTER,
                reportId,
                LocalDate.of(2026, 11, 29),
                List.of(new PolicyReport(
                        ReportPolicy.sts(
                                RECEIVER,
                                List.of(
                                        "version: STSv1",
                                        "mode: enforce",
                                        "mx: mx.company-y.example",
                                        "max_age: 86400"),
                                List.of("mx.company-y.example")),
                        42,
                        0,
                        List.of())));
        return TlsRptMail.build(
                "tlsrpt-noreply@" + SUBMITTER,
                to,
                SUBMITTER,
                report,
                TlsRptFiles.gzip(TlsRptJson.toBytes(report)),
                TlsRptFiles.fileName(SUBMITTER, report, null),
                ZonedDateTime.of(2026, 11, 30, 1, 0, 0, 0, ZoneOffset.UTC));
    }

    private static MailReportSender sender(DkimSigner signer) {
        return MailReportSender.builder(postfix.host(), postfix.port(), signer)
                .serverName("localhost")
                .trust(TrustAnchors.of(pki.trustStore()))
                .helloName("reporter." + SUBMITTER)
                .timeouts(Timeouts.all(Duration.ofSeconds(15)))
                .build();
    }

    @Test
    void rsaSignedReportLandsInTheMailboxAndVerifies() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        deliverAndVerify(DkimKey.of(rsa.generateKeyPair().getPrivate()), "rsa-report-1");
    }

    @Test
    void ed25519SignedReportLandsInTheMailboxAndVerifies() throws Exception {
        deliverAndVerify(
                DkimKey.of(KeyPairGenerator.getInstance("Ed25519")
                        .generateKeyPair()
                        .getPrivate()),
                "ed25519-report-1");
    }

    private void deliverAndVerify(DkimKey key, String reportId) throws Exception {
        DkimSigner signer = DkimSigner.create(key, SUBMITTER, "tlsrpt");
        URI good = URI.create("mailto:sts-reports@" + RECEIVER);
        URI unknown = URI.create("mailto:nobody@" + RECEIVER);

        List<ReportDelivery> results = sender(signer)
                .send(
                        report(reportId, "sts-reports@" + RECEIVER),
                        List.of(good, unknown),
                        "tlsrpt-bounces@" + SUBMITTER);
        System.out.println("MailReportPostfixIT " + key.algorithm() + ": " + results);

        assertThat(results.get(0))
                .isInstanceOfSatisfying(
                        ReportDelivery.MailAccepted.class,
                        a -> assertThat(a.reply()).startsWith("250 2.0.0 Ok: queued as "));
        // smtpd_reject_unlisted_recipient: an address missing from virtual_mailbox_maps is refused at RCPT.
        assertThat(results.get(1)).isInstanceOfSatisfying(ReportDelivery.MailRefused.class, r -> {
            assertThat(r.permanent()).isTrue();
            assertThat(r.reply()).startsWith("550 5.1.1");
        });

        Path delivered = awaitDelivery(reportId);
        String text = Files.readString(delivered, StandardCharsets.ISO_8859_1);
        assertThat(text)
                .contains("Delivered-To: sts-reports@" + RECEIVER)
                .contains("Return-Path: <tlsrpt-bounces@" + SUBMITTER + ">")
                .containsPattern("\\(using TLSv1\\.[23] with cipher")
                .contains("DKIM-Signature: v=1; a=" + key.algorithm().tagValue())
                .contains("TLS-Report-Domain: " + RECEIVER);
        postfix.awaitLog("status=sent (delivered to maildir)", Duration.ofSeconds(10));

        String verdict = dkimpy(delivered, signer.keyRecordName(), key.tlsRptDnsTxtValue());
        assertThat(verdict).as("dkimpy on the delivered file").startsWith("PASS");

        Path tampered = Files.writeString(
                dir.resolve(reportId + "-tampered.eml"),
                text.replace("TLS-Report-Domain: " + RECEIVER, "TLS-Report-Domain: evil.example"),
                StandardCharsets.ISO_8859_1);
        assertThat(dkimpy(tampered, signer.keyRecordName(), key.tlsRptDnsTxtValue()))
                .as("dkimpy on a tampered copy")
                .startsWith("FAIL");
    }

    @Test
    void aReportOverPostfixsSizeLimitIsNotSent() throws Exception {
        // RFC 1870: Postfix advertises SIZE <message_size_limit>; a larger report is not offered at all.
        Credential.PemPaths pem =
                pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue().writePem(dir.mkdir("small"), "small");
        try (PostfixServer small = PostfixServer.builder()
                .tls(PeerTls.OPTIONAL)
                .certificate(pem.chain(), pem.privateKey())
                .mainCf("message_size_limit", "1000")
                .start()) {
            DkimSigner signer = DkimSigner.create(
                    DkimKey.of(KeyPairGenerator.getInstance("Ed25519")
                            .generateKeyPair()
                            .getPrivate()),
                    SUBMITTER,
                    "tlsrpt");
            URI rua = URI.create("mailto:sts-reports@" + RECEIVER);

            List<ReportDelivery> results = MailReportSender.builder(small.host(), small.port(), signer)
                    .serverName("localhost")
                    .trust(TrustAnchors.of(pki.trustStore()))
                    .timeouts(Timeouts.all(Duration.ofSeconds(15)))
                    .build()
                    .send(report("too-large-1", "sts-reports@" + RECEIVER), List.of(rua), "");

            assertThat(results).singleElement().isInstanceOfSatisfying(ReportDelivery.MailRefused.class, r -> {
                assertThat(r.permanent()).isTrue();
                assertThat(r.reply()).contains("not sent", "at most 1000", "RFC 1870");
            });
            // The session went EHLO, STARTTLS, EHLO, QUIT: no MAIL was sent. (Wait for this session's disconnect
            // line: Postfix's start-up probes log "disconnect from" lines of their own.)
            String log = small.awaitLog("ehlo=2 starttls=1", Duration.ofSeconds(10));
            assertThat(log.lines().filter(l -> l.contains("ehlo=2 starttls=1")))
                    .singleElement()
                    .asString()
                    .contains("ehlo=2 starttls=1 quit=1 commands=4");
        }
    }

    /** Waits for the Maildir file whose Subject names the report id. */
    private static Path awaitDelivery(String reportId) throws IOException, InterruptedException {
        Path inbox = mailboxes.resolve("sts-reports/new");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(inbox)) {
                try (Stream<Path> files = Files.list(inbox)) {
                    for (Path f : files.toList()) {
                        if (Files.readString(f, StandardCharsets.ISO_8859_1)
                                .contains("Report-ID: <" + reportId + ">")) {
                            return f;
                        }
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                "no message for report " + reportId + " in " + inbox + " after 15 s; Postfix log:\n" + postfix.log());
    }

    /** dkimpy's verdict on {@code message}, with {@code txt} as the only DNS answer ({@code tlsrpt='strict'}). */
    private static String dkimpy(Path message, String recordName, String txt) throws Exception {
        Path script = dir.write("verify.py", """
                import sys, dkim
                message = open(sys.argv[1], "rb").read()
                record, txt = sys.argv[2].encode(), sys.argv[3].encode()
                def dns(name, timeout=5):
                    return txt if name.rstrip(b".") == record else None
                try:
                    ok = dkim.verify(message, dnsfunc=dns, tlsrpt="strict")
                except Exception as e:
                    print("FAIL", repr(e))
                    sys.exit(0)
                print("PASS" if ok else "FAIL")
                """);
        Peers.CommandResult r = Peers.run(
                        Duration.ofSeconds(30),
                        null,
                        List.of(PYTHON.toString(), script.toString(), message.toString(), recordName, txt))
                .orThrow();
        return r.output().strip();
    }
}
