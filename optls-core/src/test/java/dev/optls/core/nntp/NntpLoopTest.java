package dev.optls.core.nntp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
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

/** Our NNTP client against our server, in memory, at every level. */
class NntpLoopTest {
    private static final Capabilities PLAIN = Capabilities.of("READER", "LIST ACTIVE NEWSGROUPS");
    private static final Capabilities TLS = Capabilities.of("READER", "LIST ACTIVE NEWSGROUPS", "AUTHINFO USER");
    private static final ServerOptions OFFERING =
            ServerOptions.offering("nntp.test", PLAIN).withTlsCapabilities(TLS);

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAndReadsTheCapabilitiesAgainOverTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new NntpClient(ClientOptions.of(level)),
                new NntpServer(OFFERING),
                () -> new NntpServer(OFFERING.afterUpgrade()),
                verb -> "502 not in test");

        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(result.tlsActive()).isTrue();
        assertThat(result.greeting()).isEqualTo("200 nntp.test ready");
        assertThat(result.before().entries())
                .containsExactly("VERSION 2", "READER", "LIST ACTIVE NEWSGROUPS", "STARTTLS");
        // RFC 4642 §2.2.2: the post-TLS view comes only from the CAPABILITIES re-issued over TLS.
        assertThat(result.after().entries())
                .containsExactly("VERSION 2", "READER", "LIST ACTIVE NEWSGROUPS", "AUTHINFO USER");
        assertThat(ends.server()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void levelNoneStaysInPlaintext() {
        Loop.Ends ends = Loop.run(
                new NntpClient(ClientOptions.of(SecurityLevel.NONE)), new NntpServer(OFFERING), null, v -> "500 x");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(result.before().has("starttls")).isTrue();
        assertThat(result.after()).isEqualTo(Capabilities.NONE);
    }

    @Test
    void mayFallsBackAgainstAServerWithoutTls() {
        Loop.Ends ends = Loop.run(
                new NntpClient(ClientOptions.of(SecurityLevel.MAY)),
                new NntpServer(ServerOptions.withoutTls("nntp.test", PLAIN)),
                null,
                v -> "500 x");
        Step.UpgradeUnavailable u = (Step.UpgradeUnavailable) ends.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(u.plaintext().before().entries()).containsExactly("VERSION 2", "READER", "LIST ACTIVE NEWSGROUPS");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsQuitAgainstAServerWithoutTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new NntpClient(ClientOptions.of(level)),
                new NntpServer(ServerOptions.withoutTls("nntp.test", PLAIN)),
                null,
                v -> "500 x");
        Step.Failed failed = (Step.Failed) ends.client();
        assertThat(failed.failure().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(failed.failure().blame()).isEqualTo(Blame.POLICY);
        // The client said QUIT; our server answered 205 and closed.
        assertThat(((Step.Completed) ends.server()).result().ending()).isEqualTo(Result.Ending.CLOSED);
    }

    @Test
    void implicitTlsReadsCapabilitiesOnly() {
        Loop.Ends ends = Loop.run(
                new NntpClient(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true)),
                new NntpServer(OFFERING.implicitTls()),
                null,
                v -> "500 x");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        assertThat(result.after().has("STARTTLS")).isFalse();
        assertThat(result.after().has("AUTHINFO")).isTrue();
    }
}
