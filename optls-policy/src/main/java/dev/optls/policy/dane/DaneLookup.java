package dev.optls.policy.dane;

import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordData;
import dev.optls.policy.dns.RecordType;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The DANE lookup rules of RFC 7672 §2.2 for one MX host: secure MX and addresses, TLSA base domain candidates
 * with CNAME expansion, and the decision on the TLSA answer. All DNS goes through a {@link DnsResolver}, so the
 * rules are tested with a fake one.
 */
public final class DaneLookup {

    /** RFC 7672 §2.2.3 / RFC 6698 §3: TLSA records for SMTP live at {@code _25._tcp.<base domain>}. */
    public static final String SMTP_PREFIX = "_25._tcp.";

    private final DnsResolver dns;

    /** Looks up through {@code dns}. */
    public DaneLookup(DnsResolver dns) {
        this.dns = Objects.requireNonNull(dns, "dns");
    }

    /**
     * What DANE says about each MX host of {@code nextHopDomain}, in preference order (RFC 7672 §2.2.1). Without MX
     * records (NODATA) the domain is its own host (RFC 5321 §5.1); a failed MX lookup gives one
     * {@link DaneOutcome.HostUnusable} for the domain; NXDOMAIN and a null MX (RFC 7505) give no host at all.
     */
    public List<DaneOutcome> forDomain(String nextHopDomain) {
        String domain = DnsNames.normalize(nextHopDomain);
        DnsAnswer<MxRecord> mx = dns.mx(domain);
        if (mx instanceof DnsAnswer.Failed<MxRecord> failed) {
            return List.of(new DaneOutcome.HostUnusable(
                    domain,
                    "the MX lookup of " + domain + " failed: " + failed.detail(),
                    failed.status() == DnssecStatus.BOGUS,
                    failed));
        }
        if (mx instanceof DnsAnswer.NoData<MxRecord>) {
            return List.of(forHost(domain, domain, mx.isSecure()));
        }
        List<MxRecord> hosts = mx.records().stream()
                .filter(r -> !r.isNullMx())
                .sorted(Comparator.comparingInt(MxRecord::preference))
                .toList();
        List<DaneOutcome> outcomes = new ArrayList<>();
        for (MxRecord host : hosts) {
            outcomes.add(forHost(domain, host.exchange(), mx.isSecure()));
        }
        return outcomes;
    }

    /**
     * What DANE says about {@code mxHost}, reached as an MX of {@code nextHopDomain}.
     *
     * @param mxSecure whether the MX RRset (or, without MX records, the secure denial that made the domain its own
     *     host) was DNSSEC-secure
     */
    public DaneOutcome forHost(String nextHopDomain, String mxHost, boolean mxSecure) {
        return forHost(nextHopDomain, mxHost, mxSecure, 25);
    }

