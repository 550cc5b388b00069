package dev.optls.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ReferenceIdentityTest {
    private static final TestPki PKI = TestPki.create();

    /** A certificate description: DNS SANs, IP SANs and an optional explicit CN. */
    private record Cert(List<String> dns, List<String> ips, String cn) {
        X509Certificate make() {
            TestPki.Leaf leaf = PKI.leaf(dns.toArray(new String[0])).ipAddresses(ips.toArray(new String[0]));
            if (cn != null) {
                leaf.commonName(cn);
            }
            Credential credential = leaf.issue();
            return credential.certificate();
        }

        @Override
        public String toString() {
            return "dns=" + dns + " ip=" + ips + (cn == null ? "" : " cn=" + cn);
        }
    }

    private static Cert dns(String... names) {
        return new Cert(List.of(names), List.of(), null);
    }

    private static Cert ip(String... addresses) {
        return new Cert(List.of(), List.of(addresses), null);
    }

    private static Cert cnOnly(String cn) {
        return new Cert(List.of(), List.of(), cn);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // exact DNS-IDs, case-insensitive, trailing dot normalised (RFC 9525 §6.3)
                Arguments.of(dns("mail.example.com"), "mail.example.com", true),
                Arguments.of(dns("mail.example.com"), "MAIL.Example.COM", true),
                Arguments.of(dns("MAIL.EXAMPLE.COM"), "mail.example.com", true),
                Arguments.of(dns("mail.example.com"), "mail.example.com.", true),
                Arguments.of(dns("mail.example.com."), "mail.example.com", true),
                Arguments.of(dns("mail.example.com"), "example.com", false),
                Arguments.of(dns("mail.example.com"), "mail.example.co", false),
                Arguments.of(dns("a.example", "b.example"), "b.example", true),
                // wildcards: only the complete left-most label, exactly one label
                Arguments.of(dns("*.example.com"), "a.example.com", true),
                Arguments.of(dns("*.example.com"), "example.com", false),
                Arguments.of(dns("*.example.com"), "a.b.example.com", false),
                Arguments.of(dns("f*o.example.com"), "foo.example.com", false),
                Arguments.of(dns("*o.example.com"), "foo.example.com", false),
                Arguments.of(dns("f*.example.com"), "foo.example.com", false),
                Arguments.of(dns("mail.*.com"), "mail.example.com", false),
                Arguments.of(dns("*.*.example.com"), "a.b.example.com", false),
                Arguments.of(dns("*.com"), "example.com", false),
                Arguments.of(dns("*"), "example", false),
                // IDNs compared as A-labels
                Arguments.of(dns("xn--bcher-kva.example"), "bücher.example", true),
                Arguments.of(dns("xn--bcher-kva.example"), "BÜCHER.example", true),
                Arguments.of(dns("*.xn--bcher-kva.example"), "mail.bücher.example", true),
                Arguments.of(dns("xn--bcher-kva.example"), "bucher.example", false),
                // CN-ID only when there is no DNS-ID (RFC 7817 §3, RFC 6125 §6.4.4)
                Arguments.of(cnOnly("mail.example.com"), "mail.example.com", true),
                Arguments.of(cnOnly("*.example.com"), "mail.example.com", true),
                Arguments.of(
                        new Cert(List.of("other.example.com"), List.of(), "mail.example.com"),
                        "mail.example.com",
                        false),
                Arguments.of(new Cert(List.of(), List.of("192.0.2.1"), "mail.example.com"), "mail.example.com", true),
                // IP reference identities only against iPAddress SANs
                Arguments.of(ip("127.0.0.1"), "127.0.0.1", true),
                Arguments.of(ip("127.0.0.1"), "127.0.0.2", false),
                Arguments.of(ip("::1"), "::1", true),
                Arguments.of(ip("::1"), "[::1]", true),
                Arguments.of(ip("::1"), "0:0:0:0:0:0:0:1", true),
                Arguments.of(ip("2001:db8::1"), "2001:DB8:0::1", true),
                Arguments.of(dns("127.0.0.1"), "127.0.0.1", false),
                Arguments.of(cnOnly("127.0.0.1"), "127.0.0.1", false),
                Arguments.of(ip("127.0.0.1"), "localhost", false));
    }

    @ParameterizedTest(name = "[{index}] {0} vs {1} -> {2}")
    @MethodSource("cases")
    void matchesPerRfc9525(Cert cert, String reference, boolean expected) {
        X509Certificate certificate = cert.make();
        ReferenceIdentity identity = ReferenceIdentity.of(reference);

        assertThat(identity.matches(certificate)).isEqualTo(expected);
        assertThat(identity.mismatch(certificate).isEmpty()).isEqualTo(expected);
    }

    @Test
    void mismatchReasonsNameTheCandidates() {
        assertThat(ReferenceIdentity.of("mx.example")
                        .mismatch(dns("a.example", "b.example").make()))
                .contains("name mx.example does not match the certificate's DNS names [a.example, b.example]");
        assertThat(ReferenceIdentity.of("mx.example")
                        .mismatch(cnOnly("other.example").make()))
                .hasValueSatisfying(r -> assertThat(r).contains("no DNS names").contains("other.example"));
        assertThat(ReferenceIdentity.of("127.0.0.1").mismatch(ip("127.0.0.2").make()))
                .contains("address 127.0.0.1 does not match the certificate's IP addresses [127.0.0.2]");
    }

    @Test
    void normalisesDnsNamesAndKeepsIpLiterals() {
        assertThat(ReferenceIdentity.of("Mail.Bücher.Example.").value()).isEqualTo("mail.xn--bcher-kva.example");
        assertThat(ReferenceIdentity.of("Mail.Example").sniHostName()).contains("mail.example");
        ReferenceIdentity v6 = ReferenceIdentity.of("[2001:db8::1]");
        assertThat(v6.isIpAddress()).isTrue();
        assertThat(v6.value()).isEqualTo("2001:db8::1");
        assertThat(v6.sniHostName()).isEmpty();
        assertThat(v6).isEqualTo(ReferenceIdentity.of("2001:DB8:0:0::1"));
        assertThat(ReferenceIdentity.of("127.0.0.1").sniHostName()).isEmpty();
    }

    @Test
    void rejectsNamesThatAreNotNames() {
        assertThatThrownBy(() -> ReferenceIdentity.of("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ReferenceIdentity.of("a..example")).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\" -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "mail.example.com|true",
                "mail.example.com.|true",
                "localhost|true",
                "bücher.example|true",
                "xn--bcher-kva.example|true",
                "127.0.0.1|false",
                "::1|false",
                "[::1]|false",
                "2001:db8::1|false",
                "1.2.3.999|false",
                "''|false",
                "a..example|false",
                "-a.example|false",
                "a-.example|false",
                "under_score.example|false",
                "*.example.com|false",
                "has space.example|false"
            })
    void sniHostNames(String host, boolean valid) {
        assertThat(ReferenceIdentity.isValidSniHostName(host)).isEqualTo(valid);
    }
}
