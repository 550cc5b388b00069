package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TargetTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "smtp://mx.example.org,          SMTP,       false, smtp,        25",
        "submission://mx.example.org,    SUBMISSION, false, submission,  587",
        "lmtp://mx.example.org,          LMTP,       false, lmtp,        24",
        "imap://mx.example.org,          IMAP,       false, imap,        143",
        "pop3://mx.example.org,          POP3,       false, pop3,        110",
        "smtps://mx.example.org,         SUBMISSION, true,  submissions, 465",
        "submissions://mx.example.org,   SUBMISSION, true,  submissions, 465",
        "imaps://mx.example.org,         IMAP,       true,  imaps,       993",
        "pop3s://mx.example.org,         POP3,       true,  pop3s,       995",
        "SMTP://mx.example.org,          SMTP,       false, smtp,        25",
    })
    void schemesHaveTheirDefaultPorts(String uri, Protocol protocol, boolean implicit, String scheme, int port) {
        Target t = Target.parse(uri);

        assertThat(t.uri()).isEqualTo(uri);
        assertThat(t.protocol()).isEqualTo(protocol);
        assertThat(t.implicitTls()).isEqualTo(implicit);
        assertThat(t.scheme()).isEqualTo(scheme);
        assertThat(t.host()).isEqualTo("mx.example.org");
        assertThat(t.port()).isEqualTo(port);
    }

    @Test
    void explicitPortWins() {
        Target t = Target.parse("imaps://mail.example:10993");

        assertThat(t.port()).isEqualTo(10993);
        assertThat(t.implicitTls()).isTrue();
    }

    @Test
    void trailingSlashIsAccepted() {
        assertThat(Target.parse("smtp://mx.example.org:2525/").port()).isEqualTo(2525);
    }

    @Test
    void ipv6LiteralLosesItsBrackets() {
        Target t = Target.parse("smtp://[::1]:2525");

        assertThat(t.host()).isEqualTo("::1");
        assertThat(t.port()).isEqualTo(2525);
        assertThat(t.protocol()).isEqualTo(Protocol.SMTP);
    }

    @Test
    void ipv6LiteralWithDefaultPort() {
        Target t = Target.parse("imaps://[2001:db8::25]");

        assertThat(t.host()).isEqualTo("2001:db8::25");
        assertThat(t.port()).isEqualTo(993);
    }

    @Test
    void ftpAndImplicitFtps() {
        assertThat(Target.parse("ftp://ftp.example.org").port()).isEqualTo(21);
        Target t = Target.parse("ftps://ftp.example.org");
        assertThat(t.port()).isEqualTo(990);
        assertThat(t.implicitTls()).isTrue();
    }

    @Test
    void ipv4Literal() {
        Target t = Target.parse("pop3://127.0.0.1:1110");

        assertThat(t.host()).isEqualTo("127.0.0.1");
        assertThat(t.port()).isEqualTo(1110);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://mx.example.org", "gopher://mx.example.org:70", "smtpx://mx.example.org"})
    void unknownSchemeListsTheKnownOnes(String uri) {
        assertThatThrownBy(() -> Target.parse(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown scheme")
                .hasMessageContaining(uri)
                .hasMessageContaining("smtp, submission, lmtp, imap, pop3")
                .hasMessageContaining("smtps, submissions, imaps, pop3s")
                .hasMessageContaining("smtp://mx.example.org:25");
    }

    @Test
    void bareHostNeedsAScheme() {
        assertThatThrownBy(() -> Target.parse("mx.example.org"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown scheme")
                .hasMessageContaining("mx.example.org")
                .hasMessageContaining("smtp://");
    }

    @Test
    void missingHostSaysWhatToWrite() {
        assertThatThrownBy(() -> Target.parse("smtp://:25"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no host")
                .hasMessageContaining("smtp://host[:port]");
    }

    @Test
    void emptyAuthoritySaysWhatToWrite() {
        assertThatThrownBy(() -> Target.parse("imap://"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("imap://")
                .hasMessageContaining("host[:port]");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "smtp://mx.example.org/inbox",
                "smtp://mx.example.org:25/x",
                "imap://mx.example.org?x=1",
                "imap://user@mx.example.org",
                "pop3://user:secret@mx.example.org:110",
            })
    void pathQueryAndUserInfoAreRefused(String uri) {
        assertThatThrownBy(() -> Target.parse(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only scheme://host[:port] is supported")
                .hasMessageContaining("without user, path or query")
                .hasMessageContaining(uri);
    }

    @ParameterizedTest
    @ValueSource(strings = {"smtp://mx example.org", "smtp://[::1", "imap://"})
    void malformedUriSaysWhatToWrite(String uri) {
        assertThatThrownBy(() -> Target.parse(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a URI: " + uri)
                .hasMessageContaining("write scheme://host[:port]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"smtp://127.0.0.1:0", "smtp://127.0.0.1:65536", "imaps://[::1]:99999"})
    void portOutOfRangeIsRefused(String uri) {
        assertThatThrownBy(() -> Target.parse(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("out of range")
                .hasMessageContaining("1 to 65535");
    }

    @Test
    void highestPortIsAccepted() {
        assertThat(Target.parse("pop3s://[::1]:65535").port()).isEqualTo(65535);
    }
}
