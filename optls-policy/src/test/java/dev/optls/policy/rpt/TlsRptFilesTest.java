package dev.optls.policy.rpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** Report file names (RFC 8460 §5.1) and gzip (§5.3). */
class TlsRptFilesTest {

    @Test
    void fileNameAsInTheRfc() {
        // RFC 8460 §5.1 example: mail.sender.example!recipient.example!1470013207!1470099607!001.json.gz
        assertThat(TlsRptFiles.fileName(
                        "mail.sender.example",
                        "recipient.example",
                        Instant.ofEpochSecond(1470013207),
                        Instant.ofEpochSecond(1470099607),
                        "001"))
                .isEqualTo("mail.sender.example!recipient.example!1470013207!1470099607!001.json.gz");
        assertThat(TlsRptFiles.fileName("s.example", TlsRptJsonTest.rfcExampleReport(), null))
                .isEqualTo("s.example!company-y.example!1459468800!1459555199.json.gz");
    }

    @Test
    void fileNamePartsCannotBreakTheFormat() {
        assertThatThrownBy(() -> TlsRptFiles.fileName("a!b", "x.example", Instant.EPOCH, Instant.EPOCH, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'!'");
        assertThatThrownBy(() -> TlsRptFiles.fileName("a", "x.example", Instant.EPOCH, Instant.EPOCH, "../x"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void gzipOfTheReportInflatesBackAndIsBounded() {
        byte[] json = TlsRptJson.toBytes(TlsRptJsonTest.rfcExampleReport());
        byte[] gz = TlsRptFiles.gzip(json);
        assertThat(gz[0] & 0xff).isEqualTo(0x1f);
        assertThat(gz[1] & 0xff).isEqualTo(0x8b);
        assertThat(TlsRptFiles.gunzip(gz, json.length)).hasValue(json);
        assertThat(TlsRptFiles.gunzip(gz, json.length - 1)).isEmpty();
        assertThat(TlsRptFiles.gunzip("not gzip".getBytes(StandardCharsets.US_ASCII), 100))
                .isEmpty();
    }

    @Property(tries = 100)
    void gzipRoundTrips(@ForAll byte[] bytes) {
        assertThat(TlsRptFiles.gunzip(TlsRptFiles.gzip(bytes), bytes.length)).hasValue(bytes);
    }
}
