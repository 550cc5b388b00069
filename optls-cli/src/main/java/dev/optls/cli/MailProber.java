package dev.optls.cli;

import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.policy.dane.DaneOutcome;
import dev.optls.policy.dane.DaneVerification;
import dev.optls.policy.dane.DaneVerifier;
import dev.optls.policy.dane.TlsaParse;
import dev.optls.policy.dane.TlsaRecord;
import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordData;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.engine.DeliveryPlan;
import dev.optls.policy.engine.MxPlan;
import dev.optls.policy.engine.PolicyEngine;
import dev.optls.policy.engine.PolicySource;
import dev.optls.policy.engine.Requirement;
import dev.optls.policy.rpt.TlsRptRecord;
import dev.optls.policy.rpt.TlsRptRecordOutcome;
import dev.optls.policy.sts.InMemoryPolicyCache;
import dev.optls.policy.sts.MtaStsResolver;
import dev.optls.policy.sts.PolicyFetcher;
import dev.optls.policy.sts.StsDecision;
import dev.optls.policy.sts.StsRecord;
import dev.optls.policy.sts.StsRecordOutcome;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.Verification;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * Gathers a {@link MailProbeReport}: the policy engine's plan for the domain (MX, DANE, MTA-STS fetched fresh into an
 * in-memory cache), the TLS-RPT record, and for each MX host one STARTTLS session at level {@code may} to the first
 * address, which sees everything (offer, TLS, certificate) without enforcing anything; the checks are made on what
 * was seen, and the verdict from them.
 */
final class MailProber {

    /** The most addresses listed per host. */
    static final int MAX_ADDRESSES = 8;

    /**
     * What to probe with.
     *
     * @param dns the resolver
     * @param fetcher the MTA-STS fetcher; empty for {@code --mx} (no policy part)
     * @param webPki the anchors MX certificates are checked against
     * @param helloName the EHLO name
     * @param timeouts per-session limits
     * @param portOf the port for each MX host (25 unless overridden for tests)
     * @param loopbackOnly whether only loopback addresses may be connected to (the test port override)
     * @param level for {@code --mx}: the level each MX must satisfy
     * @param progress where progress lines go (stderr)
     */
    record Options(
            DnsResolver dns,
            Optional<PolicyFetcher> fetcher,
            TrustAnchors webPki,
            String helloName,
            Timeouts timeouts,
            ToIntFunction<String> portOf,
            boolean loopbackOnly,
            SecurityLevel level,
            PrintWriter progress) {}

    private MailProber() {}

    /** {@code optls probe mail DOMAIN}: the whole picture and one verdict. */
    static MailProbeReport probeMail(String domain, Options options) {
        long start = System.nanoTime();
        Instant now = Instant.now();
        PolicyFetcher fetcher = options.fetcher().orElseThrow();
        // A fresh in-memory cache: the probe fetches the policy every time it runs.
        MtaStsResolver sts = new MtaStsResolver(options.dns(), fetcher, new InMemoryPolicyCache());
        PolicyEngine engine = PolicyEngine.builder(options.dns()).mtaSts(sts).build();
        progress(options, "looking up the MX hosts of " + domain + ", their TLSA records and the MTA-STS policy");
        DeliveryPlan plan = engine.planFor(domain, now);
        DnsAnswer<MxRecord> mxAnswer = options.dns().mx(plan.domain());
        MailProbeReport.MtaSts mtaSts = mtaSts(plan, options.dns());
        TlsRptRecordOutcome rpt = TlsRptRecord.discover(options.dns(), plan.domain());
        List<MailProbeReport.Host> hosts = new ArrayList<>();
        for (MxPlan host : plan.hosts()) {
            hosts.add(probeHost(host.host(), host.preference(), Optional.of(host), plan, options, now));
        }
        MailProbeReport.Verdict verdict = verdict(plan, hosts);
        return new MailProbeReport(
                plan.domain(),
                verdict,
                new MailProbeReport.Policy(word(plan.source()), word(plan.status()), plan.reason()),
                mx(mxAnswer, hosts),
                mtaSts,
                tlsRpt(rpt),
                (System.nanoTime() - start) / 1_000_000);
    }

