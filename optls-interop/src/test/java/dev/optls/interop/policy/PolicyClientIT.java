package dev.optls.interop.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.policy.client.DeliveryAttempt;
import dev.optls.policy.client.HostAttempt;
import dev.optls.policy.client.MailDelivery;
import dev.optls.policy.client.PolicyClient;
import dev.optls.policy.dane.DaneOutcome;
import dev.optls.policy.dane.FakeDns;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.engine.DeliveryPlan;
import dev.optls.policy.engine.MxPlan;
import dev.optls.policy.engine.PolicyEngine;
import dev.optls.policy.engine.PolicySource;
import dev.optls.policy.engine.Requirement;
import dev.optls.policy.rpt.FailureDetail;
import dev.optls.policy.rpt.PolicyReport;
import dev.optls.policy.rpt.ReportPolicy;
import dev.optls.policy.rpt.SessionFailure;
import dev.optls.policy.rpt.TlsRptCollector;
import dev.optls.policy.rpt.TlsRptResult;
import dev.optls.policy.sts.StsDecision;
import dev.optls.policy.sts.StsFetch;
import dev.optls.policy.sts.StsFetchFailure;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.Timeouts;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link PolicyClient} against real Postfix servers on 127.0.0.1, one per certificate from the test PKI (good,
 * expired, for another name, from an untrusted CA) and one without STARTTLS, with plans from the {@link PolicyEngine}
 * over a fake DNS (DANE) or written out (MTA-STS, local policy): which host is used, the TLS-RPT result type of every
 * failed session, and that nothing is sent over TLS before the TLSA records matched.
 */
class PolicyClientIT {

    private static final String GOOD = "good.mx.test";
    private static final String EXPIRED = "expired.mx.test";
    private static final String WRONG_NAME = "wrongname.mx.test";
    private static final String UNTRUSTED = "untrusted.mx.test";
    private static final String NO_TLS = "notls.mx.test";

    private static TestPki pki;
    private static Peers.PeerDirectory dir;
    private static final Map<String, PostfixServer> SERVERS = new HashMap<>();
    private static final Map<String, Integer> PORTS = new HashMap<>();
    private static Credential good;
    private static String version;

    @BeforeAll
    static void start() {
        pki = TestPki.create();
        dir = Peers.tempDir("policy-client");
        good = pki.issue(GOOD);
        startPostfix(GOOD, good);
        startPostfix(EXPIRED, pki.leaf(EXPIRED).expired().issue());
        startPostfix(WRONG_NAME, pki.issue("other.test"));
        startPostfix(UNTRUSTED, pki.leaf(UNTRUSTED).signedByUntrustedCa().issue());
        startPostfix(NO_TLS, null);
        version = "Postfix " + PostfixServer.version();
    }

    private static void startPostfix(String host, Credential credential) {
        PostfixServer.Builder builder = PostfixServer.builder();
        if (credential == null) {
            builder.tls(PeerTls.NONE);
        } else {
            Credential.PemPaths pem = credential.writePem(dir.path(), host);
            builder.tls(PeerTls.OPTIONAL).certificate(pem.chain(), pem.privateKey());
        }
        PostfixServer server = builder.start();
        SERVERS.put(host, server);
        PORTS.put(host, server.port());
    }

    @AfterAll
    static void stop() {
        SERVERS.values().forEach(PostfixServer::close);
        if (dir != null) {
            dir.close();
        }
    }

    /** Every MX host resolves (securely) to 127.0.0.1 only. */
    private static FakeDns dns() throws Exception {
        FakeDns dns = new FakeDns();
        for (String host : PORTS.keySet()) {
            dns.answer(
                    host,
                    RecordType.A,
                    new DnsAnswer.Records<>(
                            host,
                            RecordType.A,
                            List.of(),
                            DnssecStatus.SECURE,
                            List.of(InetAddress.getByName("127.0.0.1"))));
            dns.noData(host, RecordType.AAAA);
        }
        return dns;
    }

    private static PolicyClient client(FakeDns dns, TlsRptCollector collector) {
        return PolicyClient.builder(dns, collector)
                .webPkiTrust(TrustAnchors.of(pki.trustStore()))
                .helloName("sender.test")
                .timeouts(Timeouts.all(Duration.ofSeconds(10)))
                .testingPortsOnLoopback(PORTS::get)
                .build();
    }

