package dev.optls.policy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.policy.dane.DaneLookup;
import dev.optls.policy.dane.DaneOutcome;
import dev.optls.policy.dane.TlsaRecord;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Both resolver modes against real BIND servers with zones signed by the test ({@link TestDnsServers}): secure,
 * insecure, bogus (wrong key, altered signature, expired signatures), NXDOMAIN vs NODATA, CNAME chains and the
 * limits.
 */
class DnssecResolverTest {

    private static TestDnsServers servers;

    @BeforeAll
    static void startServers() throws IOException, InterruptedException {
        servers = TestDnsServers.start();
    }

    @AfterAll
    static void stopServers() throws IOException {
        if (servers != null) {
            servers.close();
        }
    }

    private static DnsResolver validating() {
        return DnsResolver.validating(servers.config(), servers.trustAnchors());
    }

    @Nested
    class Validating {

        @Test
        void signedMxIsSecure() {
            DnsAnswer<MxRecord> answer = validating().mx("good.");

            assertThat(answer).isInstanceOf(DnsAnswer.Records.class);
            assertThat(answer.status()).isEqualTo(DnssecStatus.SECURE);
            assertThat(answer.records())
                    .containsExactlyInAnyOrder(new MxRecord(10, "mx.good"), new MxRecord(20, "mx2.good"));
            assertThat(answer.name()).isEqualTo("good");
            assertThat(answer.cnameChain()).isEmpty();
        }

        @Test
        void signedAddressesAndTlsaAreSecure() throws IOException {
            DnsResolver resolver = validating();

            DnsAnswer<InetAddress> a = resolver.addresses("mx.good", RecordType.A);
            DnsAnswer<InetAddress> aaaa = resolver.addresses("MX.Good", RecordType.AAAA);
            DnsAnswer<RecordData> tlsa = resolver.tlsa("_25._tcp.mx.good");

            assertThat(a.status()).isEqualTo(DnssecStatus.SECURE);
            assertThat(a.records()).containsExactly(InetAddress.getByName("127.0.0.1"));
            assertThat(aaaa.status()).isEqualTo(DnssecStatus.SECURE);
            assertThat(aaaa.records()).containsExactly(InetAddress.getByName("::1"));
            assertThat(tlsa.status()).isEqualTo(DnssecStatus.SECURE);
            assertThat(tlsa.records()).singleElement().satisfies(data -> {
                assertThat(data.text()).isEqualToIgnoringCase(TestDnsServers.TLSA_RDATA);
                assertThat(data.length()).isEqualTo(3 + 32);
                assertThat(data.wire()[0]).isEqualTo((byte) 3);
            });
        }

        @Test
        void txtStringsAreConcatenatedWithoutSeparator() {
            DnsAnswer<String> txt = validating().txt("good");

            assertThat(txt.status()).isEqualTo(DnssecStatus.SECURE);
            // RFC 8461 §3.1: the record was published as two strings, "v=STSv1; " and "id=20240101T000000;".
            assertThat(txt.records()).containsExactly("v=STSv1; id=20240101T000000;");
        }

        @Test
        void missingNameIsSecureNxdomainAndMissingTypeIsSecureNodata() {
            DnsResolver resolver = validating();

            DnsAnswer<MxRecord> nx = resolver.mx("nothing.good");
            DnsAnswer<String> nodata = resolver.txt("mx.good");
            DnsAnswer<RecordData> noTlsa = resolver.tlsa("_25._tcp.mx2.good");

            assertThat(nx).isInstanceOf(DnsAnswer.NxDomain.class);
            assertThat(nx.status()).isEqualTo(DnssecStatus.SECURE);
            assertThat(nodata).isInstanceOf(DnsAnswer.NoData.class);
            assertThat(nodata.status()).isEqualTo(DnssecStatus.SECURE);
            assertThat(noTlsa).isInstanceOf(DnsAnswer.NxDomain.class);
            assertThat(noTlsa.isSecure()).isTrue();
        }

