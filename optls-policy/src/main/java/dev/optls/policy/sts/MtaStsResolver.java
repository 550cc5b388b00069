package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Policy discovery and application of RFC 8461 §3 and §5.1 for one policy domain: look up the {@code _mta-sts} TXT
 * record through a {@link DnsResolver}, fetch through a {@link PolicyFetcher} when the id is new or nothing valid is
 * cached, and fall back on the cached policy while it is valid. Time is passed in; nothing here reads a clock.
 *
 * <p>The rules, in order:
 *
 * <ol>
 *   <li>No usable TXT record (absent, invalid, more than one, or the lookup failed): the valid cached policy
 *       applies, otherwise there is no policy ("absence of a usable TXT record is not by itself sufficient to remove
 *       a sender's previously cached policy", RFC 8461 §3.1; §3.3).
 *   <li>The TXT id equals the id of a valid cached policy: the cached policy applies, nothing is fetched.
 *   <li>Otherwise the policy is fetched. Success replaces the cache entry (even in mode {@code none}, which then
 *       means "no policy" until it expires or the id changes). Failure: the valid cached policy applies, otherwise
 *       there is no policy ("senders MUST continue with delivery as though the domain has not implemented
 *       MTA-STS", RFC 8461 §3.3).
 * </ol>
 *
 * <p>{@link #refreshDue} refreshes cached policies before they expire (RFC 8461 §5.1); {@link RefreshSchedule} calls
 * it daily, with back-off per domain after failed fetches.
 */
public final class MtaStsResolver {

    private final DnsResolver dns;
    private final PolicyFetcher fetcher;
    private final PolicyCache cache;

    /** Looks up through {@code dns}, fetches with {@code fetcher}, keeps policies in {@code cache}. */
    public MtaStsResolver(DnsResolver dns, PolicyFetcher fetcher, PolicyCache cache) {
        this.dns = Objects.requireNonNull(dns, "dns");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.cache = Objects.requireNonNull(cache, "cache");
    }

    /**
     * The MTA-STS decision for {@code policyDomain} (A-labels) at {@code now}.
     *
     * @throws IllegalArgumentException if {@code policyDomain} is not a DNS name (a caller bug)
     */
    public StsDecision policyFor(String policyDomain, Instant now) {
        Objects.requireNonNull(now, "now");
        String domain = DnsNames.normalize(policyDomain);
        if (domain.isEmpty()) {
            throw new IllegalArgumentException("the policy domain must not be the root");
        }
        Optional<CachedPolicy> cached = cache.get(domain).filter(c -> c.isValidAt(now));
        String owner = StsRecord.PREFIX + domain;
        DnsAnswer<String> txt = dns.txt(owner);
        if (txt instanceof DnsAnswer.Failed<String> failed) {
            // RFC 8461 §3.3: no "live" policy could be discovered via DNS; a valid cached policy still applies.
            return withoutRecord(
                    cached,
                    "the TXT lookup of " + owner + " failed (" + failed.failure() + ": " + failed.detail() + ")");
        }
        StsRecordOutcome record = StsRecord.select(txt.records());
        if (!(record instanceof StsRecordOutcome.Valid valid)) {
            return withoutRecord(cached, owner + ": " + describe(record));
        }
        String id = valid.record().id();
        if (cached.isPresent() && cached.get().id().equals(id)) {
            // RFC 8461 §3: to see whether a cached policy is current, compare the TXT record's id with the cached id.
            return decide(
                    cached.get(),
                    StsDecision.Basis.CACHED_SAME_ID,
                    "cached policy id " + id + " is current (valid until "
                            + cached.get().expiresAt() + ")",
                    Optional.empty());
        }
        StsFetch fetch = fetcher.fetch(domain);
        if (fetch instanceof StsFetch.Fetched fetched) {
            CachedPolicy entry = CachedPolicy.fetched(domain, id, fetched.policy(), now);
            // RFC 8461 §3.3, §5.1: a newly fetched valid policy replaces the cached one.
            cache.put(entry);
            return decide(
                    entry,
                    StsDecision.Basis.FETCHED,
                    "fetched policy id " + id
                            + (cached.isPresent()
                                    ? " (cached id was " + cached.get().id() + ")"
                                    : "") + ", valid until " + entry.expiresAt(),
                    Optional.empty());
        }
        StsFetch.Failed failure = (StsFetch.Failed) fetch;
        String why = "fetching policy id " + id + " failed ("
                + failure.tlsRptResult().wireName() + ": " + failure.detail() + ")";
        if (cached.isPresent()) {
            // RFC 8461 §3.3: a valid (non-expired) cached policy MUST be applied when no live policy can be fetched.
            return decide(
                    cached.get(),
                    StsDecision.Basis.CACHED_FETCH_FAILED,
                    why + "; applying cached policy id " + cached.get().id() + " until "
                            + cached.get().expiresAt(),
                    Optional.of(failure));
        }
        // RFC 8461 §3.3: no valid cached policy — deliver as though the domain had not implemented MTA-STS.
        return new StsDecision.NoPolicy(why + "; no cached policy", Optional.of(failure));
    }

    /**
     * Refreshes every cached policy that is still valid at {@code now} but expires before {@code now + window}
     * (RFC 8461 §5.1: "Implementations are also encouraged to proactively refresh cached policies before they
     * expire"; a suggested frequency is once a day, so a window of a day or more with a daily call). For each: look
     * up the TXT record; with a valid record, fetch the policy even when the id is unchanged and replace the entry
     * (a new fetch time, so a new expiry); a failed fetch or no usable record keeps the entry, which still applies
     * until it expires (RFC 8461 §3.1, §3.3). Expired entries are left alone: the next delivery fetches.
     *
     * @return one outcome per policy due, soonest expiry first
     * @throws IllegalArgumentException if {@code window} is negative (a caller bug)
     */
    public List<StsRefresh> refreshDue(Instant now, Duration window) {
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(window, "window");
        if (window.isNegative()) {
            throw new IllegalArgumentException("the refresh window must not be negative: " + window);
        }
        List<CachedPolicy> due = due(now, window);
        List<StsRefresh> outcomes = new ArrayList<>(due.size());
        for (CachedPolicy entry : due) {
            outcomes.add(refresh(entry, now));
        }
        return outcomes;
    }

    /** The cached policies {@link #refreshDue} would refresh, soonest expiry first (for {@link RefreshSchedule}). */
    List<CachedPolicy> due(Instant now, Duration window) {
        List<CachedPolicy> due = new ArrayList<>(cache.expiringBefore(now.plus(window)));
        due.removeIf(entry -> !entry.isValidAt(now));
        due.sort(Comparator.comparing(CachedPolicy::expiresAt).thenComparing(CachedPolicy::policyDomain));
        return due;
    }

    /** Refreshes one cache entry (see {@link #refreshDue}); package-private for {@link RefreshSchedule}. */
    StsRefresh refresh(CachedPolicy entry, Instant now) {
        String domain = entry.policyDomain();
        String owner = StsRecord.PREFIX + domain;
        String kept = "; keeping cached policy id " + entry.id() + " until " + entry.expiresAt();
        DnsAnswer<String> txt = dns.txt(owner);
        if (txt instanceof DnsAnswer.Failed<String> failed) {
            return new StsRefresh(
                    domain,
                    StsRefresh.Outcome.NO_RECORD,
                    entry,
                    "the TXT lookup of " + owner + " failed (" + failed.failure() + ": " + failed.detail() + ")" + kept,
                    Optional.empty());
        }
        StsRecordOutcome record = StsRecord.select(txt.records());
        if (!(record instanceof StsRecordOutcome.Valid valid)) {
            // RFC 8461 §3.1: absence of a usable TXT record does not remove a previously cached policy.
            return new StsRefresh(
                    domain,
                    StsRefresh.Outcome.NO_RECORD,
                    entry,
                    owner + ": " + describe(record) + kept,
                    Optional.empty());
        }
        String id = valid.record().id();
        StsFetch fetch = fetcher.fetch(domain);
        if (fetch instanceof StsFetch.Fetched fetched) {
            CachedPolicy fresh = CachedPolicy.fetched(domain, id, fetched.policy(), now);
            // RFC 8461 §5.1: refreshing before expiry — the fetched policy replaces the cached one.
            cache.put(fresh);
            return new StsRefresh(
                    domain,
                    StsRefresh.Outcome.REFRESHED,
                    fresh,
                    "refreshed policy id " + id
                            + (id.equals(entry.id()) ? "" : " (cached id was " + entry.id() + ")")
                            + ", valid until " + fresh.expiresAt(),
                    Optional.empty());
        }
        StsFetch.Failed failure = (StsFetch.Failed) fetch;
        return new StsRefresh(
                domain,
                StsRefresh.Outcome.FETCH_FAILED,
                entry,
                "refreshing policy id " + id + " failed ("
                        + failure.tlsRptResult().wireName() + ": " + failure.detail() + ")" + kept,
                Optional.of(failure));
    }

    private static StsDecision withoutRecord(Optional<CachedPolicy> cached, String why) {
        if (cached.isEmpty()) {
            return new StsDecision.NoPolicy(why + "; no cached policy", Optional.empty());
        }
        return decide(
                cached.get(),
                StsDecision.Basis.CACHED_NO_RECORD,
                why + "; applying cached policy id " + cached.get().id() + " until "
                        + cached.get().expiresAt(),
                Optional.empty());
    }

    private static StsDecision decide(
            CachedPolicy entry, StsDecision.Basis basis, String reason, Optional<StsFetch.Failed> failure) {
        if (entry.policy().mode() == StsMode.NONE) {
            // RFC 8461 §5: in mode none the Policy Domain is treated as though it had no active policy.
            return new StsDecision.NoPolicy(reason + "; the policy's mode is none", failure);
        }
        return new StsDecision.Apply(entry, basis, reason, failure);
    }

    private static String describe(StsRecordOutcome record) {
        if (record instanceof StsRecordOutcome.Absent absent) {
            return absent.reason();
        }
        if (record instanceof StsRecordOutcome.Invalid invalid) {
            return "invalid record '" + invalid.text() + "' (" + invalid.reason() + ")";
        }
        return ((StsRecordOutcome.Multiple) record).records().size()
                + " records begin with v=STSv1; (RFC 8461 §3.1 requires exactly one)";
    }
}
