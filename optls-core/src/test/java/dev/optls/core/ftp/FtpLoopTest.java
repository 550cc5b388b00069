package dev.optls.core.ftp;

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

/** Our FTP client against our server, in memory, at every level. */
class FtpLoopTest {
    private static final Capabilities PLAIN = Capabilities.of("EPSV", "UTF8");
    private static final Capabilities TLS = Capabilities.of("EPSV", "UTF8", "MLST type*;size*;");
    private static final ServerOptions OFFERING =
            ServerOptions.offering("ftp.test", PLAIN).withTlsCapabilities(TLS);

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAndReadsTheFeaturesAgainOverTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new FtpClient(ClientOptions.of(level)),
                new FtpServer(OFFERING),
                () -> new FtpServer(OFFERING.afterUpgrade()),
                verb -> "502 not in test");

        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(result.tlsActive()).isTrue();
        assertThat(result.greeting()).isEqualTo("ftp.test ready");
        assertThat(result.before().entries()).containsExactly("AUTH TLS", "PBSZ", "PROT", "EPSV", "UTF8");
        // RFC 2228 §3: the post-TLS view comes only from the FEAT re-issued over TLS.
        assertThat(result.after().entries()).containsExactly("PBSZ", "PROT", "EPSV", "UTF8", "MLST type*;size*;");
        assertThat(ends.server()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void levelNoneStaysInPlaintext() {
        Loop.Ends ends = Loop.run(
                new FtpClient(ClientOptions.of(SecurityLevel.NONE)), new FtpServer(OFFERING), null, v -> "500 x");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(FtpClient.offersAuthTls(result.before())).isTrue();
        assertThat(result.after()).isEqualTo(Capabilities.NONE);
    }

    @Test
    void mayFallsBackAgainstAServerWithoutTls() {
        Loop.Ends ends = Loop.run(
                new FtpClient(ClientOptions.of(SecurityLevel.MAY)),
                new FtpServer(ServerOptions.withoutTls("ftp.test", PLAIN)),
                null,
                v -> "500 x");
        Step.UpgradeUnavailable u = (Step.UpgradeUnavailable) ends.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(u.plaintext().before().entries()).containsExactly("EPSV", "UTF8");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsTryAuthTlsThenQuitAgainstAServerWithoutTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new FtpClient(ClientOptions.of(level)),
                new FtpServer(ServerOptions.withoutTls("ftp.test", PLAIN)),
                null,
                v -> "500 x");
        Step.Failed failed = (Step.Failed) ends.client();
        assertThat(failed.failure().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(failed.failure().blame()).isEqualTo(Blame.POLICY);
        assertThat(failed.failure().detail()).contains("502 AUTH not available");
        // The client said QUIT; our server answered 221 and ended the session.
        assertThat(ends.server()).isInstanceOf(Step.Completed.class);
        assertThat(((Step.Completed) ends.server()).result().ending()).isEqualTo(Result.Ending.CLOSED);
    }

    @Test
    void implicitTlsReadsGreetingAndFeaturesOnly() {
        Loop.Ends ends = Loop.run(
                new FtpClient(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true)),
                new FtpServer(OFFERING.implicitTls()),
                null,
                v -> "500 x");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        assertThat(result.after().entries()).containsExactly("PBSZ", "PROT", "EPSV", "UTF8", "MLST type*;size*;");
    }
}
