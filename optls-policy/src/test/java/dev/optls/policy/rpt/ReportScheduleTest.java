package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.optls.policy.ManualScheduler;
import dev.optls.policy.MutableClock;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordData;
import dev.optls.policy.dns.RecordType;
import dev.optls.testkit.ClosedPort;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReportSchedule} (RFC 8460 §4.1, §5) on a manual executor and a clock the test moves (no test sleeps): real
 * gzip reports POSTed to the JDK's HttpsServer on 127.0.0.1, a recording fake mail delivery, a TXT table for the
 * {@code _smtp._tls} records.
 */
class ReportScheduleTest {

    private static final TestPki PKI = TestPki.create();
    private static final Credential LOOPBACK =
            PKI.leaf("localhost").ipAddresses("127.0.0.1").issue();

    /** 2026-03-01, mid-morning UTC. */
    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

    private static final LocalDate DAY = LocalDate.of(2026, 3, 1);
    private static final Instant MIDNIGHT = Instant.parse("2026-03-02T00:00:00Z");
    private static final Duration H = Duration.ofHours(1);

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(T0);
    private final ManualScheduler executor = new ManualScheduler(clock);
    private final TxtTable dns = new TxtTable();
    private final TlsRptCollector collector = new TlsRptCollector();
    private final List<ReportOutcome> outcomes = new CopyOnWriteArrayList<>();
    private final List<Sent> mails = new CopyOnWriteArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();
    /** A port where HTTPS deliveries are refused. */
    private final ClosedPort closedPort = ClosedPort.open();

    private Function<URI, ReportDelivery> mailAnswer = uri -> new ReportDelivery.Accepted(uri, 250);

    private HttpsServer server;
    private ExecutorService serverThreads;
    private final List<byte[]> posted = new CopyOnWriteArrayList<>();
    private final List<String> postedTypes = new CopyOnWriteArrayList<>();

    record Sent(String message, List<URI> to, Instant at) {}

    /** Answers TXT questions from a table; unknown names are NXDOMAIN. */
    static final class TxtTable implements DnsResolver {
        final Map<String, DnsAnswer<String>> answers = new ConcurrentHashMap<>();

        void records(String name, String... records) {
            answers.put(
                    name,
                    new DnsAnswer.Records<>(name, RecordType.TXT, List.of(), DnssecStatus.INSECURE, List.of(records)));
        }

        void servfail(String name) {
            answers.put(
                    name,
                    new DnsAnswer.Failed<>(
                            name,
                            RecordType.TXT,
                            List.of(),
                            DnssecStatus.INDETERMINATE,
                            LookupFailure.SERVFAIL,
                            "SERVFAIL (fake)"));
        }

        @Override
        public DnsAnswer<String> txt(String name) {
            String n = DnsNames.normalize(name);
            DnsAnswer<String> a = answers.get(n);
            return a != null ? a : new DnsAnswer.NxDomain<>(n, RecordType.TXT, List.of(), DnssecStatus.INSECURE);
        }

        @Override
        public DnsAnswer<MxRecord> mx(String domain) {
            throw new AssertionError("MX not expected");
        }

        @Override
        public DnsAnswer<InetAddress> addresses(String host, RecordType type) {
            throw new AssertionError("addresses not expected");
        }

        @Override
        public DnsAnswer<String> cname(String name) {
            throw new AssertionError("CNAME not expected");
        }

        @Override
        public DnsAnswer<RecordData> tlsa(String name) {
            throw new AssertionError("TLSA not expected");
        }
    }

    @AfterEach
    void stop() {
        closedPort.close();
        if (server != null) {
            server.stop(0);
            serverThreads.shutdownNow();
        }
    }

