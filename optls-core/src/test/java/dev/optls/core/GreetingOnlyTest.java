package dev.optls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ClientOptions#greetingOnly()}: the client reads the greeting and completes without sending a byte,
 * so that a relay's own client (after STARTTLS) asks for the capabilities first.
 */
class GreetingOnlyTest {

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "SMTP       | 220 mx.example.test ESMTP ready\\r\\n                 | mx.example.test ESMTP ready",
                "SUBMISSION | 220-msa.example.test first\\r\\n220 second\\r\\n      | msa.example.test first",
                "LMTP       | 220 lmtp.example.test LMTP\\r\\n                      | lmtp.example.test LMTP",
                "IMAP       | * OK [CAPABILITY IMAP4rev1 STARTTLS] ready\\r\\n       | ready",
                "POP3       | +OK POP3 ready\\r\\n                                    | POP3 ready",
                "NNTP       | 200 news.example.test ready\\r\\n                       | 200 news.example.test ready",
                "FTP        | 220-Welcome\\r\\n220 ftp.example.test ready\\r\\n    | Welcome",
            })
    void completesOnTheGreetingAndWritesNothing(Protocol protocol, String greeting, String reported) {
        Negotiation n =
                Dialects.client(protocol, ClientOptions.of(SecurityLevel.NONE).withGreetingOnly());
        assertThat(n.poll()).isInstanceOf(Step.NeedInput.class);

        n.receive(ByteBuffer.wrap(greeting.replace("\\r\\n", "\r\n").getBytes(StandardCharsets.US_ASCII)));
        Step step = n.poll();

        assertThat(step).isInstanceOf(Step.Completed.class);
        Result result = ((Step.Completed) step).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(result.tlsActive()).isFalse();
        assertThat(result.greeting()).contains(reported);
        assertThat(n.drainOutput(ByteBuffer.allocate(1024)))
                .as("no capability query")
                .isZero();
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "SMTP | 554 no service here\\r\\n",
                "IMAP | * BYE go away\\r\\n",
                "POP3 | -ERR busy\\r\\n",
                "NNTP | 502 no service\\r\\n",
                "FTP  | 421 too many users\\r\\n",
            })
    void aRefusingGreetingStillFails(Protocol protocol, String greeting) {
        Negotiation n =
                Dialects.client(protocol, ClientOptions.of(SecurityLevel.NONE).withGreetingOnly());
        n.poll();
        n.receive(ByteBuffer.wrap(greeting.replace("\\r\\n", "\r\n").getBytes(StandardCharsets.US_ASCII)));
        Step step = n.poll();
        while (step instanceof Step.WriteOutput) {
            n.drainOutput(ByteBuffer.allocate(1024)); // SMTP answers 554 with QUIT (RFC 5321 §3.1)
            step = n.poll();
        }
        assertThat(step).isInstanceOf(Step.Failed.class);
        assertThat(((Step.Failed) step).failure().kind()).isEqualTo(FailureKind.SERVICE_UNAVAILABLE);
    }

    @ParameterizedTest
    @EnumSource(
            value = Protocol.class,
            names = {"SIEVE", "POSTGRES", "LDAP", "MYSQL", "IRC", "XMPP", "XMPP_SERVER"})
    void protocolsWithoutAGreetingReplyRefuseIt(Protocol protocol) {
        ClientOptions options = ClientOptions.of(SecurityLevel.NONE).withGreetingOnly();
        assertThatThrownBy(() -> Dialects.client(protocol, options))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("greets first");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void onlyAtLevelNone(SecurityLevel level) {
        assertThatThrownBy(() -> ClientOptions.of(level).withGreetingOnly())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("level NONE");
        assertThatThrownBy(() -> ClientOptions.of(SecurityLevel.NONE)
                        .withImplicitTls(true)
                        .withGreetingOnly())
                .isInstanceOf(IllegalArgumentException.class);
    }
}
