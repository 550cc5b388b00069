package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordData;
import dev.optls.policy.dns.RecordType;
import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link TlsRptRecord#discover}: the {@code _smtp._tls} TXT lookup (RFC 8460 §3) through a {@link DnsResolver}. */
class TlsRptDiscoveryTest {

    /** Answers TXT questions from a table; other types are not asked by discovery. */
    private static final class TxtTable implements DnsResolver {
        final Map<String, DnsAnswer<String>> answers = new HashMap<>();
        final List<String> asked = new ArrayList<>();

        @Override
        public DnsAnswer<String> txt(String name) {
            asked.add(name);
            DnsAnswer<String> a = answers.get(name);
            return a != null ? a : new DnsAnswer.NxDomain<>(name, RecordType.TXT, List.of(), DnssecStatus.INSECURE);
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

    @Test
    void findsTheRecordUnderSmtpTls() {
        TxtTable dns = new TxtTable();
        dns.answers.put(
                "_smtp._tls.example.com",
                new DnsAnswer.Records<>(
                        "_smtp._tls.example.com",
                        RecordType.TXT,
                        List.of(),
                        DnssecStatus.INSECURE,
                        List.of(
                                "v=spf1 -all",
                                "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://tlsrpt.example.com/v1")));

        TlsRptRecordOutcome outcome = TlsRptRecord.discover(dns, "Example.COM.");

        assertThat(dns.asked).containsExactly("_smtp._tls.example.com");
        assertThat(outcome)
                .isEqualTo(new TlsRptRecordOutcome.Valid(new TlsRptRecord(
                        List.of(URI.create("mailto:tlsrpt@example.com"), URI.create("https://tlsrpt.example.com/v1")),
                        List.of())));
    }

    @Test
    void nxdomainIsAbsentAndAFailedLookupIsSaid() {
        TxtTable dns = new TxtTable();
        assertThat(TlsRptRecord.discover(dns, "example.org")).isInstanceOf(TlsRptRecordOutcome.Absent.class);

        dns.answers.put(
                "_smtp._tls.example.net",
                new DnsAnswer.Failed<>(
                        "_smtp._tls.example.net",
                        RecordType.TXT,
                        List.of(),
                        DnssecStatus.INDETERMINATE,
                        LookupFailure.SERVFAIL,
                        "SERVFAIL (fake)"));
        TlsRptRecordOutcome failed = TlsRptRecord.discover(dns, "example.net");
        assertThat(failed).isInstanceOf(TlsRptRecordOutcome.LookupFailed.class);
        assertThat(((TlsRptRecordOutcome.LookupFailed) failed).reason()).contains("SERVFAIL");
        assertThatThrownBy(() -> TlsRptRecord.discover(dns, ".")).isInstanceOf(IllegalArgumentException.class);
    }
}