    private static String tlsaFor(Credential credential) throws Exception {
        byte[] spki = credential.certificate().getPublicKey().getEncoded();
        return "3 1 1 "
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(spki));
    }

    /** A DANE plan from the engine: secure MX, secure addresses, secure TLSA records at each host. */
    private static DeliveryPlan danePlan(FakeDns dns, String domain, Map<String, String> tlsaByHost) {
        List<MxRecord> mx = new java.util.ArrayList<>();
        int preference = 10;
        for (Map.Entry<String, String> e : tlsaByHost.entrySet()) {
            mx.add(new MxRecord(preference, e.getKey()));
            preference += 10;
            dns.tlsa("_25._tcp." + e.getKey(), DnssecStatus.SECURE, e.getValue());
        }
        dns.answer(
                domain,
                RecordType.MX,
                new DnsAnswer.Records<>(domain, RecordType.MX, List.of(), DnssecStatus.SECURE, mx));
        return PolicyEngine.builder(dns).build().planFor(domain, Instant.now());
    }

    private static List<PolicyReport> reports(TlsRptCollector collector, String domain) {
        return collector
                .snapshot(domain, LocalDate.now(ZoneOffset.UTC))
                .orElseThrow(() -> new AssertionError("nothing recorded for " + domain));
    }

    private static List<SessionFailure> failures(List<PolicyReport> reports) {
        return reports.stream()
                .flatMap(r -> r.failureDetails().stream())
                .map(FailureDetail::failure)
                .toList();
    }

    /** MAIL FROM on the handed-over session: it is at a command boundary, over TLS when TLS is up. */
    private static String mailFrom(ClientSession session) throws Exception {
        Socket socket = session.socket().orElseThrow();
        OutputStream out = socket.getOutputStream();
        out.write("MAIL FROM:<sender@sender.test>\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        BufferedReader in =
                new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        return in.readLine();
    }

    @Test
    void mtaStsEnforceSkipsEveryHostThatFailsAndUsesTheFirstGoodOne() throws Exception {
        ReportPolicy policy = ReportPolicy.sts(
                "sts.test",
                List.of("version: STSv1", "mode: enforce", "mx: *.mx.test", "max_age: 86400"),
                List.of("*.mx.test"));
        List<MxPlan> hosts = new java.util.ArrayList<>();
        int preference = 10;
        for (String host : List.of(NO_TLS, EXPIRED, WRONG_NAME, UNTRUSTED, GOOD)) {
            hosts.add(new MxPlan(
                    host,
                    preference,
                    Requirement.STS_ENFORCE,
                    host,
                    List.of(host),
                    List.of(),
                    Optional.empty(),
                    policy,
                    "listed in the MTA-STS policy (enforce)"));
            preference += 10;
        }
        DeliveryPlan plan = new DeliveryPlan(
                "sts.test",
                DeliveryPlan.Status.DELIVER,
                PolicySource.MTA_STS_ENFORCE,
                hosts,
                Optional.empty(),
                Optional.empty(),
                "MTA-STS policy in enforce mode");
        TlsRptCollector collector = new TlsRptCollector();
        try (DeliveryAttempt attempt = client(dns(), collector).connect(plan)) {
            System.out.println(version + " MTA-STS enforce: " + attempt.attempts());
            assertThat(attempt).isInstanceOf(DeliveryAttempt.Connected.class);
            DeliveryAttempt.Connected connected = (DeliveryAttempt.Connected) attempt;
            assertThat(connected.host().host()).isEqualTo(GOOD);
            assertThat(connected.tls()).isTrue();
            assertThat(connected.address()).isEqualTo("127.0.0.1");
            assertThat(attempt.attempts())
                    .extracting(
                            HostAttempt::host,
                            HostAttempt::outcome,
                            a -> a.reported().orElse(null))
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(
                                    NO_TLS, HostAttempt.Outcome.FAILED, TlsRptResult.STARTTLS_NOT_SUPPORTED),
                            org.assertj.core.groups.Tuple.tuple(
                                    EXPIRED, HostAttempt.Outcome.FAILED, TlsRptResult.CERTIFICATE_EXPIRED),
                            org.assertj.core.groups.Tuple.tuple(
                                    WRONG_NAME, HostAttempt.Outcome.FAILED, TlsRptResult.CERTIFICATE_HOST_MISMATCH),
                            org.assertj.core.groups.Tuple.tuple(
                                    UNTRUSTED, HostAttempt.Outcome.FAILED, TlsRptResult.CERTIFICATE_NOT_TRUSTED),
                            org.assertj.core.groups.Tuple.tuple(GOOD, HostAttempt.Outcome.CONNECTED, null));
            assertThat(mailFrom(connected.session())).startsWith("250");
        }
        List<PolicyReport> reports = reports(collector, "sts.test");
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.policy()).isEqualTo(policy);
            assertThat(r.successfulSessions()).isEqualTo(1);
            assertThat(r.failedSessions()).isEqualTo(4);
        });
        assertThat(failures(reports))
                .allSatisfy(f -> {
                    assertThat(f.receivingIp()).isEqualTo("127.0.0.1");
                    // No sendingMtaIp configured: the address of the connection that failed.
                    assertThat(f.sendingMtaIp()).isEqualTo("127.0.0.1");
                    // Postfix's greeting: "$myhostname ESMTP optls-interop" with myhostname = localhost.
                    assertThat(f.receivingMxHelo()).isEqualTo("localhost");
                })
                .extracting(SessionFailure::receivingMxHostname)
                .containsExactly(NO_TLS, EXPIRED, WRONG_NAME, UNTRUSTED);
    }

    @Test
    void daneMatchesTheTlsaRecordAndHandsOverTheSession() throws Exception {
        FakeDns dns = dns();
        DeliveryPlan plan = danePlan(dns, "dane.test", Map.of(GOOD, tlsaFor(good)));
        assertThat(plan.hosts())
                .singleElement()
                .satisfies(h -> assertThat(h.requirement()).isEqualTo(Requirement.DANE));
        TlsRptCollector collector = new TlsRptCollector();
        try (DeliveryAttempt attempt = client(dns, collector).connect(plan)) {
            System.out.println(version + " DANE good: " + attempt.attempts());
            DeliveryAttempt.Connected connected = (DeliveryAttempt.Connected) attempt;
            assertThat(connected.tls()).isTrue();
            assertThat(attempt.attempts().get(0).reason())
                    .contains("DANE authenticated")
                    .contains("DANE-EE");
            assertThat(mailFrom(connected.session())).startsWith("250");
        }
        assertThat(reports(collector, "dane.test")).singleElement().satisfies(r -> {
            assertThat(r.policy().type()).isEqualTo(dev.optls.policy.rpt.PolicyType.TLSA);
            assertThat(r.policy().policyStrings()).containsExactly(tlsaFor(good).toUpperCase(java.util.Locale.ROOT));
            assertThat(r.successfulSessions()).isEqualTo(1);
            assertThat(r.failedSessions()).isZero();
        });
    }

    @Test
    void deliverSendsTheMessageOnTheAuthenticatedSessionAndNothingWhenDeferred() throws Exception {
        FakeDns dns = dns();
        String messageId = "policy-deliver-" + System.nanoTime() + "@sender.test";
        byte[] message = ("From: <reports@sender.test>\r\nTo: <postmaster@dane.test>\r\nSubject: deliver\r\n"
                        + "Message-ID: <" + messageId + ">\r\n\r\nSent under a DANE plan.\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        dev.optls.core.smtp.MailEnvelope envelope =
                new dev.optls.core.smtp.MailEnvelope("reports@sender.test", List.of("postmaster@dane.test"));

        MailDelivery sent = client(dns, new TlsRptCollector())
                .deliver(danePlan(dns, "dane.test", Map.of(GOOD, tlsaFor(good))), envelope, message);

        assertThat(sent.connection()).isInstanceOf(DeliveryAttempt.Connected.class);
        assertThat(sent.delivered()).as(sent.toString()).isTrue();
        awaitCount(SERVERS.get(GOOD), "message-id=<" + messageId + ">", 1);

        MailDelivery stripped = client(dns, new TlsRptCollector())
                .deliver(danePlan(dns, "danestripped.test", Map.of(NO_TLS, tlsaFor(good))), envelope, message);

        assertThat(stripped.connection()).isInstanceOf(DeliveryAttempt.Deferred.class);
        assertThat(stripped.transaction()).isEmpty();
        assertThat(stripped.delivered()).isFalse();
    }

    @Test
    void aTlsaMismatchClosesTheConnectionBeforeAnyByteOverTlsAndDefers() throws Exception {
        FakeDns dns = dns();
        Credential other = pki.issue(GOOD);
        DeliveryPlan plan = danePlan(dns, "danebad.test", Map.of(GOOD, tlsaFor(other)));
        PostfixServer postfix = SERVERS.get(GOOD);
        String marker = "ehlo=1 starttls=1 commands=2";
        long before = countLines(postfix.log(), marker);
        TlsRptCollector collector = new TlsRptCollector();
        DeliveryAttempt attempt = client(dns, collector).connect(plan);
        System.out.println(version + " DANE mismatch: " + attempt.attempts());
        assertThat(attempt).isInstanceOf(DeliveryAttempt.Deferred.class);
        assertThat(attempt.attempts()).singleElement().satisfies(a -> {
            assertThat(a.reported()).contains(TlsRptResult.TLSA_INVALID);
            assertThat(a.reason()).contains("matches no usable TLSA record");
        });
        // Postfix counts the commands of the session: one EHLO and STARTTLS, no EHLO over TLS.
        awaitCount(postfix, marker, before + 1);
        assertThat(failures(reports(collector, "danebad.test"))).singleElement().satisfies(f -> {
            assertThat(f.resultType()).isEqualTo(TlsRptResult.TLSA_INVALID);
            assertThat(f.receivingMxHostname()).isEqualTo(GOOD);
            assertThat(f.receivingMxHelo()).isEqualTo("localhost");
        });
    }

    @Test
    void daneNeverFallsBackToPlaintextWhenStarttlsIsMissing() throws Exception {
        FakeDns dns = dns();
        DeliveryPlan plan = danePlan(dns, "danestrip.test", Map.of(NO_TLS, tlsaFor(good)));
        TlsRptCollector collector = new TlsRptCollector();
        DeliveryAttempt attempt = client(dns, collector).connect(plan);
        assertThat(attempt).isInstanceOf(DeliveryAttempt.Deferred.class);
        assertThat(((DeliveryAttempt.Deferred) attempt).describe())
                .contains(NO_TLS)
                .contains("starttls-not-supported");
        assertThat(failures(reports(collector, "danestrip.test")))
                .extracting(SessionFailure::resultType)
                .containsExactly(TlsRptResult.STARTTLS_NOT_SUPPORTED);
    }

    @Test
    void opportunisticTlsDeliversInPlaintextAndUnderMtaStsTestingReportsTheCertificate() throws Exception {
        ReportPolicy testing = ReportPolicy.sts(
                "testing.test",
                List.of("version: STSv1", "mode: testing", "mx: *.mx.test", "max_age: 86400"),
                List.of("*.mx.test"));
        MxPlan noTls = new MxPlan(
                NO_TLS,
                10,
                Requirement.OPPORTUNISTIC,
                NO_TLS,
                List.of(NO_TLS),
                List.of(),
                Optional.empty(),
                testing,
                "t");
        MxPlan wrongName = new MxPlan(
                WRONG_NAME,
                10,
                Requirement.OPPORTUNISTIC,
                WRONG_NAME,
                List.of(WRONG_NAME),
                List.of(),
                Optional.empty(),
                testing,
                "t");
        TlsRptCollector collector = new TlsRptCollector();
        PolicyClient client = client(dns(), collector);
        try (DeliveryAttempt attempt = client.connect(plan("testing.test", PolicySource.MTA_STS_TESTING, noTls))) {
            DeliveryAttempt.Connected connected = (DeliveryAttempt.Connected) attempt;
            assertThat(connected.tls()).isFalse();
            assertThat(connected.attempts().get(0).reported()).contains(TlsRptResult.STARTTLS_NOT_SUPPORTED);
            assertThat(mailFrom(connected.session())).startsWith("250");
        }
        try (DeliveryAttempt attempt = client.connect(plan("testing.test", PolicySource.MTA_STS_TESTING, wrongName))) {
            DeliveryAttempt.Connected connected = (DeliveryAttempt.Connected) attempt;
            assertThat(connected.tls()).isTrue();
            assertThat(connected.attempts().get(0).reported()).contains(TlsRptResult.CERTIFICATE_HOST_MISMATCH);
            assertThat(connected.attempts().get(0).reason()).contains("reported, not enforced");
        }
        assertThat(reports(collector, "testing.test")).singleElement().satisfies(r -> {
            assertThat(r.successfulSessions()).isZero();
            assertThat(r.failedSessions()).isEqualTo(2);
        });
    }

    @Test
    void localEncryptAcceptsAnyCertificateButNotPlaintext() throws Exception {
        ReportPolicy none = ReportPolicy.noPolicyFound("local.test");
        MxPlan untrusted = new MxPlan(
                UNTRUSTED, 10, Requirement.LOCAL_ENCRYPT, UNTRUSTED, List.of(), List.of(), Optional.empty(), none, "t");
        MxPlan noTls = new MxPlan(
                NO_TLS, 10, Requirement.LOCAL_ENCRYPT, NO_TLS, List.of(), List.of(), Optional.empty(), none, "t");
        TlsRptCollector collector = new TlsRptCollector();
        PolicyClient client = client(dns(), collector);
        try (DeliveryAttempt attempt = client.connect(plan("local.test", PolicySource.LOCAL, untrusted))) {
            assertThat(((DeliveryAttempt.Connected) attempt).tls()).isTrue();
        }
        assertThat(client.connect(plan("local.test", PolicySource.LOCAL, noTls)))
                .isInstanceOf(DeliveryAttempt.Deferred.class);
        assertThat(reports(collector, "local.test")).singleElement().satisfies(r -> {
            assertThat(r.successfulSessions()).isEqualTo(1);
            assertThat(r.failedSessions()).isEqualTo(1);
        });
    }

    @Test
    void aHostSkippedForABogusTlsaLookupAndAFailedPolicyFetchAreReported() throws Exception {
        ReportPolicy tlsa = ReportPolicy.tlsa("skip.test", List.of());
        MxPlan bogus = new MxPlan(
                EXPIRED,
                10,
                Requirement.SKIP,
                EXPIRED,
                List.of(),
                List.of(),
                Optional.of(new DaneOutcome.HostUnusable(EXPIRED, "TLSA lookup bogus", true, null)),
                tlsa,
                "TLSA lookup bogus: not used");
        MxPlan fallback = new MxPlan(
                GOOD,
                20,
                Requirement.OPPORTUNISTIC,
                GOOD,
                List.of(),
                List.of(),
                Optional.empty(),
                ReportPolicy.noPolicyFound("skip.test"),
                "t");
        DeliveryPlan plan = new DeliveryPlan(
                "skip.test",
                DeliveryPlan.Status.DELIVER,
                PolicySource.DANE,
                List.of(bogus, fallback),
                Optional.of(new StsDecision.NoPolicy(
                        "the policy fetch failed",
                        Optional.of(new StsFetch.Failed(StsFetchFailure.CONNECT, "connection refused")))),
                Optional.empty(),
                "DANE applies to 1 of 2 MX host(s)");
        TlsRptCollector collector = new TlsRptCollector();
        try (DeliveryAttempt attempt = client(dns(), collector).connect(plan)) {
            assertThat(attempt.attempts())
                    .extracting(HostAttempt::outcome)
                    .containsExactly(HostAttempt.Outcome.SKIPPED, HostAttempt.Outcome.CONNECTED);
        }
        assertThat(failures(reports(collector, "skip.test")))
                .extracting(SessionFailure::resultType)
                .containsExactlyInAnyOrder(TlsRptResult.DNSSEC_INVALID, TlsRptResult.STS_POLICY_FETCH_ERROR);
    }

    private static DeliveryPlan plan(String domain, PolicySource source, MxPlan host) {
        return new DeliveryPlan(
                domain, DeliveryPlan.Status.DELIVER, source, List.of(host), Optional.empty(), Optional.empty(), "test");
    }

    private static long countLines(String log, String text) {
        return log.lines().filter(l -> l.contains(text)).count();
    }

    private static void awaitCount(PostfixServer postfix, String text, long count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (countLines(postfix.log(), text) < count && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(countLines(postfix.log(), text)).as(postfix.log()).isEqualTo(count);
    }
}
