package dev.optls.policy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A resolver address where nothing listens: a failed lookup, never an exception, within the time limit. */
class UnreachableResolverTest {

    @Test
    void closedPortIsANetworkFailureOrTimeoutNotAnException() {
        DnsConfig config = DnsConfig.of(new InetSocketAddress("127.0.0.1", TestDnsServers.freePort()))
                .withTimeout(Duration.ofMillis(500));

        for (DnsResolver resolver : new DnsResolver[] {
            DnsResolver.validating(config, TrustAnchors.root()), DnsResolver.trustingAdBitFrom(config)
        }) {
            long start = System.nanoTime();
            DnsAnswer<String> answer = resolver.txt("_mta-sts.example.com");

            assertThat(answer).isInstanceOfSatisfying(DnsAnswer.Failed.class, failed -> {
                assertThat(failed.failure()).as(failed.detail()).isIn(LookupFailure.NETWORK, LookupFailure.TIMEOUT);
                assertThat(failed.status()).isEqualTo(DnssecStatus.INDETERMINATE);
                assertThat(failed.detail()).contains("127.0.0.1");
            });
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }
}