    /** {@code optls probe smtp://DOMAIN --mx}: the MX hosts and each one's STARTTLS and certificate; no policy. */
    static MailProbeReport probeMx(String domain, Options options) {
        long start = System.nanoTime();
        Instant now = Instant.now();
        progress(options, "looking up the MX hosts of " + domain);
        DnsAnswer<MxRecord> answer = options.dns().mx(domain);
        List<MxRecord> records;
        if (answer instanceof DnsAnswer.NoData<MxRecord>) {
            // RFC 5321 §5.1: without MX records the domain is its own mail host.
            records = List.of(new MxRecord(0, answer.name()));
        } else {
            records = answer.records().stream()
                    .filter(r -> !r.isNullMx())
                    .sorted(Comparator.comparingInt(MxRecord::preference))
                    .limit(PolicyEngine.DEFAULT_MAX_HOSTS)
                    .toList();
        }
        List<MailProbeReport.Host> hosts = new ArrayList<>();
        for (MxRecord record : records) {
            hosts.add(probeHost(record.exchange(), record.preference(), Optional.empty(), null, options, now));
        }
        MailProbeReport.Verdict verdict;
        if (hosts.isEmpty()) {
            verdict = new MailProbeReport.Verdict("fail", mxProblem(answer));
        } else {
            List<String> failed = hosts.stream()
                    .filter(h -> h.verdict().status().equals("fail"))
                    .map(h -> h.verdict().reason())
                    .toList();
            verdict = failed.isEmpty()
                    ? new MailProbeReport.Verdict(
                            "ok", "all " + hosts.size() + " MX host(s) satisfy level " + lower(options.level()))
                    : new MailProbeReport.Verdict("fail", String.join("; ", failed));
        }
        return new MailProbeReport(
                answer.name(), verdict, null, mx(answer, hosts), null, null, (System.nanoTime() - start) / 1_000_000);
    }

    private static String mxProblem(DnsAnswer<MxRecord> answer) {
        if (answer instanceof DnsAnswer.Failed<MxRecord> f) {
            return "the MX lookup of " + answer.name() + " failed (" + f.failure() + ": " + f.detail() + ")";
        }
        if (answer instanceof DnsAnswer.NxDomain<MxRecord>) {
            return answer.name() + " does not exist (NXDOMAIN)";
        }
        return answer.name() + " publishes a null MX: it accepts no mail (RFC 7505)";
    }

    private static MailProbeReport.Mx mx(DnsAnswer<MxRecord> answer, List<MailProbeReport.Host> hosts) {
        String lookup = answer instanceof DnsAnswer.Records<MxRecord>
                ? "records"
                : answer instanceof DnsAnswer.NxDomain<MxRecord>
                        ? "nxdomain"
                        : answer instanceof DnsAnswer.NoData<MxRecord> ? "nodata" : "failed";
        String detail = answer instanceof DnsAnswer.Failed<MxRecord> f ? f.failure() + ": " + f.detail() : null;
        return new MailProbeReport.Mx(lookup, lower(answer.status()), detail, hosts);
    }

