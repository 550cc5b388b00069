package dev.optls.policy.dane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.RecordType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The RFC 7672 §2.2 lookup rules per MX host, against a table of DNS answers. */
class DaneLookupTest {

    private static final String EE = "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6";
    private static final String PKIX_EE = "1 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6";

    @Test
    void secureHostWithUsableTlsaRequiresDane() {
        FakeDns dns = new FakeDns()
                .a("mx.example.com", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx.example.com", DnssecStatus.SECURE, EE, PKIX_EE);

        DaneOutcome outcome = new DaneLookup(dns).forHost("example.com", "MX.example.com.", true);

        assertThat(outcome).isInstanceOfSatisfying(DaneOutcome.Required.class, r -> {
            assertThat(r.host()).isEqualTo("mx.example.com");
            assertThat(r.tlsaBaseDomain()).isEqualTo("mx.example.com");
            assertThat(r.sni()).isEqualTo("mx.example.com");
            assertThat(r.usable()).extracting(TlsaRecord::toText).containsExactly(EE);
            assertThat(r.records()).hasSize(2);
            assertThat(r.referenceNames()).containsExactly("mx.example.com", "example.com");
        });
    }

    @Test
    void insecureMxRrsetMeansNoDaneAndNoFurtherLookups() {
        FakeDns dns = new FakeDns()
                .a("mx.example.com", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx.example.com", DnssecStatus.SECURE, EE);

        DaneOutcome outcome = new DaneLookup(dns).forHost("example.com", "mx.example.com", false);

        assertThat(outcome)
                .isInstanceOfSatisfying(
                        DaneOutcome.NotApplicable.class,
                        n -> assertThat(n.reason()).contains("MX records of example.com are not DNSSEC-secure"));
        assertThat(dns.asked).isEmpty();
    }

    @Test
    void insecureAddressesMeanNoDane() {
        FakeDns dns = new FakeDns()
                .a("mx.example.com", DnssecStatus.INSECURE)
                .tlsa("_25._tcp.mx.example.com", DnssecStatus.SECURE, EE);

        assertThat(new DaneLookup(dns).forHost("example.com", "mx.example.com", true))
                .isInstanceOf(DaneOutcome.NotApplicable.class);
        assertThat(dns.asked).containsExactly("A mx.example.com");
    }

    @Test
    void cnameExpandedNameIsTriedFirstAndBecomesTheBaseDomain() {
        // RFC 7672 §2.2.3: mx.example.com CNAME mx.hosting.example (secure chain).
        FakeDns dns = new FakeDns()
                .a("mx.example.com", DnssecStatus.SECURE, "mx.hosting.example")
                .tlsa("_25._tcp.mx.hosting.example", DnssecStatus.SECURE, EE)
                .tlsa("_25._tcp.mx.example.com", DnssecStatus.SECURE, PKIX_EE);

        DaneOutcome outcome = new DaneLookup(dns).forHost("example.com", "mx.example.com", true);

        assertThat(outcome).isInstanceOfSatisfying(DaneOutcome.Required.class, r -> {
            assertThat(r.tlsaBaseDomain()).isEqualTo("mx.hosting.example");
            assertThat(r.sni()).isEqualTo("mx.hosting.example");
            assertThat(r.referenceNames()).containsExactly("mx.hosting.example", "mx.example.com", "example.com");
        });
        assertThat(dns.asked).containsExactly("A mx.example.com", "TLSA _25._tcp.mx.hosting.example");
    }

    @Test
    void withoutTlsaAtTheExpandedNameTheOriginalNameIsTried() {
        FakeDns dns = new FakeDns()
                .a("mx.example.com", DnssecStatus.SECURE, "mx.hosting.example")
                .noData("_25._tcp.mx.hosting.example", RecordType.TLSA)
                .tlsa("_25._tcp.mx.example.com", DnssecStatus.SECURE, EE);

        DaneOutcome outcome = new DaneLookup(dns).forHost("example.com", "mx.example.com", true);

        assertThat(outcome)
                .isInstanceOfSatisfying(
                        DaneOutcome.Required.class,
                        r -> assertThat(r.tlsaBaseDomain()).isEqualTo("mx.example.com"));
        assertThat(DaneLookup.baseDomainCandidates("mx.example.com", dns.addresses("mx.example.com", RecordType.A)))
                .containsExactly("mx.hosting.example", "mx.example.com");
    }

    @Test
    void securelyNoTlsaAnywhereMeansNoDane() {
        FakeDns dns = new FakeDns().a("mx.example.com", DnssecStatus.SECURE, "mx.hosting.example");

        DaneOutcome outcome = new DaneLookup(dns).forHost("example.com", "mx.example.com", true);

        assertThat(outcome)
                .isInstanceOfSatisfying(
                        DaneOutcome.NotApplicable.class,
                        n -> assertThat(n.reason())
                                .contains("securely no TLSA records")
                                .contains("_25._tcp.mx.hosting.example")
                                .contains("_25._tcp.mx.example.com"));
    }

    @Test
    void onlyUnusableRecordsStillRequireTls() {
        FakeDns dns = new FakeDns()
                .a("mx.example.com", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx.example.com", DnssecStatus.SECURE, PKIX_EE, "3 1 1 00");

        assertThat(new DaneLookup(dns).forHost("example.com", "mx.example.com", true))
                .isInstanceOfSatisfying(DaneOutcome.EncryptOnly.class, e -> {
                    assertThat(e.records()).hasSize(2);
                    assertThat(e.reason()).contains("TLS is required");
                });
    }

    @Test
    void insecureTlsaMeansNoDane() {
        FakeDns dns = new FakeDns()
                .a("mx.example.com", DnssecStatus.SECURE)
                .tlsa("_25._tcp.mx.example.com", DnssecStatus.INSECURE, EE);

        assertThat(new DaneLookup(dns).forHost("example.com", "mx.example.com", true))
                .isInstanceOf(DaneOutcome.NotApplicable.class);
    }

    @Test
    void bogusOrFailedTlsaLookupMakesTheHostUnusable() {
        for (LookupFailure failure :
                List.of(LookupFailure.DNSSEC_BOGUS, LookupFailure.SERVFAIL, LookupFailure.TIMEOUT)) {
            DnssecStatus status =
                    failure == LookupFailure.DNSSEC_BOGUS ? DnssecStatus.BOGUS : DnssecStatus.INDETERMINATE;
            FakeDns dns = new FakeDns()
                    .a("mx.example.com", DnssecStatus.SECURE)
                    .fail("_25._tcp.mx.example.com", RecordType.TLSA, status, failure);

            DaneOutcome outcome = new DaneLookup(dns).forHost("example.com", "mx.example.com", true);

            assertThat(outcome).as(failure.toString()).isInstanceOfSatisfying(DaneOutcome.HostUnusable.class, u -> {
                assertThat(u.dnssecFailure()).isEqualTo(failure == LookupFailure.DNSSEC_BOGUS);
                assertThat(u.failed()).isInstanceOf(DnsAnswer.Failed.class);
                assertThat(u.reason()).contains("TLSA lookup at _25._tcp.mx.example.com failed");
            });
        }
    }

    @Test
    void failedAddressLookupMakesTheHostUnusable() {
        FakeDns dns =
                new FakeDns().fail("mx.example.com", RecordType.A, DnssecStatus.BOGUS, LookupFailure.DNSSEC_BOGUS);

        assertThat(new DaneLookup(dns).forHost("example.com", "mx.example.com", true))
                .isInstanceOfSatisfying(
                        DaneOutcome.HostUnusable.class,
                        u -> assertThat(u.dnssecFailure()).isTrue());
    }

    @Test
    void ipv6OnlyHostIsLookedUpByAaaa() throws Exception {
        FakeDns dns = new FakeDns()
                .noData("mx.example.com", RecordType.A)
                .answer(
                        "mx.example.com",
                        RecordType.AAAA,
                        new DnsAnswer.Records<>(
                                "mx.example.com",
                                RecordType.AAAA,
                                List.of(),
                                DnssecStatus.SECURE,
                                List.of(java.net.InetAddress.getByName("2001:db8::25"))))
                .tlsa("_25._tcp.mx.example.com", DnssecStatus.SECURE, EE);

        assertThat(new DaneLookup(dns).forHost("example.com", "mx.example.com", true))
                .isInstanceOf(DaneOutcome.Required.class);
        assertThat(dns.asked)
                .containsExactly("A mx.example.com", "AAAA mx.example.com", "TLSA _25._tcp.mx.example.com");
    }

    @Test
    void hostWithoutAddressesIsUnusable() {
        FakeDns dns = new FakeDns();

        assertThat(new DaneLookup(dns).forHost("example.com", "mx.example.com", true))
                .isInstanceOfSatisfying(
                        DaneOutcome.HostUnusable.class,
                        u -> assertThat(u.reason()).contains("no address"));
    }

    @Test
    void malformedTlsaRecordMakesTheHostUnusable() {
        FakeDns dns = new FakeDns()
                .a("mx.example.com", DnssecStatus.SECURE)
                .tlsaWire("_25._tcp.mx.example.com", new byte[] {3, 1});

        assertThat(new DaneLookup(dns).forHost("example.com", "mx.example.com", true))
                .isInstanceOfSatisfying(
                        DaneOutcome.HostUnusable.class,
                        u -> assertThat(u.reason()).contains("malformed TLSA"));
    }
}
