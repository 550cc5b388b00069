package dev.optls.policy.client;

import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.smtp.MailEnvelope;
import dev.optls.policy.dane.DaneOutcome;
import dev.optls.policy.dane.DaneVerification;
import dev.optls.policy.dane.DaneVerifier;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.HostAddresses;
import dev.optls.policy.engine.DeliveryPlan;
import dev.optls.policy.engine.LocalPolicy;
import dev.optls.policy.engine.MxPlan;
import dev.optls.policy.engine.Requirement;
import dev.optls.policy.rpt.PolicyType;
import dev.optls.policy.rpt.ReportPolicy;
import dev.optls.policy.rpt.SessionFailure;
import dev.optls.policy.rpt.TlsRptCollector;
import dev.optls.policy.rpt.TlsRptResult;
import dev.optls.policy.sts.StsDecision;
import dev.optls.policy.sts.StsFetch;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.Verification;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.MailTransactions;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * The SMTP client path of a sending MTA: applies a {@link DeliveryPlan} host by host and records every session for
 * TLS-RPT (RFC 8460). For each usable MX host, in order, its addresses are looked up through the {@link DnsResolver}
 * (A, then AAAA; at most {@link Builder#maxAddressesPerHost}), and each is tried on port 25 with STARTTLS at the
 * level the host's {@link Requirement} needs:
 *
 * <ul>
 *   <li>{@code DANE}: TLS required, SNI the TLSA base domain (RFC 7672 §8.1); the certificate is matched against
 *       the usable TLSA records ({@link DaneVerifier}) right after the handshake, before any byte is sent over TLS;
 *       a mismatch closes the connection ({@code tlsa-invalid}) and the next address or host is tried;
 *   <li>{@code STS_ENFORCE}, {@code LOCAL_VERIFY}: TLS required, a PKIX chain to the WebPKI anchors and a reference
 *       name (RFC 8461 §4.2);
 *   <li>{@code DANE_ENCRYPT}, {@code LOCAL_ENCRYPT}: TLS required, the certificate not checked;
 *   <li>{@code OPPORTUNISTIC}: STARTTLS when offered (RFC 7435); under an MTA-STS policy in {@code testing} mode the
 *       certificate is still checked and a failure reported, not enforced (RFC 8461 §5).
 * </ul>
 *
 * The result is the open session on the first host that met its requirement, or {@link DeliveryAttempt.Deferred}
 * with every host's reason. It never falls back to plaintext or to an unauthenticated session where the plan
 * requires more (RFC 7672 §2.2, RFC 8461 §4.2), and never sends MAIL, RCPT or DATA: that is the caller's.
 *
 * <p>TLS-RPT: every session that reached the server is counted under the host's {@link MxPlan#reportPolicy()},
 * as a success or with its {@link TlsRptClassifier result type}, the receiving IP, the MX host and the HELO name
 * from the greeting. A host skipped for a bogus TLSA lookup is counted as {@code dnssec-invalid}, one skipped for a
 * lookup that failed otherwise or for not being listed in an MTA-STS policy in {@code enforce} mode as
 * {@code validation-failure} with a reason code; a failed MTA-STS policy fetch recorded in the plan is counted once
 * per call with its own type ({@code sts-policy-fetch-error}, {@code sts-policy-invalid},
 * {@code sts-webpki-invalid}). TCP connections that could not be made are not TLS negotiations and are not counted.
 * A host skipped under a local {@code dane-only} rule for want of usable TLSA records is counted as {@code
 * dane-required} (RFC 8460 §4.3.2.1, DANE required by local agreement).
 *
 * <p>Thread-safe: one client can serve many deliveries at once (the collector is thread-safe).
 */
public final class PolicyClient {

    /** The SMTP port (RFC 5321 §4.5.4: mail between MTAs goes to port 25). */
    public static final int SMTP_PORT = 25;

    /** Default limit of addresses tried per MX host (A records first, then AAAA). */
    public static final int DEFAULT_MAX_ADDRESSES_PER_HOST = 4;

    /** Default time limits: Postfix waits 30 s to connect and 300 s for replies; optls waits less. */
    public static final Timeouts DEFAULT_TIMEOUTS =
            new Timeouts(Duration.ofSeconds(30), Duration.ofSeconds(120), Duration.ofSeconds(60));

    private final DnsResolver dns;
    private final TlsRptCollector collector;
    private final TrustAnchors webPki;
    private final String helloName;
    private final Timeouts timeouts;
    private final TlsProfile profile;
    private final int maxAddressesPerHost;
    private final Optional<String> sendingMtaIp;
    private final ToIntFunction<String> portOfHost;
    private final boolean testingPort;
    private final Supplier<Instant> clock;

    private PolicyClient(Builder b) {
        this.dns = b.dns;
        this.collector = b.collector;
        this.webPki = b.webPki;
        this.helloName = b.helloName;
        this.timeouts = b.timeouts;
        this.profile = b.profile;
        this.maxAddressesPerHost = b.maxAddressesPerHost;
        this.sendingMtaIp = b.sendingMtaIp;
        this.portOfHost = b.portOfHost;
        this.testingPort = b.testingPort;
        this.clock = b.clock;
    }

    /** A client looking up addresses through {@code dns} and counting sessions in {@code collector}. */
    public static Builder builder(DnsResolver dns, TlsRptCollector collector) {
        return new Builder(dns, collector);
    }

    /**
     * Tries the plan's hosts in order until one meets its requirement.
     *
     * @param plan the plan for the destination, from {@link dev.optls.policy.engine.PolicyEngine#planFor}
     * @return the open session, or why delivery must be deferred
     */
    public DeliveryAttempt connect(DeliveryPlan plan) {
        Objects.requireNonNull(plan, "plan");
        List<HostAttempt> attempts = new ArrayList<>();
        recordStsFetchFailure(plan);
        if (plan.status() != DeliveryPlan.Status.DELIVER) {
            for (MxPlan host : plan.hosts()) {
                attempts.add(skip(plan, host));
            }
            return new DeliveryAttempt.Deferred(plan.reason(), attempts);
        }
        for (MxPlan host : plan.hosts()) {
            if (!host.usable()) {
                attempts.add(skip(plan, host));
                continue;
            }
            List<InetAddress> addresses = new ArrayList<>();
            Optional<String> lookupProblem = addresses(host.host(), addresses);
            if (addresses.isEmpty()) {
                attempts.add(new HostAttempt(
                        host.host(),
                        Optional.empty(),
                        host.requirement(),
                        HostAttempt.Outcome.FAILED,
                        Optional.empty(),
                        lookupProblem.orElse("no address")));
                continue;
            }
            for (InetAddress address : addresses) {
                Optional<DeliveryAttempt.Connected> connected = tryAddress(plan, host, address, attempts);
                if (connected.isPresent()) {
                    return connected.get();
                }
            }
        }
        long tried = attempts.stream()
                .filter(a -> a.outcome() != HostAttempt.Outcome.SKIPPED)
                .count();
        return new DeliveryAttempt.Deferred(
                "no MX host of " + plan.domain() + " met its requirement (" + tried + " attempt(s), "
                        + plan.hosts().size() + " host(s)); the message stays queued and is retried later",
                attempts);
    }

    private Optional<DeliveryAttempt.Connected> tryAddress(
            DeliveryPlan plan, MxPlan host, InetAddress address, List<HostAttempt> attempts) {
        String ip = address.getHostAddress();
        if (testingPort && !address.isLoopbackAddress()) {
            attempts.add(failed(
                    host,
                    Optional.of(ip),
                    Optional.empty(),
                    "not connected: the test port override only connects to loopback addresses"));
            return Optional.empty();
        }
        Instant now = clock.get();
        AtomicReference<DaneVerification> dane = new AtomicReference<>();
        StartTlsClient client = client(host, now, dane);
        ClientSession session = client.connect(ip, portOfHost.applyAsInt(host.host()));
        Optional<String> helo = session.result().map(Result::greeting).flatMap(TlsRptClassifier::heloName);
        // RFC 8460 §4.4: the configured address (what the receiver sees, e.g. behind NAT), else this connection's.
        String sendingIp = sendingMtaIp
                .or(() -> session.localAddress().map(a -> a.getAddress().getHostAddress()))
                .orElse(null);
        ReportPolicy policy = host.reportPolicy();
        if (session.status() == ClientSession.Status.FAILED) {
            Failure failure = session.failure().orElseThrow();
            boolean tlsaMismatch = dane.get() instanceof DaneVerification.NotAuthenticated;
            Optional<TlsRptResult> type = TlsRptClassifier.forFailure(
                    failure, session.verification(), session.peerChain(), tlsaMismatch, now);
            type.ifPresent(t -> collector.recordFailure(
                    policy,
                    new SessionFailure(
                            t,
                            sendingIp,
                            host.host(),
                            helo.orElse(null),
                            ip,
                            null,
                            failure.kind().wireName()),
                    now));
            attempts.add(failed(host, Optional.of(ip), type, failure.detail()));
            return Optional.empty();
        }
        // The requirement was met (or, for opportunistic TLS, need not be): the session goes on. What opportunistic
        // TLS saw is still reported.
        Optional<TlsRptResult> reported = Optional.empty();
        String reason;
        if (session.status() == ClientSession.Status.PLAINTEXT) {
            reported = Optional.of(TlsRptResult.STARTTLS_NOT_SUPPORTED);
            reason = "plaintext (opportunistic TLS: "
                    + session.failure().map(Failure::detail).orElse("STARTTLS not offered") + ")";
        } else {
            TlsConnection tls = session.tls().orElseThrow();
            reason = "TLS " + tls.protocolVersion() + " " + tls.cipherSuite() + "; " + met(host, session, dane.get());
            if (host.requirement() == Requirement.OPPORTUNISTIC && policy.type() == PolicyType.STS) {
                // RFC 8461 §5: in testing mode the certificate is checked as enforce would, and failures reported.
                Verification check = verifyAny(session.peerChain(), host.referenceNames(), host.host());
                reported = TlsRptClassifier.forCertificate(check, session.peerChain(), now);
                if (reported.isPresent()) {
                    reason += "; MTA-STS testing: " + check.reason() + " (reported, not enforced)";
                }
            }
        }
        if (reported.isPresent()) {
            collector.recordFailure(
                    policy,
                    new SessionFailure(reported.get(), sendingIp, host.host(), helo.orElse(null), ip, null, null),
                    now);
        } else {
            collector.recordSuccess(policy, now);
        }
        attempts.add(new HostAttempt(
                host.host(), Optional.of(ip), host.requirement(), HostAttempt.Outcome.CONNECTED, reported, reason));
        return Optional.of(new DeliveryAttempt.Connected(host, ip, session, attempts));
    }

    private static String met(MxPlan host, ClientSession session, DaneVerification dane) {
        return switch (host.requirement()) {
            case DANE ->
                dane instanceof DaneVerification.Authenticated a ? "DANE authenticated: " + a.detail() : "DANE";
            case STS_ENFORCE, LOCAL_VERIFY -> "certificate valid for " + String.join(" or ", host.referenceNames());
            case DANE_ENCRYPT -> "encrypted (TLSA records all unusable: certificate not checked, RFC 7672 §2.2)";
            case LOCAL_ENCRYPT -> "encrypted (local policy encrypt: certificate not checked)";
            case OPPORTUNISTIC -> "opportunistic TLS";
            case SKIP -> throw new IllegalStateException("a skipped host was connected to");
        };
    }

    /** The blocking client for one session with {@code host}. */
    private StartTlsClient client(MxPlan host, Instant now, AtomicReference<DaneVerification> dane) {
        Requirement requirement = host.requirement();
        List<String> names = host.referenceNames();
        SecurityLevel level;
        StartTlsClient.HandshakeCheck check = StartTlsClient.HandshakeCheck.NONE;
        switch (requirement) {
            case DANE -> {
                level = SecurityLevel.ENCRYPT;
                // RFC 7672 §3: the TLSA records authenticate the server; nothing is sent over TLS before they do.
                check = connection -> {
                    DaneVerification result = DaneVerifier.verify(host.tlsa(), connection.peerChain(), names, now);
                    dane.set(result);
                    if (result instanceof DaneVerification.NotAuthenticated no) {
                        return Optional.of(Failure.peer(
                                FailureKind.CERTIFICATE_INVALID,
                                Phase.HANDSHAKE,
                                "DANE: the certificate of " + host.host() + " matches no usable TLSA record ("
                                        + String.join("; ", no.reasons()) + ")"));
                    }
                    return Optional.empty();
                };
            }
            case STS_ENFORCE, LOCAL_VERIFY -> {
                if (names.size() == 1) {
                    level = SecurityLevel.VERIFY;
                } else {
                    // Several acceptable names: the handshake records the chain, the names are checked before any
                    // byte is sent over TLS.
                    level = SecurityLevel.ENCRYPT;
                    check = connection -> {
                        Verification v = verifyAny(connection.peerChain(), names, host.host());
                        return v.valid()
                                ? Optional.empty()
                                : Optional.of(Failure.peer(
                                        FailureKind.CERTIFICATE_INVALID,
                                        Phase.HANDSHAKE,
                                        "certificate of " + host.host() + " not accepted: " + v.reason()));
                    };
                }
            }
            case DANE_ENCRYPT, LOCAL_ENCRYPT -> level = SecurityLevel.ENCRYPT;
            case OPPORTUNISTIC -> level = SecurityLevel.MAY;
            default -> throw new IllegalArgumentException("host " + host.host() + " must not be connected to");
        }
        String identity = level == SecurityLevel.VERIFY ? names.get(0) : host.serverName();
        ClientTls tls = ClientTls.create(level, webPki, ReferenceIdentity.of(identity), Optional.empty(), profile);
        ClientOptions options = new ClientOptions(level, helloName, false, Limits.DEFAULT);
        return new StartTlsClient(Protocol.SMTP, options, tls, timeouts).withHandshakeCheck(check);
    }

    /** The WebPKI check of {@code chain}: valid when the chain is trusted and the leaf presents one of the names. */
    private Verification verifyAny(List<java.security.cert.X509Certificate> chain, List<String> names, String host) {
        List<String> candidates = names.isEmpty() ? List.of(host) : names;
        Verification first = null;
        for (String name : candidates) {
            Verification v = webPki.verify(chain, ReferenceIdentity.of(name));
            if (v.valid()) {
                return v;
            }
            if (first == null) {
                first = v;
            }
        }
        return first;
    }

    /** Looks up A, then AAAA records of {@code host} into {@code out} (bounded); the problem when there are none. */
    private Optional<String> addresses(String host, List<InetAddress> out) {
        HostAddresses found = HostAddresses.lookup(dns, host, maxAddressesPerHost);
        out.addAll(found.addresses());
        return found.problem().map(problem -> "no address for " + host + ": " + problem);
    }

    private HostAttempt skip(DeliveryPlan plan, MxPlan host) {
        Optional<TlsRptResult> type = Optional.empty();
        String code = null;
        if (host.requirement() == Requirement.SKIP) {
            if (host.dane().orElse(null) instanceof DaneOutcome.HostUnusable unusable) {
                // RFC 7672 §2.1.2: a failed TLSA (or address) lookup makes the host unusable; bogus → dnssec-invalid.
                type = Optional.of(
                        unusable.dnssecFailure() ? TlsRptResult.DNSSEC_INVALID : TlsRptResult.VALIDATION_FAILURE);
                code = unusable.dnssecFailure() ? null : "tlsa-lookup-failed";
            } else if (plan.local()
                    .filter(r -> r.level() == LocalPolicy.Level.DANE_ONLY)
                    .isPresent()) {
                // RFC 8460 §4.3.2.1: DANE required by local agreement, no DNSSEC-validated TLSA records for this host.
                type = Optional.of(TlsRptResult.DANE_REQUIRED);
            } else if (host.reportPolicy().type() == PolicyType.STS) {
                // RFC 8461 §4.1: not listed in a policy in enforce mode.
                type = Optional.of(TlsRptResult.VALIDATION_FAILURE);
                code = "mx-not-in-sts-policy";
            }
        }
        String reason = host.requirement() == Requirement.SKIP ? host.reason() : "not tried: " + plan.reason();
        if (type.isPresent()) {
            collector.recordFailure(
                    host.reportPolicy(),
                    new SessionFailure(type.get(), sendingMtaIp.orElse(null), host.host(), null, null, null, code),
                    clock.get());
        }
        return new HostAttempt(
                host.host(), Optional.empty(), host.requirement(), HostAttempt.Outcome.SKIPPED, type, reason);
    }

    /** RFC 8460 §4.3.2.2: a failed policy fetch, once per delivery, under the domain's non-DANE policy. */
    private void recordStsFetchFailure(DeliveryPlan plan) {
        Optional<StsFetch.Failed> fetch = plan.sts().flatMap(StsDecision::fetchFailure);
        if (fetch.isEmpty()) {
            return;
        }
        ReportPolicy policy = plan.hosts().stream()
                .map(MxPlan::reportPolicy)
                .filter(p -> p.type() != PolicyType.TLSA)
                .findFirst()
                .orElse(ReportPolicy.noPolicyFound(plan.domain()));
        collector.recordFailure(
                policy,
                new SessionFailure(
                        fetch.get().tlsRptResult(),
                        sendingMtaIp.orElse(null),
                        null,
                        null,
                        null,
                        null,
                        fetch.get().failure().name().toLowerCase(java.util.Locale.ROOT)),
                clock.get());
    }

    private static HostAttempt failed(
            MxPlan host, Optional<String> address, Optional<TlsRptResult> type, String reason) {
        return new HostAttempt(host.host(), address, host.requirement(), HostAttempt.Outcome.FAILED, type, reason);
    }

    /**
     * Sends one message under {@code plan}: {@link #connect} to the first host that meets its requirement, then the
     * mail transaction on that session (MAIL, RCPT, DATA, QUIT; the session is closed afterwards). Without a host
     * that meets its requirement nothing is sent and the message stays with the caller (RFC 5321 §4.5.4.1: queue and
     * retry). A refusal or a failure during the transaction is in {@link MailDelivery#transaction()}; whether to try
     * another host then is the caller's decision (RFC 5321 §5.1 leaves it to the client).
     *
     * @throws IllegalArgumentException for a message the SMTP transaction refuses (bare CR or LF, lines over 998
     *     octets): a caller bug
     */
    public MailDelivery deliver(DeliveryPlan plan, MailEnvelope envelope, byte[] message) {
        Objects.requireNonNull(envelope, "envelope");
        Objects.requireNonNull(message, "message");
        DeliveryAttempt attempt = connect(plan);
        if (attempt instanceof DeliveryAttempt.Connected connected) {
            try {
                return new MailDelivery(
                        attempt, Optional.of(MailTransactions.send(connected.session(), envelope, message, timeouts)));
            } catch (RuntimeException e) {
                closeQuietly(attempt);
                throw e;
            }
        }
        return new MailDelivery(attempt, Optional.empty());
    }

    /** Closes a session, ignoring errors: for callers done with a {@link DeliveryAttempt}. */
    public static void closeQuietly(DeliveryAttempt attempt) {
        try {
            attempt.close();
        } catch (IOException e) {
            // Nothing more to do with a connection being abandoned.
        }
    }

    /** Configures a {@link PolicyClient}. */
    public static final class Builder {
        private final DnsResolver dns;
        private final TlsRptCollector collector;
        private TrustAnchors webPki = TrustAnchors.jdkDefault();
        private String helloName = "localhost";
        private Timeouts timeouts = DEFAULT_TIMEOUTS;
        private TlsProfile profile = TlsProfile.modern();
        private int maxAddressesPerHost = DEFAULT_MAX_ADDRESSES_PER_HOST;
        private Optional<String> sendingMtaIp = Optional.empty();
        private ToIntFunction<String> portOfHost = host -> SMTP_PORT;
        private boolean testingPort;
        private Supplier<Instant> clock = Instant::now;

        private Builder(DnsResolver dns, TlsRptCollector collector) {
            this.dns = Objects.requireNonNull(dns, "dns");
            this.collector = Objects.requireNonNull(collector, "collector");
        }

        /** The WebPKI roots for MTA-STS and local {@code verify} (default: the JDK's). */
        public Builder webPkiTrust(TrustAnchors anchors) {
            this.webPki = Objects.requireNonNull(anchors, "anchors");
            return this;
        }

        /** The EHLO name: this MTA's host name (default {@code localhost}; set it on a real MTA). */
        public Builder helloName(String name) {
            this.helloName = Objects.requireNonNull(name, "name");
            new ClientOptions(SecurityLevel.MAY, name, false, Limits.DEFAULT); // validates the name
            return this;
        }

        /** Time limits per session (default {@link #DEFAULT_TIMEOUTS}). */
        public Builder timeouts(Timeouts t) {
            this.timeouts = Objects.requireNonNull(t, "timeouts");
            return this;
        }

        /** TLS versions and cipher suites (default {@link TlsProfile#modern()}). */
        public Builder profile(TlsProfile p) {
            this.profile = Objects.requireNonNull(p, "profile");
            return this;
        }

        /** At most {@code n} addresses are tried per MX host (default {@value #DEFAULT_MAX_ADDRESSES_PER_HOST}). */
        public Builder maxAddressesPerHost(int n) {
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("addresses per host must be 1..64, got " + n);
            }
            this.maxAddressesPerHost = n;
            return this;
        }

        /**
         * This MTA's address as TLS-RPT reports it ({@code sending-mta-ip}), e.g. the public address behind NAT; by
         * default the local address of each connection, and none for a host that was not connected to.
         */
        public Builder sendingMtaIp(String ip) {
            this.sendingMtaIp = Optional.of(ip);
            return this;
        }

        /** The clock sessions are checked and counted at (default: the system clock). */
        public Builder clock(Supplier<Instant> c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        /**
         * FOR TESTS ONLY: connect to {@code testPort} instead of 25, and only to loopback addresses (any other
         * address a host resolves to is not connected to and counts as a failed attempt).
         */
        public Builder testingPortOnLoopback(int testPort) {
            checkPort(testPort);
            return testingPortsOnLoopback(host -> testPort);
        }

        /**
         * FOR TESTS ONLY: connect to the port {@code portOfHost} gives for each MX host name instead of 25, and only
         * to loopback addresses, as {@link #testingPortOnLoopback(int)}.
         */
        public Builder testingPortsOnLoopback(ToIntFunction<String> portOfHost) {
            Objects.requireNonNull(portOfHost, "portOfHost");
            this.portOfHost = host -> checkPort(portOfHost.applyAsInt(host));
            this.testingPort = true;
            return this;
        }

        private static int checkPort(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535, got " + port);
            }
            return port;
        }

        /** The client. */
        public PolicyClient build() {
            return new PolicyClient(this);
        }
    }
}
