package dev.optls.core.irc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Loop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Our IRC client against our server, in memory, at every level. */
class IrcLoopTest {
    private static final ServerOptions OFFERING = ServerOptions.offering("irc.test", IrcTranscriptTest.PLAIN)
            .withTlsCapabilities(Capabilities.of("multi-prefix", "sasl=PLAIN,EXTERNAL"));

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAndAsksForCapabilitiesAgainOverTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new IrcClient(ClientOptions.of(level)),
                new IrcServer(OFFERING),
                () -> new IrcServer(OFFERING.afterUpgrade()),
                verb -> ":irc.test NOTICE * :unexpected " + verb);

        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(result.tlsActive()).isTrue();
        assertThat(result.before().entries()).containsExactly("multi-prefix", "sasl", "tls");
        assertThat(result.after().entries()).containsExactly("multi-prefix", "sasl=PLAIN,EXTERNAL");
        assertThat(ends.server()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void levelNoneStaysInPlaintext() {
        Loop.Ends ends =
                Loop.run(new IrcClient(ClientOptions.of(SecurityLevel.NONE)), new IrcServer(OFFERING), null, v -> "");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(result.before().entries()).contains("tls");
        assertThat(result.after()).isEqualTo(Capabilities.NONE);
    }

    @Test
    void mayFallsBackWhenTheServerHasNoTls() {
        Loop.Ends ends = Loop.run(
                new IrcClient(ClientOptions.of(SecurityLevel.MAY)),
                new IrcServer(ServerOptions.withoutTls("irc.test", IrcTranscriptTest.PLAIN)),
                null,
                v -> "");
        Step.UpgradeUnavailable u = (Step.UpgradeUnavailable) ends.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(u.plaintext().before().entries()).containsExactly("multi-prefix", "sasl");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsFailClosedWithoutTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new IrcClient(ClientOptions.of(level)),
                new IrcServer(ServerOptions.withoutTls("irc.test", IrcTranscriptTest.PLAIN)),
                null,
                v -> "");
        Step.Failed failed = (Step.Failed) ends.client();
        assertThat(failed.failure().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        // The server saw QUIT and closed the link.
        assertThat(((Step.Completed) ends.server()).result().ending()).isEqualTo(Result.Ending.CLOSED);
    }

    @Test
    void implicitTlsListsCapabilitiesOnly() {
        Loop.Ends ends = Loop.run(
                new IrcClient(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true)),
                new IrcServer(OFFERING.implicitTls()),
                null,
                v -> "");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        assertThat(result.after().entries()).containsExactly("multi-prefix", "sasl=PLAIN,EXTERNAL");
    }
}
