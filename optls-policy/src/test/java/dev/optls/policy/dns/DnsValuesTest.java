package dev.optls.policy.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DNS value types: names, limits, trust anchors and the invariants of each answer kind. */
class DnsValuesTest {

    @Test
    void namesAreLowerCasedWithoutTrailingDot() {
        assertThat(DnsNames.normalize("MX.Example.COM.")).isEqualTo("mx.example.com");
        assertThat(DnsNames.normalize(".")).isEmpty();
        assertThat(DnsNames.normalize("_25._tcp.mx.example.com")).isEqualTo("_25._tcp.mx.example.com");
    }

    @Test
    void overlongOrBrokenNamesAreRefused() {
        assertThatThrownBy(() -> DnsNames.normalize("a".repeat(64) + ".example"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("label");
        assertThatThrownBy(() -> DnsNames.normalize("a..example")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DnsNames.normalize(("abcdefghi.").repeat(26)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("253");
        assertThatThrownBy(() -> DnsNames.normalize("bücher.example"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("A-labels");
        assertThatThrownBy(() -> DnsNames.normalize("mx example")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mxRecordsNormaliseAndKnowTheNullMx() {
        assertThat(new MxRecord(10, "MX.Example.com.").exchange()).isEqualTo("mx.example.com");
        assertThat(new MxRecord(0, ".").isNullMx()).isTrue();
        assertThatThrownBy(() -> new MxRecord(65536, "mx.example.com")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void configLimitsAreBounded() {
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", 53);
        DnsConfig config = DnsConfig.of(server);

        assertThat(config.timeout()).isEqualTo(DnsConfig.DEFAULT_TIMEOUT);
        assertThat(config.maxRecords()).isEqualTo(DnsConfig.DEFAULT_MAX_RECORDS);
        assertThat(config.maxCnameChain()).isEqualTo(DnsConfig.DEFAULT_MAX_CNAME_CHAIN);
        assertThatThrownBy(() -> DnsConfig.of()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withTimeout(Duration.ofHours(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withMaxRecords(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withMaxCnameChain(33)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bundledRootAnchorsAreTheTwoRootKsks() {
        TrustAnchors root = TrustAnchors.root();

        assertThat(root.owners()).containsExactly("", "");
        assertThat(root.text()).contains("DS 20326 8 2 E06D44B8").contains("DS 38696 8 2 683D2D0A");
    }

    @Test
    void anchorsMustBeDsOrDnskeyRecords() {
        assertThatThrownBy(() -> TrustAnchors.parse("example. IN A 192.0.2.1\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DS or DNSKEY");
        assertThatThrownBy(() -> TrustAnchors.parse("; only a comment\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no DS or DNSKEY");
        assertThatThrownBy(() -> TrustAnchors.parse(". IN DS not-a-number\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("do not parse");
        assertThatThrownBy(() -> TrustAnchors.parse("$INCLUDE /etc/hostname\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("do not parse");
        assertThatThrownBy(() -> TrustAnchors.parse(" ".repeat(TrustAnchors.MAX_TEXT_LENGTH + 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anchorsReadFromAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("test.ds");
        Files.writeString(
                file,
                "test. IN DS 12345 13 2 F32122C7F1CBD3AE59DFB41063D26ED46DEAC9E9FB81D433860559416725A2F5\n",
                StandardCharsets.US_ASCII);

        assertThat(TrustAnchors.fromFile(file).owners()).containsExactly("test");
    }

    @Test
    void answersKeepTheirInvariants() {
        DnsAnswer<String> nodata =
                new DnsAnswer.NoData<>("a.example", RecordType.TXT, List.of("b.example"), DnssecStatus.SECURE);

        assertThat(nodata.canonicalName()).isEqualTo("b.example");
        assertThat(nodata.records()).isEmpty();
        assertThatThrownBy(
                        () -> new DnsAnswer.Records<>("a", RecordType.TXT, List.of(), DnssecStatus.SECURE, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DnsAnswer.NxDomain<>("a", RecordType.TXT, List.of(), DnssecStatus.BOGUS))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DnsAnswer.Failed<>(
                        "a", RecordType.TXT, List.of(), DnssecStatus.SECURE, LookupFailure.SERVFAIL, "x"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void statusWeakestOrdersSecureInsecureBogusIndeterminate() {
        assertThat(DnssecStatus.SECURE.weakest(DnssecStatus.INSECURE)).isEqualTo(DnssecStatus.INSECURE);
        assertThat(DnssecStatus.INSECURE.weakest(DnssecStatus.SECURE)).isEqualTo(DnssecStatus.INSECURE);
        assertThat(DnssecStatus.SECURE.weakest(DnssecStatus.SECURE)).isEqualTo(DnssecStatus.SECURE);
    }

    @Test
    void recordDataIsCopiedAndComparedByBytes() {
        byte[] wire = {3, 1, 1};
        RecordData data = RecordData.of(wire, "3 1 1");
        wire[0] = 0;

        assertThat(data.wire()).containsExactly(3, 1, 1);
        assertThat(data).isEqualTo(RecordData.of(new byte[] {3, 1, 1}, "other text"));
        assertThat(data.length()).isEqualTo(3);
    }
}
