package dev.optls.core.ftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import java.util.List;
import org.junit.jupiter.api.Test;

class FtpReplyReaderTest {
    private final FtpReplyReader reader = new FtpReplyReader(Limits.DEFAULT);

    @Test
    void rfc959MultiLineExampleKeepsFreeTextMiddleLines() {
        // RFC 959 §4.2: the example multi-line reply, with a middle line that starts with another code.
        assertThat(reader.accept("123-First line")).isNull();
        assertThat(reader.accept("Second line")).isNull();
        assertThat(reader.accept("  234 A line beginning with numbers")).isNull();
        assertThat(reader.accept("123-still not the end")).isNull();
        assertThat(reader.inProgress()).isTrue();
        FtpReply reply = reader.accept("123 The last line");
        assertThat(reply.code()).isEqualTo(123);
        assertThat(reply.lines())
                .containsExactly(
                        "First line",
                        "Second line",
                        "  234 A line beginning with numbers",
                        "123-still not the end",
                        "The last line");
        assertThat(reply.preliminary()).isTrue();
        assertThat(reader.inProgress()).isFalse();
    }

    @Test
    void singleLineAndBareCode() {
        assertThat(reader.accept("234 Proceed with negotiation.").summary()).isEqualTo("234 Proceed with negotiation.");
        FtpReply bare = reader.accept("200");
        assertThat(bare.code()).isEqualTo(200);
        assertThat(bare.text()).isEmpty();
        assertThat(reader.accept("431 later").temporary()).isTrue();
    }

    @Test
    void rejectsLinesThatAreNotReplies() {
        for (String line : List.of("", "23", "2345", "634 x", "abc def", "22a x")) {
            assertThatThrownBy(() -> new FtpReplyReader(Limits.DEFAULT).accept(line))
                    .as(line)
                    .isInstanceOf(FtpReplyReader.MalformedReplyException.class);
        }
    }

    @Test
    void boundedByMaxReplyLines() {
        FtpReplyReader small = new FtpReplyReader(new Limits(4096, 3, 65536, 1024, 20));
        small.accept("211-a");
        small.accept(" b");
        small.accept(" c");
        assertThatThrownBy(() -> small.accept(" d"))
                .isInstanceOfSatisfying(
                        FtpReplyReader.MalformedReplyException.class,
                        e -> assertThat(e.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
    }

    @Test
    void featuresAreTheMiddleLinesAndAuthTlsIsFoundInCombinedEntries() {
        FtpReply feat = new FtpReply(211, List.of("Features:", " AUTH TLS;SSL", " PBSZ", " PROT", "End"));
        Capabilities caps = FtpClient.features(feat);
        assertThat(caps.entries()).containsExactly("AUTH TLS;SSL", "PBSZ", "PROT");
        assertThat(FtpClient.offersAuthTls(caps)).isTrue();
        assertThat(FtpClient.offersAuthTls(Capabilities.of("AUTH SSL", "PBSZ"))).isFalse();
        assertThat(FtpClient.features(new FtpReply(500, List.of("unknown")))).isEqualTo(Capabilities.NONE);
    }
}