        @Test
        void cnameChainIsFollowedAndReported() {
            DnsAnswer<InetAddress> answer = validating().addresses("chain.good", RecordType.A);

            assertThat(answer).isInstanceOf(DnsAnswer.Records.class);
            assertThat(answer.cnameChain()).containsExactly("alias.good", "mx.good");
            assertThat(answer.canonicalName()).isEqualTo("mx.good");
            assertThat(answer.status()).isEqualTo(DnssecStatus.SECURE);
        }

        @Test
        void cnameIntoAnUnsignedZoneMakesTheAnswerInsecure() {
            DnsAnswer<InetAddress> answer = validating().addresses("toinsecure.good", RecordType.A);

            assertThat(answer).isInstanceOf(DnsAnswer.Records.class);
            assertThat(answer.cnameChain()).containsExactly("mx.insecure");
            assertThat(answer.status()).isEqualTo(DnssecStatus.INSECURE);
        }

        @Test
        void danglingCnameIsNxdomainOfTheTarget() {
            DnsAnswer<InetAddress> answer = validating().addresses("dangling.good", RecordType.A);

            assertThat(answer).isInstanceOf(DnsAnswer.NxDomain.class);
            assertThat(answer.cnameChain()).containsExactly("nothere.good");
            assertThat(answer.canonicalName()).isEqualTo("nothere.good");
            assertThat(answer.status()).isEqualTo(DnssecStatus.SECURE);
        }

        @Test
        void cnameLoopFails() {
            DnsAnswer<InetAddress> answer = validating().addresses("loop1.good", RecordType.A);

            assertThat(answer)
                    .isInstanceOfSatisfying(
                            DnsAnswer.Failed.class,
                            failed -> assertThat(failed.failure())
                                    .as(failed.detail())
                                    .isIn(LookupFailure.CNAME_LOOP, LookupFailure.SERVFAIL));
        }

        @Test
        void cnameQueryReturnsTheTargetWithoutFollowing() {
            DnsAnswer<String> answer = validating().cname("chain.good");

            assertThat(answer.records()).containsExactly("alias.good");
            assertThat(answer.cnameChain()).isEmpty();
            assertThat(answer.status()).isEqualTo(DnssecStatus.SECURE);
        }

        @Test
        void unsignedDelegationIsInsecure() {
            DnsResolver resolver = validating();

            DnsAnswer<MxRecord> mx = resolver.mx("insecure");
            DnsAnswer<RecordData> tlsa = resolver.tlsa("_25._tcp.mx.insecure");

            assertThat(mx).isInstanceOf(DnsAnswer.Records.class);
            assertThat(mx.status()).isEqualTo(DnssecStatus.INSECURE);
            assertThat(tlsa).isInstanceOf(DnsAnswer.Records.class);
            assertThat(tlsa.status()).isEqualTo(DnssecStatus.INSECURE);
        }

        @Test
        void zoneSignedWithAKeyTheParentDoesNotNameIsBogus() {
            DnsAnswer<MxRecord> mx = validating().mx("bogus");
            DnsAnswer<RecordData> tlsa = validating().tlsa("_25._tcp.mx.bogus");

            assertBogus(mx);
            assertBogus(tlsa);
        }

        @Test
        void alteredSignatureIsBogusWhileTheOtherRrsetsStaySecure() {
            DnsResolver resolver = validating();

            assertBogus(resolver.mx("tampered"));
            assertThat(resolver.addresses("mx.tampered", RecordType.A).status()).isEqualTo(DnssecStatus.SECURE);
        }

        @Test
        void expiredSignaturesAreBogus() {
            assertBogus(validating().mx("expired"));
        }

        @Test
        void theRealRootAnchorDoesNotValidateTheTestRoot() {
            DnsResolver resolver = DnsResolver.validating(servers.config(), TrustAnchors.root());

            assertBogus(resolver.mx("good"));
        }

