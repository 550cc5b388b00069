package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordData;
import dev.optls.policy.dns.RecordType;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link DnsResolver} that answers TXT questions from a table the test changes as it goes (other record types are
 * not asked by MTA-STS discovery and fail the test). Names without an entry are NXDOMAIN; every question is recorded.
 */
final class TxtDns implements DnsResolver {

    private final Map<String, DnsAnswer<String>> answers = new HashMap<>();
    final List<String> asked = new ArrayList<>();

    /** TXT records at {@code name} (each record's strings already concatenated). */
    TxtDns records(String name, String... records) {
        answers.put(
                DnsNames.normalize(name),
                new DnsAnswer.Records<>(
                        DnsNames.normalize(name), RecordType.TXT, List.of(), DnssecStatus.INSECURE, List.of(records)));
        return this;
    }

    /** NXDOMAIN at {@code name}. */
    TxtDns nxdomain(String name) {
        answers.remove(DnsNames.normalize(name));
        return this;
    }

    /** A failed lookup (SERVFAIL) at {@code name}. */
    TxtDns servfail(String name) {
        answers.put(
                DnsNames.normalize(name),
                new DnsAnswer.Failed<>(
                        DnsNames.normalize(name),
                        RecordType.TXT,
                        List.of(),
                        DnssecStatus.INDETERMINATE,
                        LookupFailure.SERVFAIL,
                        "SERVFAIL (fake)"));
        return this;
    }

    @Override
    public DnsAnswer<String> txt(String name) {
        String n = DnsNames.normalize(name);
        asked.add("TXT " + n);
        DnsAnswer<String> answer = answers.get(n);
        return answer != null ? answer : new DnsAnswer.NxDomain<>(n, RecordType.TXT, List.of(), DnssecStatus.INSECURE);
    }

    @Override
    public DnsAnswer<MxRecord> mx(String domain) {
        throw new AssertionError("MTA-STS discovery asked for MX records of " + domain);
    }

    @Override
    public DnsAnswer<InetAddress> addresses(String host, RecordType type) {
        throw new AssertionError("MTA-STS discovery asked for addresses of " + host);
    }

    @Override
    public DnsAnswer<String> cname(String name) {
        throw new AssertionError("MTA-STS discovery asked for the CNAME of " + name);
    }

    @Override
    public DnsAnswer<RecordData> tlsa(String name) {
        throw new AssertionError("MTA-STS discovery asked for TLSA records of " + name);
    }
}
