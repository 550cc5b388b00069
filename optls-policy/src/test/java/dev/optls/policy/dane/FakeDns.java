package dev.optls.policy.dane;

import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordData;
import dev.optls.policy.dns.RecordType;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link DnsResolver} answering from a table, for the DANE rules. Unknown names are a secure NXDOMAIN; every
 * question asked is recorded.
 */
public final class FakeDns implements DnsResolver {

    private final Map<String, DnsAnswer<?>> answers = new HashMap<>();
    /** Every question asked, as {@code TYPE name}. */
    public final List<String> asked = new ArrayList<>();

    /** MX records of {@code domain} with DNSSEC status {@code status}. */
    public FakeDns mx(String domain, DnssecStatus status, MxRecord... records) {
        return answer(
                domain,
                RecordType.MX,
                new DnsAnswer.Records<>(domain, RecordType.MX, List.of(), status, List.of(records)));
    }

    /** Secure or insecure address records for {@code host}, reached through {@code chain}. */
    public FakeDns a(String host, DnssecStatus status, String... chain) {
        try {
            answers.put(
                    key(host, RecordType.A),
                    new DnsAnswer.Records<>(
                            host, RecordType.A, List.of(chain), status, List.of(InetAddress.getByName("192.0.2.1"))));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
        return this;
    }

    /** TLSA records (presentation text) at {@code name}. */
    public FakeDns tlsa(String name, DnssecStatus status, String... records) {
        List<RecordData> data = new ArrayList<>();
        for (String text : records) {
            TlsaRecord r = ((TlsaParse.Parsed) TlsaRecord.parse(text)).record();
            data.add(RecordData.of(r.toWire(), text));
        }
        answers.put(
                key(name, RecordType.TLSA), new DnsAnswer.Records<>(name, RecordType.TLSA, List.of(), status, data));
        return this;
    }

    /** Raw TLSA RDATA at {@code name}, for malformed records. */
    public FakeDns tlsaWire(String name, byte[] wire) {
        answers.put(
                key(name, RecordType.TLSA),
                new DnsAnswer.Records<>(
                        name, RecordType.TLSA, List.of(), DnssecStatus.SECURE, List.of(RecordData.of(wire, "?"))));
        return this;
    }

    /** Any answer for {@code name} and {@code type}. */
    public FakeDns answer(String name, RecordType type, DnsAnswer<?> answer) {
        answers.put(key(name, type), answer);
        return this;
    }

    /** A failed lookup for {@code name} and {@code type}. */
    public FakeDns fail(String name, RecordType type, DnssecStatus status, LookupFailure failure) {
        return answer(name, type, new DnsAnswer.Failed<>(name, type, List.of(), status, failure, failure + " (fake)"));
    }

    /** A secure NODATA for {@code name} and {@code type}. */
    public FakeDns noData(String name, RecordType type) {
        return answer(name, type, new DnsAnswer.NoData<>(name, type, List.of(), DnssecStatus.SECURE));
    }

    private static String key(String name, RecordType type) {
        return DnsNames.normalize(name) + "/" + type;
    }

    @SuppressWarnings("unchecked")
    private <T> DnsAnswer<T> lookup(String name, RecordType type) {
        asked.add(type + " " + DnsNames.normalize(name));
        DnsAnswer<?> answer = answers.get(key(name, type));
        if (answer == null) {
            return new DnsAnswer.NxDomain<>(DnsNames.normalize(name), type, List.of(), DnssecStatus.SECURE);
        }
        return (DnsAnswer<T>) answer;
    }

    @Override
    public DnsAnswer<MxRecord> mx(String domain) {
        return lookup(domain, RecordType.MX);
    }

    @Override
    public DnsAnswer<InetAddress> addresses(String host, RecordType type) {
        return lookup(host, type);
    }

    @Override
    public DnsAnswer<String> txt(String name) {
        return lookup(name, RecordType.TXT);
    }

    @Override
    public DnsAnswer<String> cname(String name) {
        return lookup(name, RecordType.CNAME);
    }

    @Override
    public DnsAnswer<RecordData> tlsa(String name) {
        return lookup(name, RecordType.TLSA);
    }
}