    private static MailProbeReport.Host probeHost(
            String host, int preference, Optional<MxPlan> plan, DeliveryPlan delivery, Options options, Instant now) {
        List<MailProbeReport.Address> addresses = new ArrayList<>();
        List<InetAddress> connectable = new ArrayList<>();
        List<String> lookupProblems = new ArrayList<>();
        for (RecordType type : List.of(RecordType.A, RecordType.AAAA)) {
            DnsAnswer<InetAddress> answer = options.dns().addresses(host, type);
            for (InetAddress a : answer.records()) {
                if (addresses.size() < MAX_ADDRESSES) {
                    addresses.add(new MailProbeReport.Address(a.getHostAddress(), lower(answer.status())));
                    connectable.add(a);
                }
            }
            if (answer instanceof DnsAnswer.Failed<InetAddress> f) {
                lookupProblems.add(type + " lookup failed: " + f.failure() + " (" + f.detail() + ")");
            }
        }
        Requirement requirement = plan.map(MxPlan::requirement).orElse(null);
        Optional<Boolean> listed =
                delivery == null ? Optional.empty() : delivery.stsPolicy().map(a -> a.allows(host));
        String problem = null;
        ClientSession session = null;
        String probed = null;
        if (requirement == Requirement.SKIP) {
            problem = "not probed: " + plan.get().reason();
        } else if (connectable.isEmpty()) {
            problem = "no address for " + host
                    + (lookupProblems.isEmpty() ? " (no A or AAAA records)" : ": " + String.join("; ", lookupProblems));
        } else if (options.loopbackOnly() && !connectable.get(0).isLoopbackAddress()) {
            problem = "not probed: the test port override only connects to loopback addresses, "
                    + connectable.get(0).getHostAddress() + " is not one";
        } else {
            probed = connectable.get(0).getHostAddress();
            int port = options.portOf().applyAsInt(host);
            progress(options, "connecting to " + host + " [" + probed + "]:" + port);
            String sni = plan.map(MxPlan::serverName).orElse(host);
            ClientTls tls = ClientTls.create(
                    SecurityLevel.MAY,
                    options.webPki(),
                    ReferenceIdentity.of(sni),
                    Optional.empty(),
                    TlsProfile.modern());
            ClientOptions clientOptions =
                    new ClientOptions(SecurityLevel.MAY, options.helloName(), false, Limits.DEFAULT);
            session = new StartTlsClient(Protocol.SMTP, clientOptions, tls, options.timeouts()).connect(probed, port);
            try {
                session.close();
            } catch (IOException e) {
                // The probe is done with the connection either way.
            }
        }
        String starttls = session == null ? "not-probed" : starttls(session);
        if (session != null && session.status() == ClientSession.Status.FAILED) {
            problem = session.failure()
                    .map(f -> f.kind().wireName() + ": " + f.detail())
                    .orElse(null);
        } else if (session != null && session.status() == ClientSession.Status.PLAINTEXT) {
            problem = session.failure().map(f -> f.detail()).orElse(null);
        }
        List<X509Certificate> chain = session == null ? List.of() : session.peerChain();
        List<String> names = plan.filter(
                        p -> p.requirement() == Requirement.STS_ENFORCE || p.requirement() == Requirement.LOCAL_VERIFY)
                .map(MxPlan::referenceNames)
                .filter(n -> !n.isEmpty())
                .orElse(List.of(host));
        MailProbeReport.Pkix pkix = chain.isEmpty() ? null : pkix(options.webPki(), chain, names);
        MailProbeReport.Dane dane = delivery == null ? null : dane(host, plan.orElseThrow(), options.dns(), chain, now);
        MailProbeReport.Verdict verdict = plan.isPresent()
                ? hostVerdict(host, plan.get(), starttls, problem, pkix, dane, listed)
                : levelVerdict(host, options.level(), starttls, problem, pkix);
        return new MailProbeReport.Host(
                host,
                preference,
                requirement == null ? null : word(requirement),
                plan.map(MxPlan::reason).orElse(null),
                addresses,
                probed,
                starttls,
                session == null
                        ? null
                        : session.result()
                                .map(Result::greeting)
                                .filter(g -> !g.isEmpty())
                                .orElse(null),
                session == null
                        ? null
                        : session.tls()
                                .map(t -> new ProbeReport.Tls(t.protocolVersion(), t.cipherSuite(), null))
                                .orElse(null),
                chain.isEmpty() ? null : Prober.certificate(chain),
                pkix,
                dane,
                listed.orElse(null),
                problem,
                verdict);
    }

    private static String starttls(ClientSession session) {
        if (session.status() == ClientSession.Status.TLS) {
            return "offered";
        }
        return switch (Prober.outcome(session)) {
            case "starttls-not-offered", "plaintext" -> "not-offered";
            case "starttls-refused" -> "refused";
            case "certificate-invalid" -> "handshake-failed";
            default -> Prober.outcome(session);
        };
    }

    /** The WebPKI check against any of {@code names}: the first that passes, else the check of the first name. */
    private static MailProbeReport.Pkix pkix(TrustAnchors trust, List<X509Certificate> chain, List<String> names) {
        Verification first = null;
        for (String name : names) {
            Verification v = trust.verify(chain, ReferenceIdentity.of(name));
            if (v.valid()) {
                return new MailProbeReport.Pkix(true, true, v.reason());
            }
            if (first == null) {
                first = v;
            }
        }
        return new MailProbeReport.Pkix(first.chainValid(), first.nameMatches(), first.reason());
    }