        @Test
        void lameDelegationIsServfailNotBogus() {
            DnsAnswer<MxRecord> answer = validating().mx("lame");

            assertThat(answer).isInstanceOfSatisfying(DnsAnswer.Failed.class, failed -> {
                assertThat(failed.failure()).as(failed.detail()).isIn(LookupFailure.SERVFAIL, LookupFailure.TIMEOUT);
                assertThat(failed.status()).isEqualTo(DnssecStatus.INDETERMINATE);
            });
        }

        @Test
        void answerOverTheRecordLimitFailsAndAHigherLimitFetchesItOverTcp() {
            DnsAnswer<InetAddress> limited = validating().addresses("big.good", RecordType.A);
            DnsAnswer<InetAddress> all = DnsResolver.validating(
                            servers.config().withMaxRecords(100), servers.trustAnchors())
                    .addresses("big.good", RecordType.A);

            assertThat(limited)
                    .isInstanceOfSatisfying(
                            DnsAnswer.Failed.class,
                            failed -> assertThat(failed.failure()).isEqualTo(LookupFailure.TOO_LARGE));
            assertThat(all.records()).hasSize(TestDnsServers.BIG_RRSET);
            assertThat(all.status()).isEqualTo(DnssecStatus.SECURE);
        }

        @Test
        void cnameChainOverTheLimitFails() {
            DnsAnswer<InetAddress> answer = DnsResolver.validating(
                            servers.config().withMaxCnameChain(1), servers.trustAnchors())
                    .addresses("chain.good", RecordType.A);

            assertThat(answer)
                    .isInstanceOfSatisfying(
                            DnsAnswer.Failed.class,
                            failed -> assertThat(failed.failure()).isEqualTo(LookupFailure.CNAME_CHAIN_TOO_LONG));
        }
    }

    @Nested
    class TrustingAdBit {

        private DnsResolver resolver() {
            return DnsResolver.trustingAdBitFrom(servers.config());
        }

        @Test
        void adBitFromTheValidatingResolverMakesAnswersSecure() {
            DnsAnswer<MxRecord> mx = resolver().mx("good");
            DnsAnswer<InetAddress> chain = resolver().addresses("chain.good", RecordType.A);

            assertThat(mx.status()).isEqualTo(DnssecStatus.SECURE);
            assertThat(mx.records()).hasSize(2);
            assertThat(chain.status()).isEqualTo(DnssecStatus.SECURE);
            assertThat(chain.cnameChain()).containsExactly("alias.good", "mx.good");
        }

        @Test
        void unsignedZoneIsInsecureAndSecureDenialsAreKept() {
            assertThat(resolver().mx("insecure").status()).isEqualTo(DnssecStatus.INSECURE);
            DnsAnswer<MxRecord> nx = resolver().mx("nothing.good");
            assertThat(nx).isInstanceOf(DnsAnswer.NxDomain.class);
            assertThat(nx.status()).isEqualTo(DnssecStatus.SECURE);
            DnsAnswer<String> nodata = resolver().txt("mx.good");
            assertThat(nodata).isInstanceOf(DnsAnswer.NoData.class);
            assertThat(nodata.status()).isEqualTo(DnssecStatus.SECURE);
        }

        @Test
        void bogusZonesFailTheLookup() {
            for (String domain : new String[] {"bogus", "tampered", "expired"}) {
                DnsAnswer<MxRecord> answer = resolver().mx(domain);
                assertThat(answer)
                        .as(domain)
                        .isInstanceOfSatisfying(
                                DnsAnswer.Failed.class,
                                failed -> assertThat(failed.failure())
                                        .isIn(LookupFailure.DNSSEC_BOGUS, LookupFailure.SERVFAIL));
                assertThat(answer.isSecure()).isFalse();
            }
        }

        @Test
        void aNonValidatingServerNeverYieldsSecure() {
            // The authoritative server does not validate, so it never sets AD: nothing becomes secure by accident.
            DnsResolver direct = DnsResolver.trustingAdBitFrom(
                    DnsConfig.of(servers.authoritative()).withTimeout(Duration.ofSeconds(5)));

            DnsAnswer<MxRecord> mx = direct.mx("good");

            assertThat(mx.records()).hasSize(2);
            assertThat(mx.status()).isEqualTo(DnssecStatus.INSECURE);
        }
    }