    /**
     * What DANE says about {@code mxHost} on {@code port}: TLSA records at {@code _port._tcp.<base domain>} (RFC 6698
     * §3; RFC 7672 §2.2.2 for a next hop that names the host itself, where no MX lookup happens and {@code mxSecure}
     * is {@code true}: only the host's address records decide).
     */
    public DaneOutcome forHost(String nextHopDomain, String mxHost, boolean mxSecure, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("a TCP port is 1 to 65535, not " + port);
        }
        String prefix = port == 25 ? SMTP_PREFIX : "_" + port + "._tcp.";
        String host = DnsNames.normalize(mxHost);
        String nextHop = DnsNames.normalize(nextHopDomain);
        // RFC 7672 §2.2.1: MX host names from an insecure MX RRset cannot be trusted; like Postfix, optls then does
        // not use DANE for any of them.
        if (!mxSecure) {
            return new DaneOutcome.NotApplicable(
                    host, "the MX records of " + nextHop + " are not DNSSEC-secure (RFC 7672 §2.2.1)");
        }
        DnsAnswer<InetAddress> addresses = dns.addresses(host, RecordType.A);
        if (addresses instanceof DnsAnswer.NoData) {
            addresses = dns.addresses(host, RecordType.AAAA);
        }
        if (addresses instanceof DnsAnswer.Failed<InetAddress> failed) {
            // RFC 7672 §2.1.2: a failed lookup makes the host unusable.
            return new DaneOutcome.HostUnusable(
                    host,
                    "the address lookup of " + host + " failed: " + failed.detail(),
                    failed.status() == DnssecStatus.BOGUS,
                    failed);
        }
        if (!(addresses instanceof DnsAnswer.Records<InetAddress>)) {
            return new DaneOutcome.HostUnusable(host, host + " has no address records", false, addresses);
        }
        // RFC 7672 §2.2.2: DANE applies only when the addresses (and any CNAME leading to them) are secure.
        if (!addresses.isSecure()) {
            return new DaneOutcome.NotApplicable(
                    host, "the address records of " + host + " are not DNSSEC-secure (RFC 7672 §2.2.2)");
        }
        List<String> candidates = baseDomainCandidates(host, addresses);
        for (String base : candidates) {
            DnsAnswer<RecordData> tlsa = dns.tlsa(prefix + base);
            if (tlsa instanceof DnsAnswer.Failed<RecordData> failed) {
                // RFC 7672 §2.1.2: "MUST NOT deliver the message via that server".
                return new DaneOutcome.HostUnusable(
                        host,
                        "the TLSA lookup at " + prefix + base + " failed: " + failed.detail(),
                        failed.status() == DnssecStatus.BOGUS,
                        failed);
            }
            if (!tlsa.isSecure()) {
                return new DaneOutcome.NotApplicable(
                        host, "the TLSA records at " + prefix + base + " are not DNSSEC-secure");
            }
            if (tlsa instanceof DnsAnswer.Records<RecordData> found) {
                return decide(host, nextHop, prefix + base, base, found);
            }
            // Secure NXDOMAIN or NODATA: try the next candidate (RFC 7672 §2.2.3).
        }
        return new DaneOutcome.NotApplicable(
                host, "securely no TLSA records at " + prefix + String.join(" or " + prefix, candidates));
    }

    /**
     * RFC 7672 §2.2.3 (and RFC 7671 §7): the TLSA base domain candidates of an MX host whose addresses are secure —
     * the fully CNAME-expanded name first, then the original name; just the name without CNAMEs.
     */
    public static List<String> baseDomainCandidates(String host, DnsAnswer<?> secureAddresses) {
        Set<String> candidates = new LinkedHashSet<>();
        candidates.add(secureAddresses.canonicalName());
        candidates.add(DnsNames.normalize(host));
        return List.copyOf(candidates);
    }

    private static DaneOutcome decide(
            String host, String nextHop, String owner, String base, DnsAnswer.Records<RecordData> tlsa) {
        List<TlsaRecord> records = new ArrayList<>();
        for (RecordData data : tlsa.records()) {
            TlsaParse parsed = TlsaRecord.fromWire(data.wire());
            if (parsed instanceof TlsaParse.Malformed malformed) {
                // Reference §16.2: a malformed TLSA RRset is a lookup failure; the host is not used.
                return new DaneOutcome.HostUnusable(
                        host, "malformed TLSA record at " + owner + ": " + malformed.reason(), false, tlsa);
            }
            records.add(((TlsaParse.Parsed) parsed).record());
        }
        List<TlsaRecord> usable = records.stream().filter(TlsaRecord::isUsable).toList();
        if (usable.isEmpty()) {
            return new DaneOutcome.EncryptOnly(
                    host,
                    base,
                    records,
                    "every TLSA record at " + owner
                            + " is unusable: TLS is required, the certificate is not checked (RFC 7672 §2.2)");
        }
        // RFC 7672 §3.2.2: the TLSA base domain MUST, the MX host name SHOULD, the next-hop domain MAY be accepted.
        Set<String> names = new LinkedHashSet<>(List.of(base, host, nextHop));
        return new DaneOutcome.Required(
                host,
                base,
                usable,
                records,
                List.copyOf(names),
                usable.size() + " usable TLSA record(s) at " + owner + ": TLS and a matching certificate"
                        + " are required");
    }
}