    private static MailProbeReport.Dane dane(
            String host, MxPlan plan, DnsResolver dns, List<X509Certificate> chain, Instant now) {
        DaneOutcome outcome = plan.dane().orElse(null);
        String base = outcome instanceof DaneOutcome.Required r
                ? r.tlsaBaseDomain()
                : outcome instanceof DaneOutcome.EncryptOnly e ? e.tlsaBaseDomain() : host;
        String tlsaName = "_25._tcp." + base;
        DnsAnswer<RecordData> answer = dns.tlsa(tlsaName);
        List<String> referenceNames =
                outcome instanceof DaneOutcome.Required r ? r.referenceNames() : List.of(base, host);
        List<MailProbeReport.TlsaMatch> records = new ArrayList<>();
        for (RecordData data : answer.records()) {
            TlsaParse parse = TlsaRecord.fromWire(data.wire());
            if (parse instanceof TlsaParse.Malformed m) {
                records.add(new MailProbeReport.TlsaMatch(data.text(), false, "unusable", "malformed: " + m.reason()));
                continue;
            }
            TlsaRecord record = ((TlsaParse.Parsed) parse).record();
            if (!record.isUsable()) {
                records.add(new MailProbeReport.TlsaMatch(
                        record.toText(),
                        false,
                        "unusable",
                        record.unusableReason().orElse("unusable")));
            } else if (chain.isEmpty()) {
                records.add(new MailProbeReport.TlsaMatch(record.toText(), true, "not-probed", "no certificate seen"));
            } else {
                DaneVerification v = DaneVerifier.verify(List.of(record), chain, referenceNames, now);
                records.add(new MailProbeReport.TlsaMatch(
                        record.toText(),
                        true,
                        v.authenticated() ? "match" : "no-match",
                        v instanceof DaneVerification.Authenticated a
                                ? a.detail()
                                : String.join("; ", ((DaneVerification.NotAuthenticated) v).reasons())));
            }
        }
        Boolean authenticated = null;
        if (outcome instanceof DaneOutcome.Required r && !chain.isEmpty()) {
            authenticated = DaneVerifier.verify(r.usable(), chain, r.referenceNames(), now)
                    .authenticated();
        }
        String kind = outcome == null
                ? null
                : outcome instanceof DaneOutcome.Required
                        ? "required"
                        : outcome instanceof DaneOutcome.EncryptOnly
                                ? "encrypt-only"
                                : outcome instanceof DaneOutcome.HostUnusable ? "host-unusable" : "not-applicable";
        String lookup = answer instanceof DnsAnswer.Failed<RecordData> f
                ? lower(answer.status()) + " (" + f.failure() + ")"
                : lower(answer.status());
        return new MailProbeReport.Dane(
                kind, outcome == null ? null : outcome.reason(), tlsaName, lookup, records, authenticated);
    }

    private static MailProbeReport.Verdict hostVerdict(
            String host,
            MxPlan plan,
            String starttls,
            String problem,
            MailProbeReport.Pkix pkix,
            MailProbeReport.Dane dane,
            Optional<Boolean> listed) {
        boolean tls = starttls.equals("offered");
        boolean stripped = starttls.equals("not-offered") || starttls.equals("refused");
        String cannot = "cannot reach " + host + (problem == null ? "" : ": " + problem);
        return switch (plan.requirement()) {
            case SKIP ->
                fail(
                        listed.isPresent() && !listed.get()
                                ? host + " not listed"
                                : plan.dane().orElse(null) instanceof DaneOutcome.HostUnusable
                                        ? "DANE lookup failed for " + host + " (" + plan.reason() + ")"
                                        : host + " not used (" + plan.reason() + ")");
            case DANE -> {
                if (stripped) {
                    yield fail("STARTTLS stripped on " + host + " while DANE requires it");
                }
                if (!tls) {
                    yield fail(cannot);
                }
                yield Boolean.TRUE.equals(dane.authenticated())
                        ? ok(host + " authenticated by DANE")
                        : fail("the certificate of " + host + " matches no TLSA record");
            }
            case DANE_ENCRYPT ->
                stripped
                        ? fail("STARTTLS stripped on " + host + " while DANE requires it")
                        : tls ? ok(host + ": TLS (TLSA records all unusable: not authenticated)") : fail(cannot);
            case STS_ENFORCE, LOCAL_VERIFY -> {
                if (stripped) {
                    yield fail("no STARTTLS on " + host + " while the policy requires it");
                }
                if (!tls) {
                    yield fail(cannot);
                }
                yield pkix != null && pkix.chainValid() && pkix.nameMatches()
                        ? ok(host + ": certificate valid")
                        : fail("certificate of " + host + " not valid ("
                                + (pkix == null ? "no certificate" : pkix.reason()) + ")");
            }
            case LOCAL_ENCRYPT ->
                stripped
                        ? fail("no STARTTLS on " + host + " while the local policy requires TLS")
                        : tls ? ok(host + ": TLS") : fail(cannot);
            case OPPORTUNISTIC -> {
                if (stripped) {
                    yield new MailProbeReport.Verdict("warning", "no STARTTLS on " + host + ": mail goes in plaintext");
                }
                if (!tls) {
                    yield fail(cannot);
                }
                if (listed.isPresent() && !listed.get()) {
                    yield new MailProbeReport.Verdict("warning", host + " not listed (reported, not enforced)");
                }
                if (listed.isPresent() && (pkix == null || !pkix.chainValid() || !pkix.nameMatches())) {
                    yield new MailProbeReport.Verdict(
                            "warning",
                            "certificate of " + host + " not valid (" + (pkix == null ? "none" : pkix.reason())
                                    + "; reported, not enforced)");
                }
                yield ok(host + ": TLS");
            }
        };
    }

