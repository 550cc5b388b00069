package dev.optls.core.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Loop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Our SMTP client against our SMTP server, in memory, at every level. */
class SmtpLoopTest {
    private static final ServerOptions OFFERING = ServerOptions.offering(
                    "mx.test", Capabilities.of("PIPELINING", "AUTH PLAIN"))
            .withTlsCapabilities(Capabilities.of("PIPELINING", "AUTH PLAIN SCRAM-SHA-256"));

    @ParameterizedTest
    @EnumSource(
            value = Protocol.class,
            names = {"SMTP", "SUBMISSION", "LMTP"})
    void upgradesAndForgetsPlaintextCapabilities(Protocol protocol) {
        Loop.Ends ends = Loop.run(
                new SmtpClient(protocol, ClientOptions.of(SecurityLevel.VERIFY)),
                new SmtpServer(protocol, OFFERING),
                () -> new SmtpServer(protocol, OFFERING.afterUpgrade()),
                verb -> "250 ok");

        assertThat(ends.client()).isInstanceOf(Step.Completed.class);
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(result.before().entries()).containsExactly("PIPELINING", "AUTH PLAIN", "STARTTLS");
        // The client's post-TLS view comes only from the post-TLS EHLO, answered by a fresh server state.
        assertThat(result.after().has("STARTTLS")).isFalse();
        assertThat(ends.server()).isInstanceOf(Step.NeedInput.class);
    }

    @Test
    void requiredLevelFailsClosedAgainstServerWithoutTls() {
        Loop.Ends ends = Loop.run(
                new SmtpClient(Protocol.SMTP, ClientOptions.of(SecurityLevel.ENCRYPT)),
                new SmtpServer(Protocol.SMTP, ServerOptions.withoutTls("mx.test", Capabilities.of("PIPELINING"))),
                null,
                verb -> "250 ok");

        assertThat(ends.client())
                .isInstanceOfSatisfying(
                        Step.Failed.class,
                        f -> assertThat(f.failure().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED));
        // The client said QUIT and the server closed the session.
        assertThat(ends.server())
                .isInstanceOfSatisfying(
                        Step.Completed.class,
                        c -> assertThat(c.result().ending()).isEqualTo(Result.Ending.CLOSED));
    }

    @Test
    void opportunisticLevelContinuesInPlaintextWithoutTls() {
        Loop.Ends ends = Loop.run(
                new SmtpClient(Protocol.SMTP, ClientOptions.of(SecurityLevel.MAY)),
                new SmtpServer(Protocol.SMTP, ServerOptions.withoutTls("mx.test", Capabilities.of("PIPELINING"))),
                null,
                verb -> "250 ok");

        assertThat(ends.client()).isInstanceOfSatisfying(Step.UpgradeUnavailable.class, u -> {
            assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(u.plaintext().before().entries()).containsExactly("PIPELINING");
        });
    }

    @Test
    void levelNoneNeverSendsStartTls() {
        Loop.Ends ends = Loop.run(
                new SmtpClient(Protocol.SMTP, ClientOptions.of(SecurityLevel.NONE)),
                new SmtpServer(Protocol.SMTP, OFFERING),
                null,
                verb -> "250 ok");

        assertThat(ends.client())
                .isInstanceOfSatisfying(
                        Step.Completed.class,
                        c -> assertThat(c.result().ending()).isEqualTo(Result.Ending.PLAINTEXT));
        assertThat(ends.server()).isInstanceOf(Step.NeedInput.class);
    }
}