    /** The DANE lookup rules over the real servers: what a sending MTA would decide for each test domain. */
    @Nested
    class DaneOverRealDns {

        private DaneLookup lookup() {
            return new DaneLookup(validating());
        }

        @Test
        void signedDomainRequiresDaneForTheHostWithTlsaAndNotForTheOther() {
            List<DaneOutcome> outcomes = lookup().forDomain("good");

            assertThat(outcomes).hasSize(2);
            assertThat(outcomes.get(0)).isInstanceOfSatisfying(DaneOutcome.Required.class, r -> {
                assertThat(r.host()).isEqualTo("mx.good");
                assertThat(r.sni()).isEqualTo("mx.good");
                assertThat(r.usable()).extracting(TlsaRecord::toText).containsExactly(TestDnsServers.TLSA_RDATA);
            });
            // mx2.good has no TLSA records: a secure NXDOMAIN, so DANE does not apply to it.
            assertThat(outcomes.get(1))
                    .isInstanceOfSatisfying(
                            DaneOutcome.NotApplicable.class,
                            n -> assertThat(n.host()).isEqualTo("mx2.good"));
        }

        @Test
        void cnameExpandedHostUsesTheTargetAsTlsaBaseDomain() {
            DaneOutcome outcome = lookup().forHost("good", "chain.good", true);

            assertThat(outcome).isInstanceOfSatisfying(DaneOutcome.Required.class, r -> {
                assertThat(r.tlsaBaseDomain()).isEqualTo("mx.good");
                assertThat(r.referenceNames()).containsExactly("mx.good", "chain.good", "good");
            });
        }

        @Test
        void unsignedDomainHasNoDaneEvenWithTlsaRecords() {
            assertThat(lookup().forDomain("insecure"))
                    .singleElement()
                    .isInstanceOfSatisfying(
                            DaneOutcome.NotApplicable.class,
                            n -> assertThat(n.reason()).contains("not DNSSEC-secure"));
        }

        @Test
        void bogusDomainsMakeTheirHostsUnusable() {
            for (String domain : List.of("bogus", "tampered", "expired")) {
                assertThat(lookup().forDomain(domain))
                        .as(domain)
                        .singleElement()
                        .isInstanceOfSatisfying(
                                DaneOutcome.HostUnusable.class,
                                u -> assertThat(u.dnssecFailure()).isTrue());
            }
        }
    }

    @Test
    void silentServerTimesOutWithinTheLimit() throws IOException {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            DnsConfig config = DnsConfig.of(new InetSocketAddress("127.0.0.1", silent.getLocalPort()))
                    .withTimeout(Duration.ofMillis(400));
            for (DnsResolver resolver : new DnsResolver[] {
                DnsResolver.validating(config, servers.trustAnchors()), DnsResolver.trustingAdBitFrom(config)
            }) {
                long start = System.nanoTime();
                DnsAnswer<MxRecord> answer = resolver.mx("good");
                Duration took = Duration.ofNanos(System.nanoTime() - start);

                assertThat(answer).isInstanceOfSatisfying(DnsAnswer.Failed.class, failed -> {
                    assertThat(failed.failure()).isEqualTo(LookupFailure.TIMEOUT);
                    assertThat(failed.status()).isEqualTo(DnssecStatus.INDETERMINATE);
                });
                assertThat(took).isLessThan(Duration.ofSeconds(3));
            }
        }
    }

    private static void assertBogus(DnsAnswer<?> answer) {
        assertThat(answer).isInstanceOfSatisfying(DnsAnswer.Failed.class, failed -> {
            assertThat(failed.status()).isEqualTo(DnssecStatus.BOGUS);
            assertThat(failed.failure()).isEqualTo(LookupFailure.DNSSEC_BOGUS);
            assertThat(failed.detail()).contains("DNSSEC");
        });
        assertThat(answer.records()).isEmpty();
    }
}