    private static MailProbeReport.Verdict levelVerdict(
            String host, SecurityLevel level, String starttls, String problem, MailProbeReport.Pkix pkix) {
        boolean tls = starttls.equals("offered");
        boolean plaintext = starttls.equals("not-offered") || starttls.equals("refused");
        if (!tls && !plaintext) {
            return fail("cannot reach " + host + (problem == null ? "" : ": " + problem));
        }
        if (level.requiresTls() && !tls) {
            return fail("no STARTTLS on " + host);
        }
        if (level.verifiesCertificate() && (pkix == null || !pkix.chainValid() || !pkix.nameMatches())) {
            return fail("certificate of " + host + " not valid (" + (pkix == null ? "none" : pkix.reason()) + ")");
        }
        return ok(host + (tls ? ": TLS" : ": plaintext"));
    }

    private static MailProbeReport.Verdict verdict(DeliveryPlan plan, List<MailProbeReport.Host> hosts) {
        if (plan.status() == DeliveryPlan.Status.NO_SUCH_DOMAIN
                || plan.status() == DeliveryPlan.Status.NULL_MX
                || plan.status() == DeliveryPlan.Status.TEMPORARY_FAILURE) {
            return fail(plan.reason());
        }
        List<String> failures = reasons(hosts, "fail");
        List<String> warnings = reasons(hosts, "warning");
        long good =
                hosts.stream().filter(h -> h.verdict().status().equals("ok")).count();
        long usable =
                hosts.stream().filter(h -> !h.verdict().status().equals("fail")).count();
        String prefix = switch (plan.source()) {
            case DANE -> "DANE";
            case MTA_STS_ENFORCE -> "MTA-STS enforce";
            case MTA_STS_TESTING -> "MTA-STS testing";
            case LOCAL ->
                "local policy " + plan.local().map(l -> lower(l.level())).orElse("");
            case NONE -> "no policy";
        };
        if (plan.source() == PolicySource.NONE || plan.source() == PolicySource.MTA_STS_TESTING) {
            long tls =
                    hosts.stream().filter(h -> "offered".equals(h.starttls())).count();
            List<String> notes = new ArrayList<>(failures);
            notes.addAll(warnings);
            String summary = plan.source() == PolicySource.NONE
                    ? "no policy: opportunistic"
                    : "MTA-STS testing: failures are reported, not enforced";
            if (usable == 0) {
                return fail(summary + "; " + String.join("; ", notes));
            }
            return new MailProbeReport.Verdict(
                    "opportunistic",
                    summary + " (STARTTLS on " + tls + " of " + hosts.size() + " MX host(s))"
                            + (notes.isEmpty() ? "" : "; " + String.join("; ", notes)));
        }
        if (failures.isEmpty() && good == hosts.size()) {
            String all = switch (plan.source()) {
                case DANE -> "all MX authenticated";
                case MTA_STS_ENFORCE -> "all MX listed and their certificates valid";
                default -> "all MX meet it";
            };
            return new MailProbeReport.Verdict("secure", prefix + ": " + all);
        }
        if (usable == 0) {
            return fail(prefix + ": " + String.join("; ", failures) + "; no MX host meets the policy: mail would be"
                    + " deferred");
        }
        return new MailProbeReport.Verdict(
                "degraded",
                prefix + ": " + String.join("; ", failures.isEmpty() ? warnings : failures) + "; mail goes to the"
                        + " other " + usable + " MX host(s)");
    }

