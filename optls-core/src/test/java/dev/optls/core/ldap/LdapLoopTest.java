package dev.optls.core.ldap;

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

/** LdapClient against LdapServer in memory at every level, with the handshake faked on both sides. */
class LdapLoopTest {
    private static final ServerOptions OFFERING = ServerOptions.offering("ldap.example", Capabilities.NONE);
    private static final ServerOptions WITHOUT_TLS = ServerOptions.withoutTls("ldap.example", Capabilities.NONE);

    private static Loop.Ends run(SecurityLevel level, ServerOptions options) {
        return Loop.run(
                new LdapClient(ClientOptions.of(level)),
                new LdapServer(options),
                () -> new LdapServer(options.afterUpgrade()),
                verb -> {
                    throw new AssertionError("the client sends no request the server delivers, got " + verb);
                });
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAgainstOurServer(SecurityLevel level) {
        Loop.Ends ends = run(level, OFFERING);
        Result r = ((Step.Completed) ends.client()).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(r.tlsActive()).isTrue();
        // A fresh server built from afterUpgrade() waits for the Bind over TLS.
        assertThat(ends.server()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void levelNoneStaysInPlaintext() {
        Loop.Ends ends = run(SecurityLevel.NONE, OFFERING);
        assertThat(((Step.Completed) ends.client()).result().ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(ends.server()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void mayFallsBackAgainstAServerWithoutTls() {
        Loop.Ends ends = run(SecurityLevel.MAY, WITHOUT_TLS);
        var u = (Step.UpgradeUnavailable) ends.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        // The session is usable: the server waits for the next request in plaintext.
        assertThat(ends.server()).isEqualTo(Step.NEED_INPUT);
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsUnbindAgainstAServerWithoutTls(SecurityLevel level) {
        Loop.Ends ends = run(level, WITHOUT_TLS);
        var f = ((Step.Failed) ends.client()).failure();
        assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(f.blame()).isEqualTo(Blame.POLICY);
        // The Unbind reached the server, which closed the session.
        assertThat(((Step.Completed) ends.server()).result().ending()).isEqualTo(Result.Ending.CLOSED);
    }
}