    private URI startServer(int status) throws IOException {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(LOOPBACK.serverContext()));
        serverThreads = Executors.newFixedThreadPool(2);
        server.setExecutor(serverThreads);
        server.createContext("/", exchange -> {
            try (exchange) {
                postedTypes.add(exchange.getRequestMethod() + " "
                        + exchange.getRequestHeaders().getFirst("Content-Type"));
                posted.add(exchange.getRequestBody().readAllBytes());
                exchange.sendResponseHeaders(status, -1);
            }
        });
        server.start();
        return URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/v1/tlsrpt");
    }

    private ReportSchedule.Builder schedule() {
        return schedule(collector);
    }

    private ReportSchedule.Builder schedule(TlsRptCollector collector) {
        return ReportSchedule.builder(
                        collector,
                        dns,
                        HttpsReportSender.create(PKI.clientContext(), Duration.ofSeconds(5), Duration.ofSeconds(10)),
                        "Optls Test",
                        "mail.sender.test",
                        "tlsrpt@sender.test",
                        "tlsrpt-noreply@sender.test")
                .clock(clock)
                .executor(executor)
                .reportIds(() -> "report-" + ids.incrementAndGet())
                .mail((message, to) -> {
                    mails.add(new Sent(new String(message, StandardCharsets.US_ASCII), to, clock.instant()));
                    List<ReportDelivery> r = new ArrayList<>();
                    to.forEach(u -> r.add(mailAnswer.apply(u)));
                    return r;
                })
                .listener(outcomes::add);
    }

    private static ReportPolicy sts(String domain) {
        return ReportPolicy.sts(
                domain,
                List.of("version: STSv1", "mode: enforce", "mx: mx." + domain, "max_age: 86400"),
                List.of("mx." + domain));
    }

    private void sessions(String domain, Instant when, int ok, int failed) {
        for (int i = 0; i < ok; i++) {
            collector.recordSuccess(sts(domain), when);
        }
        for (int i = 0; i < failed; i++) {
            collector.recordFailure(
                    sts(domain), SessionFailure.of(TlsRptResult.CERTIFICATE_EXPIRED, "mx." + domain), when);
        }
    }

    private static TlsRptReport gunzipReport(byte[] gz) {
        byte[] json = TlsRptFiles.gunzip(gz, 1 << 20).orElseThrow();
        return ((TlsRptParse.Parsed) TlsRptJson.parse(json)).report();
    }

    /** The report attached to a message built by {@link TlsRptMail}. */
    private static TlsRptReport attachedReport(String message) {
        Matcher m = Pattern.compile("Content-Transfer-Encoding: base64\r\n.*?\r\n\r\n(.*?)\r\n\r\n--", Pattern.DOTALL)
                .matcher(message);
        assertThat(m.find()).isTrue();
        return gunzipReport(Base64.getMimeDecoder().decode(m.group(1)));
    }

    private List<Instant> attemptTimes(String domain) {
        List<Instant> times = new ArrayList<>();
        for (Sent s : mails) {
            if (s.message().contains("TLS-Report-Domain: " + domain + "\r\n")) {
                times.add(s.at());
            }
        }
        return times;
    }

    @Test
    void afterTheDayPlusADelayPostsTheGzippedReportAndSkipsDomainsWithoutARecord() throws Exception {
        URI endpoint = startServer(202);
        dns.records("_smtp._tls.https.test", "v=TLSRPTv1; rua=" + endpoint);
        dns.records("_smtp._tls.quiet.test", "v=spf1 -all");
        sessions("https.test", T0, 7, 2);
        sessions("quiet.test", T0, 3, 0);
        sessions("https.test", MIDNIGHT.plus(H), 1, 0); // the next day: not reported yet

        Instant drain = schedule().maxDelay(Duration.ofHours(4)).build().start();

        // RFC 8460 §4.1: after the UTC day, with some delay.
        assertThat(drain).isBetween(MIDNIGHT, MIDNIGHT.plus(Duration.ofHours(4)));
        assertThat(executor.nextDue()).contains(drain);
        executor.runNext();

        assertThat(postedTypes).containsExactly("POST application/tlsrpt+gzip");
        TlsRptReport report = gunzipReport(posted.get(0));
        assertThat(report.organizationName()).isEqualTo("Optls Test");
        assertThat(report.contactInfo()).isEqualTo("tlsrpt@sender.test");
        assertThat(report.reportId()).isEqualTo("report-1");
        assertThat(report.start()).isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
        assertThat(report.end()).isEqualTo(Instant.parse("2026-03-01T23:59:59Z"));
        assertThat(report.policies()).singleElement().satisfies(p -> {
            assertThat(p.policy()).isEqualTo(sts("https.test"));
            assertThat(p.successfulSessions()).isEqualTo(7);
            assertThat(p.failedSessions()).isEqualTo(2);
            assertThat(p.failureDetails())
                    .containsExactly(
                            new FailureDetail(SessionFailure.of(TlsRptResult.CERTIFICATE_EXPIRED, "mx.https.test"), 2));
        });
        assertThat(outcomes)
                .containsExactlyInAnyOrder(
                        new ReportOutcome.Delivered(
                                "https.test", DAY, "report-1", 1, List.of(new ReportDelivery.Accepted(endpoint, 202))),
                        new ReportOutcome.NotWanted(
                                "quiet.test",
                                DAY,
                                "no TLS-RPT record (1 TXT record(s), none beginning with v=TLSRPTv1;)"));
        assertThat(mails).isEmpty();
        assertThat(collector.snapshot("https.test", DAY)).isEmpty();
        assertThat(collector.snapshot("https.test", DAY.plusDays(1))).isPresent();
        assertThat(executor.nextDue().orElseThrow())
                .isBetween(
                        MIDNIGHT.plus(Duration.ofDays(1)),
                        MIDNIGHT.plus(Duration.ofDays(1)).plus(Duration.ofHours(4)));
        assertThat(schedule().build().counts()).isEqualTo(new ReportSchedule.Counts(0, 0, 0, 0, 0));
    }

    @Test
    void mailtoDestinationsGetOneMessageAfterHttpsFailed() throws Exception {
        URI closed = URI.create("https://127.0.0.1:" + closedPort.port() + "/");
        dns.records("_smtp._tls.mail.test", "v=TLSRPTv1; rua=mailto:a@mail.test," + closed + ",mailto:b@mail.test");
        sessions("mail.test", T0, 5, 1);
        ReportSchedule s = schedule().maxDelay(Duration.ZERO).build();
        s.start();

        executor.runNext();

        assertThat(mails).singleElement().satisfies(m -> {
            assertThat(m.to()).containsExactly(URI.create("mailto:a@mail.test"), URI.create("mailto:b@mail.test"));
            assertThat(m.message())
                    .contains("From: tlsrpt-noreply@sender.test\r\n")
                    .contains("To: a@mail.test, b@mail.test\r\n")
                    .contains("TLS-Report-Domain: mail.test\r\n")
                    .contains("TLS-Report-Submitter: mail.sender.test\r\n")
                    .contains("Subject: Report Domain: mail.test Submitter: mail.sender.test Report-ID: <report-1>")
                    .contains("filename=\"mail.sender.test!mail.test!1772323200!1772409599.json.gz\"");
            TlsRptReport report = attachedReport(m.message());
            assertThat(report.reportId()).isEqualTo("report-1");
            assertThat(report.policies().get(0).successfulSessions()).isEqualTo(5);
        });
        assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReportOutcome.Delivered.class, d -> {
            assertThat(d.deliveries()).hasSize(3);
            assertThat(d.deliveries().get(0)).isInstanceOf(ReportDelivery.Failed.class);
            assertThat(d.deliveries().get(0).destination()).isEqualTo(closed);
            assertThat(d.deliveries().get(1))
                    .isEqualTo(new ReportDelivery.Accepted(URI.create("mailto:a@mail.test"), 250));
        });
        assertThat(s.counts()).isEqualTo(new ReportSchedule.Counts(1, 0, 0, 0, 0));
    }

    @Test
    void failedDeliveriesAreRetriedWithBackoffForADayThenGivenUp() {
        dns.records("_smtp._tls.down.test", "v=TLSRPTv1; rua=mailto:tlsrpt@down.test");
        sessions("down.test", T0, 1, 0);
        mailAnswer = uri -> new ReportDelivery.Failed(uri, "451 try again later");
        ReportSchedule s = schedule().maxDelay(Duration.ZERO).build();
        s.start();

        while (executor.nextDue().orElseThrow().isBefore(MIDNIGHT.plus(Duration.ofDays(1)))) {
            executor.runNext();
        }

        // RFC 8460 §5.5: retries with exponential back-off (1 h doubling, at most 8 h) for 24 h after the first.
        List<Instant> times = attemptTimes("down.test");
        assertThat(times)
                .containsExactly(
                        MIDNIGHT,
                        MIDNIGHT.plus(H),
                        MIDNIGHT.plus(H.multipliedBy(3)),
                        MIDNIGHT.plus(H.multipliedBy(7)),
                        MIDNIGHT.plus(H.multipliedBy(15)),
                        MIDNIGHT.plus(H.multipliedBy(23)));
        assertThat(mails)
                .extracting(m -> attachedReport(m.message()).reportId())
                .containsOnly("report-1");
        assertThat(outcomes).hasSize(6);
        assertThat(outcomes.subList(0, 5)).allSatisfy(o -> assertThat(o).isInstanceOf(ReportOutcome.WillRetry.class));
        assertThat(((ReportOutcome.WillRetry) outcomes.get(0)).retryAt()).isEqualTo(MIDNIGHT.plus(H));
        assertThat(((ReportOutcome.WillRetry) outcomes.get(0)).reason()).contains("451 try again later");
        assertThat(outcomes.get(5)).isInstanceOfSatisfying(ReportOutcome.GaveUp.class, g -> {
            assertThat(g.attempts()).isEqualTo(6);
            assertThat(g.reason()).contains("no retry left within PT24H");
        });
        assertThat(s.counts()).isEqualTo(new ReportSchedule.Counts(0, 0, 1, 0, 0));
    }

    @Test
    void withAStoreARestartLosesNeitherTheDaysCountsNorAWaitingReport() {
        dns.records("_smtp._tls.mail.test", "v=TLSRPTv1; rua=mailto:tlsrpt@mail.test");
        Path file = dir.resolve("tlsrpt.db");
        try (TlsRptStore store = TlsRptStore.open(file)) {
            // The first process: sessions during the day, then it stops (close saves).
            ReportSchedule first = schedule()
                    .maxDelay(Duration.ZERO)
                    .store(store, Duration.ofMinutes(5))
                    .build();
            assertThat(first.start()).isEqualTo(T0.plus(Duration.ofMinutes(5))); // the first save is due first
            sessions("mail.test", T0, 5, 1);
            executor.runNext(); // a save round: nothing to send yet
            assertThat(mails).isEmpty();
            sessions("mail.test", T0.plus(Duration.ofMinutes(6)), 2, 0);
            first.close();
        }

        // The second process, with a collector of its own, starts after midnight: it sends the day's report, with
        // the sessions of both saves, and its first attempt fails.
        clock.set(MIDNIGHT.plus(Duration.ofMinutes(30)));
        mailAnswer = uri -> new ReportDelivery.Failed(uri, "451 try again later");
        TlsRptCollector second = new TlsRptCollector();
        try (TlsRptStore store = TlsRptStore.open(file)) {
            ReportSchedule s =
                    schedule(second).store(store, Duration.ofMinutes(5)).build();
            assertThat(s.start()).isEqualTo(clock.instant()); // days already over are drained at once
            executor.runNext();
            assertThat(mails).singleElement().satisfies(m -> {
                TlsRptReport report = attachedReport(m.message());
                assertThat(report.reportId()).isEqualTo("report-1");
                assertThat(report.policies().get(0).successfulSessions()).isEqualTo(7);
                assertThat(report.policies().get(0).failedSessions()).isEqualTo(1);
            });
            assertThat(s.counts().queued()).isEqualTo(1);
            s.close();
        }

        // The third: the waiting report is tried again when due, with the same report id, as attempt 2.
        mailAnswer = uri -> new ReportDelivery.Accepted(uri, 250);
        outcomes.clear();
        try (TlsRptStore store = TlsRptStore.open(file)) {
            ReportSchedule s = schedule(new TlsRptCollector())
                    .store(store, Duration.ofMinutes(5))
                    .build();
            s.start();
            assertThat(s.counts().queued()).isEqualTo(1);
            while (outcomes.isEmpty()) {
                executor.runNext();
            }
            assertThat(clock.instant()).isEqualTo(MIDNIGHT.plus(Duration.ofMinutes(90)));
            assertThat(outcomes)
                    .singleElement()
                    .isEqualTo(new ReportOutcome.Delivered(
                            "mail.test",
                            DAY,
                            "report-1",
                            2,
                            List.of(new ReportDelivery.Accepted(URI.create("mailto:tlsrpt@mail.test"), 250))));
            s.close();
            assertThat(store.load().waiting()).isEmpty();
            assertThat(store.load().collecting()).isEmpty();
        }
    }

    @Test
    void aRetryThatSucceedsSendsTheSameReportAndALookupFailureIsRetriedToo() {
        dns.servfail("_smtp._tls.flaky.test");
        sessions("flaky.test", T0, 2, 0);
        AtomicInteger calls = new AtomicInteger();
        mailAnswer = uri -> calls.incrementAndGet() == 1
                ? new ReportDelivery.Rejected(uri, 452)
                : new ReportDelivery.Accepted(uri, 250);
        ReportSchedule s = schedule().maxDelay(Duration.ZERO).build();
        s.start();

        executor.runNext(); // SERVFAIL: retried in 1 h
        assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReportOutcome.WillRetry.class, r -> {
            assertThat(r.reason()).contains("_smtp._tls.flaky.test").contains("SERVFAIL");
            assertThat(r.retryAt()).isEqualTo(MIDNIGHT.plus(H));
        });
        dns.records("_smtp._tls.flaky.test", "v=TLSRPTv1; rua=mailto:r@flaky.test");
        executor.runNext(); // 452: retried in 2 h
        executor.runNext(); // accepted

        assertThat(attemptTimes("flaky.test")).containsExactly(MIDNIGHT.plus(H), MIDNIGHT.plus(H.multipliedBy(3)));
        assertThat(mails)
                .extracting(m -> attachedReport(m.message()).reportId())
                .containsOnly("report-1");
        assertThat(outcomes.get(2))
                .isInstanceOfSatisfying(
                        ReportOutcome.Delivered.class,
                        d -> assertThat(d.attempt()).isEqualTo(3));
        assertThat(s.counts()).isEqualTo(new ReportSchedule.Counts(1, 0, 0, 0, 0));
    }

    @Test
    void theQueueIsBoundedAndOldDaysAreDropped() {
        for (String d : List.of("a.test", "b.test", "c.test")) {
            dns.records("_smtp._tls." + d, "v=TLSRPTv1; rua=mailto:r@" + d);
            sessions(d, T0, 1, 0);
        }
        sessions("old.test", T0.minus(Duration.ofDays(5)), 1, 0);
        ReportSchedule s = schedule().maxDelay(Duration.ZERO).maxQueued(2).build();
        s.start();

        executor.runNext();

        assertThat(outcomes)
                .filteredOn(o -> o instanceof ReportOutcome.Dropped)
                .extracting(o -> o.policyDomain() + " " + ((ReportOutcome.Dropped) o).reason())
                .containsExactly(
                        "old.test the day ended more than PT72H ago (the schedule was not running)",
                        "c.test 2 reports are already waiting (the queue is full)");
        assertThat(mails).hasSize(2);
        assertThat(s.counts()).isEqualTo(new ReportSchedule.Counts(2, 0, 0, 2, 0));
    }

    @Test
    void oneRunMakesABoundedNumberOfAttempts() {
        for (String d : List.of("a.test", "b.test", "c.test")) {
            dns.records("_smtp._tls." + d, "v=TLSRPTv1; rua=mailto:r@" + d);
            sessions(d, T0, 1, 0);
        }
        ReportSchedule s = schedule()
                .maxDelay(Duration.ZERO)
                .maxPerRun(2, Duration.ofMinutes(1))
                .build();
        s.start();

        executor.runNext();
        assertThat(mails).hasSize(2);
        assertThat(s.counts().queued()).isEqualTo(1);
        assertThat(executor.nextDue()).contains(MIDNIGHT.plus(Duration.ofMinutes(1)));
        executor.runNext();
        assertThat(mails).extracting(Sent::at).containsExactly(MIDNIGHT, MIDNIGHT, MIDNIGHT.plusSeconds(60));
        assertThat(s.counts()).isEqualTo(new ReportSchedule.Counts(3, 0, 0, 0, 0));
    }

    @Test
    void mailtoWithoutAMailDeliveryIsGivenUpAtOnce() {
        dns.records("_smtp._tls.mailonly.test", "v=TLSRPTv1; rua=mailto:r@mailonly.test");
        sessions("mailonly.test", T0, 1, 0);
        ReportSchedule s = ReportSchedule.builder(
                        collector,
                        dns,
                        HttpsReportSender.create(PKI.clientContext(), Duration.ofSeconds(5), Duration.ofSeconds(10)),
                        "Optls Test",
                        "mail.sender.test",
                        "tlsrpt@sender.test",
                        "tlsrpt-noreply@sender.test")
                .clock(clock)
                .executor(executor)
                .maxDelay(Duration.ZERO)
                .listener(outcomes::add)
                .build();
        s.start();

        executor.runNext();

        assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReportOutcome.GaveUp.class, g -> {
            assertThat(g.attempts()).isEqualTo(1);
            assertThat(g.reason()).contains("no mail delivery is configured").contains("no destination can be used");
        });
        assertThat(executor.nextDue().orElseThrow()).isAfter(MIDNIGHT.plus(Duration.ofHours(23)));
    }

    @Test
    void anAddressThatCannotGoInAHeaderFailsThatDestinationOnly() {
        // %0D%0A decodes to CR LF: it must not reach the To header (header injection).
        dns.records("_smtp._tls.inject.test", "v=TLSRPTv1; rua=mailto:a@inject.test%0D%0ABcc:x@evil.test");
        sessions("inject.test", T0, 1, 0);
        ReportSchedule s = schedule().maxDelay(Duration.ZERO).build();
        s.start();

        executor.runNext();

        assertThat(mails).isEmpty();
        assertThat(outcomes)
                .singleElement()
                .isInstanceOfSatisfying(
                        ReportOutcome.WillRetry.class,
                        r -> assertThat(r.reason()).contains("cannot address the message"));
    }

    @Test
    void aUriTheHttpClientRefusesIsAFailedDestinationNotACrash() {
        // Regression: HttpsReportSender threw IllegalArgumentException ("port out of range") for this record.
        dns.records("_smtp._tls.port.test", "v=TLSRPTv1; rua=https://127.0.0.1:99999/r,mailto:r@port.test");
        sessions("port.test", T0, 1, 0);
        ReportSchedule s = schedule().maxDelay(Duration.ZERO).build();
        s.start();

        executor.runNext();

        assertThat(outcomes).singleElement().isInstanceOfSatisfying(ReportOutcome.Delivered.class, d -> {
            assertThat(d.deliveries().get(0))
                    .isInstanceOfSatisfying(
                            ReportDelivery.Failed.class,
                            f -> assertThat(f.reason()).contains("port out of range"));
            assertThat(d.deliveries().get(1)).isInstanceOf(ReportDelivery.Accepted.class);
        });
    }

    @Test
    void anUnexpectedErrorRetriesThatReportAndTheOthersStillGo() {
        for (String d : List.of("a.test", "b.test")) {
            dns.records("_smtp._tls." + d, "v=TLSRPTv1; rua=mailto:r@" + d);
            sessions(d, T0, 1, 0);
        }
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        ReportSchedule s = schedule()
                .maxDelay(Duration.ZERO)
                .reportIds(() -> {
                    if (calls.incrementAndGet() == 1) {
                        throw new IllegalStateException("id source broken");
                    }
                    return "report-" + calls.get();
                })
                .listener(new ReportListener() {
                    @Override
                    public void outcome(ReportOutcome outcome) {
                        outcomes.add(outcome);
                    }

                    @Override
                    public void failed(RuntimeException error, Instant nextAttempt) {
                        failures.add(error.getMessage() + " next " + nextAttempt);
                    }
                })
                .build();
        s.start();

        executor.runNext();
        executor.runNext();

        assertThat(failures).containsExactly("id source broken next " + MIDNIGHT.plus(H));
        assertThat(outcomes)
                .extracting(o -> o.getClass().getSimpleName() + " " + o.policyDomain())
                .containsExactly("WillRetry a.test", "Delivered b.test", "Delivered a.test");
        assertThat(mails).extracting(Sent::at).containsExactly(MIDNIGHT, MIDNIGHT.plus(H));
    }

    @Test
    void aListenerThatThrowsNeitherResendsAReportNorStopsTheSchedule() {
        dns.records("_smtp._tls.once.test", "v=TLSRPTv1; rua=mailto:r@once.test");
        sessions("once.test", T0, 1, 0);
        ReportSchedule s = schedule()
                .maxDelay(Duration.ZERO)
                .listener(o -> {
                    throw new IllegalStateException("listener broken");
                })
                .build();
        s.start();

        executor.runNext();

        assertThat(mails).hasSize(1);
        assertThat(s.counts()).isEqualTo(new ReportSchedule.Counts(1, 0, 0, 0, 0));
        assertThat(executor.nextDue()).contains(MIDNIGHT.plus(Duration.ofDays(1)));
    }

    @Test
    void closeCancelsTheNextRunAndSettingsAreChecked() {
        ReportSchedule s = schedule().build();
        s.start();
        assertThatThrownBy(s::start).isInstanceOf(IllegalStateException.class);
        s.close();
        assertThat(executor.pending()).isEmpty();

        assertThatThrownBy(() -> schedule().retry(H.multipliedBy(2), H, Duration.ofDays(1)))
                .hasMessageContaining("shorter than the first");
        assertThatThrownBy(() -> schedule().maxDelay(Duration.ofHours(21))).hasMessageContaining("0 to 20 hours");
        assertThatThrownBy(() -> ReportSchedule.builder(
                        collector, dns, HttpsReportSender.create(), "o", "bad!submitter", "c", "f"))
                .hasMessageContaining("'!'");
        assertThat(List.of(1, 2, 3, 4, 5, 100).stream()
                        .map(schedule().build()::retryAfter)
                        .toList())
                .containsExactly(
                        H,
                        H.multipliedBy(2),
                        H.multipliedBy(4),
                        H.multipliedBy(8),
                        H.multipliedBy(8),
                        H.multipliedBy(8));
    }
}
