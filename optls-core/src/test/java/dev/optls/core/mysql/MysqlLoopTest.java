package dev.optls.core.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
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

/** Our MySQL client against our MySQL server, in memory, at every level. */
class MysqlLoopTest {
    private static final ServerOptions OFFERING =
            ServerOptions.offering("db.test", Capabilities.NONE).withGreeting("8.0.36-optls");
    private static final ServerOptions WITHOUT_TLS =
            ServerOptions.withoutTls("db.test", Capabilities.NONE).withGreeting("8.0.36-optls");

    private static Loop.Ends loop(SecurityLevel level, ServerOptions options) {
        return Loop.run(
                new MysqlClient(ClientOptions.of(level)),
                new MysqlServer(options),
                () -> new MysqlServer(options.afterUpgrade()),
                verb -> {
                    throw new AssertionError("nothing is delivered during the upgrade: " + verb);
                });
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAgainstOurServer(SecurityLevel level) {
        Loop.Ends ends = loop(level, OFFERING);
        Result r = ((Step.Completed) ends.client()).result();
        assertThat(r.protocol()).isEqualTo(Protocol.MYSQL);
        assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(r.greeting()).isEqualTo("8.0.36-optls");
        assertThat(r.before().has("CLIENT_SSL")).isTrue();
        assertThat(MysqlGreeting.authPluginData(r.before()))
                .hasValueSatisfying(s -> assertThat(s).hasSize(20));
        // The fresh server after the upgrade sent no greeting and waits for the HandshakeResponse41.
        assertThat(ends.server()).isInstanceOf(Step.NeedInput.class);
    }

    @Test
    void levelNoneStaysInPlaintext() {
        Loop.Ends ends = loop(SecurityLevel.NONE, OFFERING);
        Result r = ((Step.Completed) ends.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(ends.server()).isInstanceOf(Step.NeedInput.class);
    }

    @Test
    void mayFallsBackAgainstAServerWithoutTls() {
        Loop.Ends ends = loop(SecurityLevel.MAY, WITHOUT_TLS);
        var u = (Step.UpgradeUnavailable) ends.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(u.plaintext().before().has("CLIENT_SSL")).isFalse();
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsFailClosedAgainstAServerWithoutTls(SecurityLevel level) {
        Loop.Ends ends = loop(level, WITHOUT_TLS);
        var f = ((Step.Failed) ends.client()).failure();
        assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(f.blame()).isEqualTo(Blame.POLICY);
        // Nothing was sent: the server still waits for the client's first packet.
        assertThat(ends.server()).isInstanceOf(Step.NeedInput.class);
    }

    @Test
    void requiredTlsServerUpgradesOurClient() {
        Loop.Ends ends = loop(SecurityLevel.MAY, OFFERING.withTlsRequired(true));
        assertThat(((Step.Completed) ends.client()).result().ending()).isEqualTo(Result.Ending.UPGRADED);
    }
}