    private static List<String> reasons(List<MailProbeReport.Host> hosts, String status) {
        return hosts.stream()
                .filter(h -> h.verdict().status().equals(status))
                .map(h -> h.verdict().reason())
                .toList();
    }

    private static MailProbeReport.MtaSts mtaSts(DeliveryPlan plan, DnsResolver dns) {
        DnsAnswer<String> txt = dns.txt("_mta-sts." + plan.domain());
        StsRecordOutcome record = txt instanceof DnsAnswer.Failed<String> ? null : StsRecord.select(txt.records());
        String recordStatus = record == null
                ? "lookup-failed"
                : record instanceof StsRecordOutcome.Valid
                        ? "valid"
                        : record instanceof StsRecordOutcome.Absent
                                ? "absent"
                                : record instanceof StsRecordOutcome.Invalid ? "invalid" : "multiple";
        String id = record instanceof StsRecordOutcome.Valid v ? v.record().id() : null;
        Optional<StsDecision> decision = plan.sts();
        Optional<StsDecision.Apply> apply = plan.stsPolicy();
        return new MailProbeReport.MtaSts(
                recordStatus,
                id,
                lower(txt.status()),
                decision.map(d -> d instanceof StsDecision.Apply ? "apply" : "no-policy")
                        .orElse(null),
                apply.map(a -> lower(a.mode())).orElse(null),
                apply.map(a -> a.policy().policy().mx().stream()
                                .map(dev.optls.policy.sts.MxPattern::toText)
                                .toList())
                        .orElse(null),
                apply.map(a -> a.policy().policy().text()).orElse(null),
                decision.flatMap(StsDecision::fetchFailure)
                        .map(f -> f.tlsRptResult().wireName() + ": " + f.detail())
                        .orElse(null),
                decision.map(StsDecision::reason).orElse("not consulted: DANE covers every MX host (RFC 8461 §2)"));
    }

    private static MailProbeReport.TlsRpt tlsRpt(TlsRptRecordOutcome outcome) {
        if (outcome instanceof TlsRptRecordOutcome.Valid v) {
            return new MailProbeReport.TlsRpt(
                    "valid", v.record().rua().stream().map(Object::toString).toList(), null);
        }
        if (outcome instanceof TlsRptRecordOutcome.Absent a) {
            return new MailProbeReport.TlsRpt("absent", null, a.reason());
        }
        if (outcome instanceof TlsRptRecordOutcome.Invalid i) {
            return new MailProbeReport.TlsRpt("invalid", null, i.reason() + ": " + i.text());
        }
        if (outcome instanceof TlsRptRecordOutcome.Multiple m) {
            return new MailProbeReport.TlsRpt("multiple", null, m.records().size() + " records");
        }
        TlsRptRecordOutcome.LookupFailed f = (TlsRptRecordOutcome.LookupFailed) outcome;
        return new MailProbeReport.TlsRpt("lookup-failed", null, f.reason());
    }

    private static MailProbeReport.Verdict ok(String reason) {
        return new MailProbeReport.Verdict("ok", reason);
    }

    private static MailProbeReport.Verdict fail(String reason) {
        return new MailProbeReport.Verdict("fail", reason);
    }

    private static void progress(Options options, String line) {
        options.progress().println("optls: " + line + " …");
        options.progress().flush();
    }

    /** An enum constant as a JSON word: lower case, hyphens ({@code MTA_STS_ENFORCE} → {@code mta-sts-enforce}). */
    private static String word(Enum<?> e) {
        return lower(e).replace('_', '-');
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** The exit code for a mail probe's verdict. */
    static int exitCode(MailProbeReport report) {
        return switch (report.verdict().status()) {
            case "secure", "ok" -> ExitCodes.OK;
            case "opportunistic" -> ExitCodes.MAIL_OPPORTUNISTIC;
            case "degraded" -> ExitCodes.MAIL_DEGRADED;
            default -> ExitCodes.MAIL_FAILED;
        };
    }
}
