package dev.optls.policy.rpt;

import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.internal.Rounds;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Sends the TLS-RPT reports (RFC 8460) a {@link TlsRptCollector} gathered: after each UTC day, plus a random delay
 * (RFC 8460 §4.1: reports "should be delivered after some delay, perhaps several hours", so that receivers are not
 * flooded at midnight), the finished days are drained ({@link TlsRptCollector#drainBefore}) and, for each policy
 * domain and day:
 *
 * <ol>
 *   <li>the domain's {@code _smtp._tls} record is looked up ({@link TlsRptRecord#discover}); without a usable record
 *       nothing is sent ({@link ReportOutcome.NotWanted}, counted);
 *   <li>the report is built once ({@link TlsRptReport#forDay}, {@link TlsRptJson}, gzip and the §5.1 file name), so
 *       every attempt sends the same {@code report-id} (kept in the {@link Builder#store store} too);
 *   <li>it is POSTed to the record's {@code https:} URIs in record order ({@link HttpsReportSender}), then, if none
 *       accepted, one message ({@link TlsRptMail#build}) goes to all {@code mailto:} URIs through the {@link
 *       MailReportDelivery}; the first acceptance ends it (RFC 8460 §3);
 *   <li>otherwise (or when the record lookup itself failed) it is tried again after {@link Builder#retry first
 *       back-off} (1 h), doubling up to the longest (8 h), for at most {@link Builder#retry retry time} (24 h) after
 *       the first attempt (RFC 8460 §5.5: "a sender SHOULD attempt redelivery for up to 24 hours after the initial
 *       attempt ... with exponential backoff"); a report whose day ended more than {@link Builder#maxAge} (3 days)
 *       ago is dropped.
 * </ol>
 *
 * <p>Bounded: at most {@link Builder#maxQueued} (10,000) reports wait (more are dropped and counted), and one run
 * makes at most {@link Builder#maxPerRun} (100) attempts; the rest follow after a pause. Every outcome goes to the
 * {@link ReportListener} ({@link ReportListener#logging() logged} by default) and into {@link #counts()}.
 *
 * <p>With a {@link Builder#store store}, nothing is lost on restart: {@link #start} reads back the collector's counts
 * and the waiting reports, every run (and at least every {@link Builder#store save interval}, 5 min) saves what
 * changed, and {@link #close} saves once more. Without one, both live in memory only.
 *
 * <p>Not done here: the DKIM signature RFC 8460 §5.3 requires on report mail (the {@link MailReportDelivery}'s job).
 */
public final class ReportSchedule implements AutoCloseable {

    /** The longest random delay after midnight (UTC) before the day's reports are sent. */
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofHours(4);

    /** The delay before the first retry of a report no destination accepted; doubled after each further failure. */
    public static final Duration DEFAULT_FIRST_RETRY = Duration.ofHours(1);

    /** The longest delay between two attempts. */
    public static final Duration DEFAULT_MAX_RETRY = Duration.ofHours(8);

    /** RFC 8460 §5.5: redelivery is attempted for up to 24 hours after the initial attempt. */
    public static final Duration DEFAULT_RETRY_FOR = Duration.ofHours(24);

    /** Reports whose day ended longer ago than this are dropped unsent. */
    public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(3);

    /** The most reports waiting to be sent. */
    public static final int DEFAULT_MAX_QUEUED = 10_000;

    /** The most report attempts (each a TXT lookup and a few POSTs or one message) in one run. */
    public static final int DEFAULT_MAX_PER_RUN = 100;

    /** The longest time between two saves into the {@link Builder#store store}. */
    public static final Duration DEFAULT_SAVE_EVERY = Duration.ofMinutes(5);

    /** The pause between runs when more attempts are due than one run may make. */
    public static final Duration DEFAULT_CONTINUE_AFTER = Duration.ofMinutes(1);

    private final TlsRptCollector collector;
    private final DnsResolver dns;
    private final HttpsReportSender https;
    private final MailReportDelivery mail;
    private final String organizationName;
    private final String submitter;
    private final String contactInfo;
    private final String mailFrom;
    private final Rounds rounds;
    private final RandomGenerator random;
    private final Supplier<String> reportIds;
    private final Duration maxDelay;
    private final Duration firstRetry;
    private final Duration maxRetry;
    private final Duration retryFor;
    private final Duration maxAge;
    private final int maxQueued;
    private final int maxPerRun;
    private final Duration continueAfter;
    private final ReportListener listener;
    private final TlsRptStore store;
    private final Duration saveEvery;

    // Touched by runs (and by close, after the last run); runs follow one another (each schedules the next) and hold
    // the schedule's lock.
    private final PriorityQueue<Pending> queue =
            new PriorityQueue<>(Comparator.comparing((Pending p) -> p.retryAt).thenComparingLong(p -> p.order));
    private long order;
    private volatile Instant nextDrain;

    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong notWanted = new AtomicLong();
    private final AtomicLong gaveUp = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicInteger queued = new AtomicInteger();

    /** A report waiting for its next attempt. */
    private static final class Pending {
        final LocalDate day;
        final String domain;
        final List<PolicyReport> policies;
        final long order;
        String reportId;
        Instant retryAt;
        Instant firstAttempt;
        int attempts;
        Built built;

        Pending(TlsRptStore.Waiting w, long order) {
            this.day = w.day();
            this.domain = w.policyDomain();
            this.policies = w.policies();
            this.reportId = w.reportId();
            this.retryAt = w.retryAt();
            this.firstAttempt = w.firstAttempt();
            this.attempts = w.attempts();
            this.order = order;
        }

        TlsRptStore.Waiting waiting() {
            return new TlsRptStore.Waiting(day, domain, policies, reportId, retryAt, firstAttempt, attempts);
        }
    }

    /** The report as sent: the same bytes on every attempt. */
    private record Built(TlsRptReport report, byte[] gzipped, String fileName) {}

    /**
     * The counts so far.
     *
     * @param delivered reports a destination accepted
     * @param notWanted reports not sent because the domain has no usable TLS-RPT record
     * @param gaveUp reports given up after failed attempts
     * @param dropped reports never tried (queue full, day too long past)
     * @param queued reports waiting now
     */
    public record Counts(long delivered, long notWanted, long gaveUp, long dropped, int queued) {}

    private ReportSchedule(Builder b) {
        this.collector = b.collector;
        this.dns = b.dns;
        this.https = b.https;
        this.mail = b.mail;
        this.organizationName = b.organizationName;
        this.submitter = b.submitter;
        this.contactInfo = b.contactInfo;
        this.mailFrom = b.mailFrom;
        this.random = b.random;
        this.reportIds = b.reportIds;
        this.maxDelay = b.maxDelay;
        this.firstRetry = b.firstRetry;
        this.maxRetry = b.maxRetry;
        this.retryFor = b.retryFor;
        this.maxAge = b.maxAge;
        this.maxQueued = b.maxQueued;
        this.maxPerRun = b.maxPerRun;
        this.continueAfter = b.continueAfter;
        this.listener = b.listener;
        this.store = b.store;
        this.saveEvery = b.saveEvery;
        this.rounds = new Rounds(
                "tls-rpt report schedule",
                b.clock,
                b.executor,
                this::round,
                continueAfter,
                (e, retry) -> Rounds.tell(ReportSchedule.class, () -> listener.failed(e, retry)));
    }

    /**
     * A builder. The reporter's identity is required: {@code organizationName} ({@code organization-name}),
     * {@code submitter} (the reporting domain: file names, {@code TLS-Report-Submitter}), {@code contactInfo}
     * ({@code contact-info}) and {@code mailFrom} (the report message's {@code From}).
     */
    public static Builder builder(
            TlsRptCollector collector,
            DnsResolver dns,
            HttpsReportSender https,
            String organizationName,
            String submitter,
            String contactInfo,
            String mailFrom) {
        return new Builder(collector, dns, https, organizationName, submitter, contactInfo, mailFrom);
    }

    /**
     * Schedules the first drain: the next UTC midnight plus a random delay.
     *
     * @return when the first drain runs
     * @throws IllegalStateException if already started or closed (a caller bug)
     */
    public Instant start() {
        return rounds.start(now -> {
            synchronized (this) {
                nextDrain = restore(now) ? now : drainAfter(now);
                queued.set(queue.size());
                return store != null && nextDrain.isAfter(now.plus(saveEvery)) ? now.plus(saveEvery) : nextDrain;
            }
        });
    }

    /**
     * Reads the store back (if there is one): the counts into the collector, the waiting reports into the queue.
     *
     * @return whether counts of days already over were read (they are drained at once)
     */
    private boolean restore(Instant now) {
        if (store == null) {
            return false;
        }
        TlsRptStore.Contents contents = store.load();
        contents.collecting().forEach((day, domains) -> domains.values().forEach(p -> collector.restore(day, p)));
        contents.waiting().forEach(w -> enqueue(w, now));
        if (!contents.unreadable().isEmpty()) {
            TlsRptStoreException e = new TlsRptStoreException(
                    "TLS-RPT store " + store.file() + ": "
                            + contents.unreadable().size()
                            + " row(s) could not be read back and were left out: "
                            + String.join("; ", contents.unreadable()),
                    null);
            Rounds.tell(ReportSchedule.class, () -> listener.failed(e, now));
        }
        LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
        return contents.collecting().keySet().stream().anyMatch(day -> day.isBefore(today));
    }

    /**
     * Cancels the next run (a run in progress finishes) and shuts down the executor if the schedule created it;
     * with a {@link Builder#store store}, saves into it a last time.
     *
     * @throws TlsRptStoreException if that save fails
     */
    @Override
    public void close() {
        rounds.close();
        if (store != null) {
            synchronized (this) {
                save(null);
            }
        }
    }

    private void save(LocalDate finishedBefore) {
        Map<LocalDate, Map<String, List<PolicyReport>>> changed = collector.takeChanged();
        try {
            store.save(
                    changed,
                    finishedBefore,
                    queue.stream().map(Pending::waiting).toList());
        } catch (RuntimeException e) {
            // Written next time (the queue and the drained days are written whole every time anyway).
            collector.markChanged(changed);
            throw e;
        }
    }

    /** What the schedule did so far. */
    public Counts counts() {
        return new Counts(delivered.get(), notWanted.get(), gaveUp.get(), dropped.get(), queued.get());
    }

    /** Tells the listener; one that throws (it must not) is logged and changes nothing (no report is sent twice). */
    private void outcome(ReportOutcome o) {
        Rounds.tell(ReportSchedule.class, () -> listener.outcome(o));
    }

    private Instant drainAfter(Instant now) {
        Instant midnight = LocalDate.ofInstant(now, ZoneOffset.UTC)
                .plusDays(1)
                .atStartOfDay(ZoneOffset.UTC)
                .toInstant();
        long delay = maxDelay.isZero() ? 0 : random.nextLong(maxDelay.toMillis() + 1);
        return midnight.plusMillis(delay);
    }

    private synchronized Instant round(Instant now) {
        LocalDate drained = null;
        try {
            if (!now.isBefore(nextDrain)) {
                // RFC 8460 §4.1: one report per policy domain and UTC day, sent once the day is over.
                drained = LocalDate.ofInstant(now, ZoneOffset.UTC);
                Map<LocalDate, Map<String, List<PolicyReport>>> days = collector.drainBefore(drained);
                days.forEach((day, domains) -> domains.forEach((domain, policies) ->
                        enqueue(new TlsRptStore.Waiting(day, domain, policies, null, now, null, 0), now)));
                nextDrain = drainAfter(now);
            }
            Instant next = attempts(now);
            return store != null && next.isAfter(now.plus(saveEvery)) ? now.plus(saveEvery) : next;
        } finally {
            queued.set(queue.size());
            if (store != null) {
                save(drained);
            }
        }
    }

    private Instant attempts(Instant now) {
        int attempts = 0;
        while (!queue.isEmpty() && !queue.peek().retryAt.isAfter(now) && attempts < maxPerRun) {
            Pending p = queue.poll();
            try {
                attempt(p, now);
            } catch (RuntimeException e) {
                // A bug or a broken dependency (the mail delivery is caught in sendMail): this report is retried
                // like a failed delivery, the others still get their turn, and the listener hears of it.
                Instant retry = now.plus(retryAfter(p.attempts));
                Rounds.tell(ReportSchedule.class, () -> listener.failed(e, retry));
                failed(p, now, "unexpected error: " + e, List.of(), true);
            }
            attempts++;
        }
        Instant next = nextDrain;
        if (!queue.isEmpty() && queue.peek().retryAt.isBefore(next)) {
            next = queue.peek().retryAt;
        }
        if (!next.isAfter(now)) {
            next = now.plus(continueAfter); // more attempts due than one run may make
        }
        return next;
    }

    /** Queues a report (a day's, or one read back from the store) unless its day is too long past or the queue full. */
    private void enqueue(TlsRptStore.Waiting w, Instant now) {
        if (tooOld(w.day(), now)) {
            dropped.incrementAndGet();
            outcome(new ReportOutcome.Dropped(
                    w.policyDomain(),
                    w.day(),
                    "the day ended more than " + maxAge + " ago (the schedule was not running)"));
            return;
        }
        if (queue.size() >= maxQueued) {
            dropped.incrementAndGet();
            outcome(new ReportOutcome.Dropped(
                    w.policyDomain(), w.day(), maxQueued + " reports are already waiting (the queue is full)"));
            return;
        }
        queue.add(new Pending(w, order++));
    }

    private boolean tooOld(LocalDate day, Instant now) {
        Instant end = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        return now.isAfter(end.plus(maxAge));
    }

    private void attempt(Pending p, Instant now) {
        if (p.firstAttempt == null) {
            p.firstAttempt = now;
        }
        p.attempts++;
        TlsRptRecordOutcome record = TlsRptRecord.discover(dns, p.domain);
        if (record instanceof TlsRptRecordOutcome.LookupFailed failed) {
            // Whether reports are wanted is unknown: try again, like a failed delivery.
            failed(p, now, failed.owner() + ": " + failed.reason(), List.of(), true);
            return;
        }
        if (!(record instanceof TlsRptRecordOutcome.Valid valid)) {
            // RFC 8460 §3: no (single, valid) record — the domain does not implement TLSRPT; nothing is sent.
            notWanted.incrementAndGet();
            outcome(new ReportOutcome.NotWanted(p.domain, p.day, describe(record)));
            return;
        }
        if (p.built == null) {
            TlsRptReport report = TlsRptReport.forDay(
                    organizationName,
                    contactInfo,
                    p.reportId != null ? p.reportId : reportIds.get(),
                    p.day,
                    p.policies);
            p.reportId = report.reportId();
            p.built = new Built(
                    report,
                    TlsRptFiles.gzip(TlsRptJson.toBytes(report)),
                    TlsRptFiles.fileName(submitter, report, null));
        }
        List<ReportDelivery> deliveries = new ArrayList<>();
        for (URI uri : valid.record().httpsDestinations()) {
            ReportDelivery d = https.post(uri, p.built.gzipped());
            deliveries.add(d);
            if (d.accepted()) {
                delivered(p, deliveries);
                return;
            }
        }
        List<URI> mailto = valid.record().rua().stream()
                .filter(u -> "mailto".equals(u.getScheme()))
                .toList();
        boolean usable = !valid.record().httpsDestinations().isEmpty();
        if (!mailto.isEmpty()) {
            if (mail == null) {
                for (URI uri : mailto) {
                    deliveries.add(new ReportDelivery.Failed(
                            uri, "no mail delivery is configured (ReportSchedule.Builder.mail)"));
                }
            } else {
                usable = true;
                deliveries.addAll(sendMail(p, valid.record(), mailto, now));
                if (deliveries.stream().anyMatch(ReportDelivery::accepted)) {
                    delivered(p, deliveries);
                    return;
                }
            }
        }
        failed(p, now, summary(deliveries), deliveries, usable);
    }

    private List<ReportDelivery> sendMail(Pending p, TlsRptRecord record, List<URI> mailto, Instant now) {
        byte[] message;
        try {
            message = TlsRptMail.build(
                    mailFrom,
                    String.join(", ", record.mailDestinations()),
                    submitter,
                    p.built.report(),
                    p.built.gzipped(),
                    p.built.fileName(),
                    ZonedDateTime.ofInstant(now, ZoneOffset.UTC));
        } catch (IllegalArgumentException e) {
            // A mailto: address that cannot go in a header (percent-encoded CR/LF, non-ASCII): a peer fault.
            return mailto.stream()
                    .map(u -> (ReportDelivery)
                            new ReportDelivery.Failed(u, "cannot address the message: " + e.getMessage()))
                    .toList();
        }
        try {
            List<ReportDelivery> results = mail.send(message, mailto);
            return results == null ? List.of() : results;
        } catch (RuntimeException e) {
            return mailto.stream()
                    .map(u -> (ReportDelivery) new ReportDelivery.Failed(u, "mail delivery failed: " + e))
                    .toList();
        }
    }

    private void delivered(Pending p, List<ReportDelivery> deliveries) {
        delivered.incrementAndGet();
        outcome(new ReportOutcome.Delivered(p.domain, p.day, p.reportId, p.attempts, deliveries));
    }

    private void failed(Pending p, Instant now, String reason, List<ReportDelivery> deliveries, boolean retryable) {
        Instant retryAt = now.plus(retryAfter(p.attempts));
        String giveUp = null;
        if (!retryable) {
            giveUp = reason + "; no destination can be used";
        } else if (retryAt.isAfter(p.firstAttempt.plus(retryFor))) {
            // RFC 8460 §5.5: redelivery for up to 24 hours after the initial attempt.
            giveUp = reason + "; no retry left within " + retryFor + " of the first attempt";
        } else if (tooOld(p.day, retryAt)) {
            giveUp = reason + "; the report would be older than " + maxAge;
        }
        if (giveUp != null) {
            gaveUp.incrementAndGet();
            outcome(new ReportOutcome.GaveUp(p.domain, p.day, p.attempts, giveUp, deliveries));
            return;
        }
        p.retryAt = retryAt;
        queue.add(p);
        outcome(new ReportOutcome.WillRetry(p.domain, p.day, p.attempts, reason, deliveries, retryAt));
    }

    /** {@code firstRetry * 2^(attempts-1)}, at most {@code maxRetry}. */
    Duration retryAfter(int attempts) {
        Duration d = firstRetry;
        for (int i = 1; i < attempts && d.compareTo(maxRetry) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(maxRetry) > 0 ? maxRetry : d;
    }

    private static String summary(List<ReportDelivery> deliveries) {
        if (deliveries.isEmpty()) {
            return "no destination";
        }
        List<String> parts = new ArrayList<>();
        for (ReportDelivery d : deliveries) {
            if (d instanceof ReportDelivery.Rejected r) {
                parts.add(r.destination() + " answered " + r.status());
            } else if (d instanceof ReportDelivery.Failed f) {
                parts.add(f.destination() + ": " + f.reason());
            }
        }
        return "not accepted: " + String.join("; ", parts);
    }

    private static String describe(TlsRptRecordOutcome record) {
        if (record instanceof TlsRptRecordOutcome.Absent a) {
            return "no TLS-RPT record (" + a.reason() + ")";
        }
        if (record instanceof TlsRptRecordOutcome.Invalid i) {
            return "invalid TLS-RPT record '" + i.text() + "' (" + i.reason() + ")";
        }
        return ((TlsRptRecordOutcome.Multiple) record).records().size()
                + " records begin with v=TLSRPTv1; (RFC 8460 §3 requires exactly one)";
    }

    /** Settings of a {@link ReportSchedule}; all but the reporter's identity have defaults. */
    public static final class Builder {
        private final TlsRptCollector collector;
        private final DnsResolver dns;
        private final HttpsReportSender https;
        private final String organizationName;
        private final String submitter;
        private final String contactInfo;
        private final String mailFrom;
        private MailReportDelivery mail;
        private Clock clock = Clock.systemUTC();
        private ScheduledExecutorService executor;
        private RandomGenerator random = new SplittableRandom();
        private Supplier<String> reportIds = () -> UUID.randomUUID().toString();
        private Duration maxDelay = DEFAULT_MAX_DELAY;
        private Duration firstRetry = DEFAULT_FIRST_RETRY;
        private Duration maxRetry = DEFAULT_MAX_RETRY;
        private Duration retryFor = DEFAULT_RETRY_FOR;
        private Duration maxAge = DEFAULT_MAX_AGE;
        private int maxQueued = DEFAULT_MAX_QUEUED;
        private int maxPerRun = DEFAULT_MAX_PER_RUN;
        private Duration continueAfter = DEFAULT_CONTINUE_AFTER;
        private ReportListener listener = ReportListener.logging();
        private TlsRptStore store;
        private Duration saveEvery = DEFAULT_SAVE_EVERY;

        private Builder(
                TlsRptCollector collector,
                DnsResolver dns,
                HttpsReportSender https,
                String organizationName,
                String submitter,
                String contactInfo,
                String mailFrom) {
            this.collector = Objects.requireNonNull(collector, "collector");
            this.dns = Objects.requireNonNull(dns, "dns");
            this.https = Objects.requireNonNull(https, "https");
            this.organizationName = Objects.requireNonNull(organizationName, "organizationName");
            this.contactInfo = Objects.requireNonNull(contactInfo, "contactInfo");
            this.mailFrom = Objects.requireNonNull(mailFrom, "mailFrom");
            // Checked now rather than at the first report: it goes into every file name.
            TlsRptFiles.fileName(submitter, "example.com", Instant.EPOCH, Instant.EPOCH, null);
            this.submitter = submitter;
        }

        /** Delivery for {@code mailto:} destinations (default: none; such destinations then fail). */
        public Builder mail(MailReportDelivery mail) {
            this.mail = Objects.requireNonNull(mail, "mail");
            return this;
        }

        /** The clock (default: the system's UTC clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The executor that runs the task (default: a daemon thread of its own, shut down by {@link #close}); one
         * given here is not shut down by the schedule.
         */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** The source of the delay after midnight. */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /** Where report ids come from (default: random UUIDs). */
        public Builder reportIds(Supplier<String> reportIds) {
            this.reportIds = Objects.requireNonNull(reportIds, "reportIds");
            return this;
        }

        /** The day's reports are sent a random 0 to {@code maxDelay} after midnight UTC (default 4 h). */
        public Builder maxDelay(Duration maxDelay) {
            Objects.requireNonNull(maxDelay, "maxDelay");
            if (maxDelay.isNegative() || maxDelay.compareTo(Duration.ofHours(20)) > 0) {
                throw new IllegalArgumentException("maxDelay must be 0 to 20 hours, not " + maxDelay);
            }
            this.maxDelay = maxDelay;
            return this;
        }

        /**
         * Retries: the first after {@code first} (default 1 h), doubling up to {@code max} (8 h), none later than
         * {@code retryFor} (24 h) after the first attempt.
         */
        public Builder retry(Duration first, Duration max, Duration retryFor) {
            positive(first, "first retry");
            positive(max, "longest retry");
            positive(retryFor, "retry time");
            if (max.compareTo(first) < 0) {
                throw new IllegalArgumentException("the longest retry " + max + " is shorter than the first " + first);
            }
            this.firstRetry = first;
            this.maxRetry = max;
            this.retryFor = retryFor;
            return this;
        }

        /** Reports whose day ended longer ago than this are dropped (default 3 days). */
        public Builder maxAge(Duration maxAge) {
            this.maxAge = positive(maxAge, "maxAge");
            return this;
        }

        /** The most reports waiting (default 10,000). */
        public Builder maxQueued(int maxQueued) {
            if (maxQueued < 1) {
                throw new IllegalArgumentException("maxQueued must be at least 1, not " + maxQueued);
            }
            this.maxQueued = maxQueued;
            return this;
        }

        /** The most attempts in one run (default 100) and the pause before the next part (default 1 min). */
        public Builder maxPerRun(int maxPerRun, Duration continueAfter) {
            if (maxPerRun < 1) {
                throw new IllegalArgumentException("maxPerRun must be at least 1, not " + maxPerRun);
            }
            this.maxPerRun = maxPerRun;
            this.continueAfter = positive(continueAfter, "continueAfter");
            return this;
        }

        /**
         * Keeps the collector's counts and the waiting reports in {@code store} (default: none, both in memory only),
         * saved after every run and at least every {@code saveEvery} (default 5 min); the schedule does not close it.
         */
        public Builder store(TlsRptStore store, Duration saveEvery) {
            this.store = Objects.requireNonNull(store, "store");
            this.saveEvery = positive(saveEvery, "saveEvery");
            return this;
        }

        /** Who hears of outcomes (default: {@link ReportListener#logging()}). */
        public Builder listener(ReportListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** The schedule, not started. */
        public ReportSchedule build() {
            return new ReportSchedule(this);
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, not " + d);
            }
            return d;
        }
    }
}
