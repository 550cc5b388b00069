package dev.optls.policy.rpt;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Counts the sessions a sending MTA made, per policy domain, UTC day and policy (RFC 8460 §4.4: one report per
 * policy domain per period; the sessions are grouped by the policy applied). Thread-safe: every method holds the
 * collector's lock for a short, bounded time.
 *
 * <p>Bounded: at most {@code maxFailureDetails} distinct failures are kept per policy (a failure seen before is
 * still counted in its entry; a new one past the limit is counted only in {@code total-failure-session-count} and
 * in {@link #droppedDetails()}), at most {@code maxPoliciesPerDomain} policies per domain and day, and at most
 * {@code maxDomainDays} domain-day pairs; sessions past the last two limits are not recorded and are counted in
 * {@link #droppedSessions()}.
 */
public final class TlsRptCollector {

    /** The default limit of distinct failure details per policy. */
    public static final int DEFAULT_MAX_FAILURE_DETAILS = 100;

    /** The default limit of policies per domain and day. */
    public static final int DEFAULT_MAX_POLICIES_PER_DOMAIN = 16;

    /** The default limit of domain-day pairs held. */
    public static final int DEFAULT_MAX_DOMAIN_DAYS = 100_000;

    private final int maxFailureDetails;
    private final int maxPoliciesPerDomain;
    private final int maxDomainDays;
    private final Object lock = new Object();
    private final TreeMap<LocalDate, Map<String, Map<ReportPolicy, Counts>>> days = new TreeMap<>();
    private int domainDays;
    // Domain-days recorded into since the last takeChanged: what a TlsRptStore has to write again.
    private final Set<DayDomain> changed = new HashSet<>();
    private long droppedDetails;
    private long droppedSessions;

    private record DayDomain(LocalDate day, String domain) {}

    private static final class Counts {
        long successes;
        long failures;
        final LinkedHashMap<SessionFailure, Long> details = new LinkedHashMap<>();
    }

    /** A collector with the default limits. */
    public TlsRptCollector() {
        this(DEFAULT_MAX_FAILURE_DETAILS, DEFAULT_MAX_POLICIES_PER_DOMAIN, DEFAULT_MAX_DOMAIN_DAYS);
    }

    /** A collector with these limits, each at least 1. */
    public TlsRptCollector(int maxFailureDetails, int maxPoliciesPerDomain, int maxDomainDays) {
        if (maxFailureDetails < 1 || maxPoliciesPerDomain < 1 || maxDomainDays < 1) {
            throw new IllegalArgumentException("collector limits must be at least 1");
        }
        this.maxFailureDetails = maxFailureDetails;
        this.maxPoliciesPerDomain = maxPoliciesPerDomain;
        this.maxDomainDays = maxDomainDays;
    }

    /** Records a successful session evaluated against {@code policy} at {@code when}. */
    public void recordSuccess(ReportPolicy policy, Instant when) {
        Objects.requireNonNull(policy, "policy");
        synchronized (lock) {
            Counts c = counts(policy, day(when), true);
            if (c != null) {
                c.successes++;
            }
        }
    }

    /** Records a failed session evaluated against {@code policy} at {@code when}. */
    public void recordFailure(ReportPolicy policy, SessionFailure failure, Instant when) {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(failure, "failure");
        synchronized (lock) {
            Counts c = counts(policy, day(when), true);
            if (c == null) {
                return;
            }
            c.failures++;
            addDetail(c, failure, 1);
        }
    }

    private void addDetail(Counts c, SessionFailure failure, long sessions) {
        Long n = c.details.get(failure);
        if (n != null) {
            c.details.put(failure, n + sessions);
        } else if (c.details.size() < maxFailureDetails) {
            c.details.put(failure, sessions);
        } else {
            droppedDetails += sessions;
        }
    }

    /**
     * Adds counts read back from a {@link TlsRptStore} (what an earlier process recorded for {@code day}), within
     * the same limits as sessions recorded now.
     */
    public void restore(LocalDate day, List<PolicyReport> reports) {
        Objects.requireNonNull(day, "day");
        synchronized (lock) {
            for (PolicyReport r : reports) {
                Counts c = counts(r.policy(), day, false);
                if (c == null) {
                    continue;
                }
                c.successes += r.successfulSessions();
                c.failures += r.failedSessions();
                for (FailureDetail d : r.failureDetails()) {
                    addDetail(c, d.failure(), d.failedSessionCount());
                }
            }
        }
    }

    /**
     * The current counts of every domain and day recorded into since the last call (days drained since are left
     * out), for a {@link TlsRptStore} to save; the next call returns only what changes after this one.
     */
    public Map<LocalDate, Map<String, List<PolicyReport>>> takeChanged() {
        Map<LocalDate, Map<String, List<PolicyReport>>> out = new TreeMap<>();
        synchronized (lock) {
            for (DayDomain k : changed) {
                Map<String, Map<ReportPolicy, Counts>> domains = days.get(k.day());
                Map<ReportPolicy, Counts> policies = domains == null ? null : domains.get(k.domain());
                if (policies != null) {
                    out.computeIfAbsent(k.day(), d -> new TreeMap<>()).put(k.domain(), toReports(policies));
                }
            }
            changed.clear();
        }
        return out;
    }

    /** The policies recorded so far for {@code policyDomain} on {@code day}, in first-seen order; empty if none. */
    public Optional<List<PolicyReport>> snapshot(String policyDomain, LocalDate day) {
        String domain = ReportPolicy.normalizeDomain(policyDomain);
        synchronized (lock) {
            Map<String, Map<ReportPolicy, Counts>> domains = days.get(day);
            Map<ReportPolicy, Counts> policies = domains == null ? null : domains.get(domain);
            return policies == null ? Optional.empty() : Optional.of(toReports(policies));
        }
    }

    /**
     * Removes and returns everything recorded for days before {@code today} (UTC), per day and policy domain: the
     * periods that are over and can be reported (RFC 8460 §4.4).
     */
    public Map<LocalDate, Map<String, List<PolicyReport>>> drainBefore(LocalDate today) {
        Map<LocalDate, Map<String, List<PolicyReport>>> out = new TreeMap<>();
        synchronized (lock) {
            Map<LocalDate, Map<String, Map<ReportPolicy, Counts>>> done = days.headMap(today, false);
            for (Map.Entry<LocalDate, Map<String, Map<ReportPolicy, Counts>>> day : done.entrySet()) {
                Map<String, List<PolicyReport>> perDomain = new TreeMap<>();
                for (Map.Entry<String, Map<ReportPolicy, Counts>> d :
                        day.getValue().entrySet()) {
                    perDomain.put(d.getKey(), toReports(d.getValue()));
                    domainDays--;
                }
                out.put(day.getKey(), perDomain);
            }
            done.clear();
        }
        return out;
    }

    /** Failures counted in the totals but not kept as details because a policy had too many distinct ones. */
    public long droppedDetails() {
        synchronized (lock) {
            return droppedDetails;
        }
    }

    /** Sessions not recorded at all because of the policy or domain-day limits. */
    public long droppedSessions() {
        synchronized (lock) {
            return droppedSessions;
        }
    }

    /**
     * Marks again what a {@link #takeChanged} returned, when saving it failed: the next call returns those domains
     * and days again (with their counts then), so a failed save is made good by the next one.
     */
    public void markChanged(Map<LocalDate, ? extends Map<String, ?>> taken) {
        synchronized (lock) {
            taken.forEach((day, domains) -> domains.keySet().forEach(d -> changed.add(new DayDomain(day, d))));
        }
    }

    private static LocalDate day(Instant when) {
        return LocalDate.ofInstant(Objects.requireNonNull(when, "when"), ZoneOffset.UTC);
    }

    private Counts counts(ReportPolicy policy, LocalDate day, boolean change) {
        Map<String, Map<ReportPolicy, Counts>> domains = days.get(day);
        Map<ReportPolicy, Counts> policies = domains == null ? null : domains.get(policy.policyDomain());
        if (policies == null) {
            if (domainDays >= maxDomainDays) {
                droppedSessions++;
                return null;
            }
            policies = new LinkedHashMap<>();
            days.computeIfAbsent(day, k -> new TreeMap<>()).put(policy.policyDomain(), policies);
            domainDays++;
        }
        Counts c = policies.get(policy);
        if (c == null) {
            if (policies.size() >= maxPoliciesPerDomain) {
                droppedSessions++;
                return null;
            }
            c = new Counts();
            policies.put(policy, c);
        }
        if (change) {
            changed.add(new DayDomain(day, policy.policyDomain()));
        }
        return c;
    }

    private static List<PolicyReport> toReports(Map<ReportPolicy, Counts> policies) {
        List<PolicyReport> reports = new ArrayList<>();
        for (Map.Entry<ReportPolicy, Counts> e : policies.entrySet()) {
            Counts c = e.getValue();
            List<FailureDetail> details = new ArrayList<>();
            c.details.forEach((f, n) -> details.add(new FailureDetail(f, n)));
            reports.add(new PolicyReport(e.getKey(), c.successes, c.failures, details));
        }
        return reports;
    }
}
