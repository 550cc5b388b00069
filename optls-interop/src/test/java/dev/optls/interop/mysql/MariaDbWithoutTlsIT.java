package dev.optls.interop.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.FailureKind;
import dev.optls.core.SecurityLevel;
import dev.optls.testkit.TestPki;
import dev.optls.tls.blocking.ClientSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** optls's client against a real MariaDB started with {@code --skip-ssl}: required levels fail closed, MAY continues. */
class MariaDbWithoutTlsIT {
    private static TestPki pki;
    private static MariaDbServer server;
    private static String version;

    @BeforeAll
    static void start() {
        pki = TestPki.create();
        server = MariaDbServer.start(MariaDbServer.Tls.NONE, null, null);
        version = MariaDbServer.version();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsFailClosed(SecurityLevel level) {
        ClientSession session = OurClient.connect(level, pki, server.port());
        String why = version + " at " + level + ": " + session;
        assertThat(session.status()).as(why).isEqualTo(ClientSession.Status.FAILED);
        assertThat(session.socket()).as(why).isEmpty();
        var failure = session.failure().orElseThrow();
        assertThat(failure.kind()).as(why).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(failure.blame()).as(why).isEqualTo(Blame.POLICY);
        // For reports: the greeting seen in plaintext.
        assertThat(session.result().orElseThrow().before().has("CLIENT_SSL"))
                .as(why)
                .isFalse();
        assertThat(session.result().orElseThrow().greeting()).as(why).contains("MariaDB");
    }

    @Test
    void mayContinuesInPlaintextAtACleanBoundary() throws Exception {
        try (ClientSession session = OurClient.connect(SecurityLevel.MAY, pki, server.port())) {
            String why = version + ": " + session;
            assertThat(session.status()).as(why).isEqualTo(ClientSession.Status.PLAINTEXT);
            assertThat(session.failure().orElseThrow().kind()).as(why).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            // The connection is right after the greeting: a plaintext login (sequence 1) works.
            MysqlWire.Packet answer = OurClient.login(session, MariaDbServer.USER, MariaDbServer.PASSWORD);
            assertThat(answer.isOk())
                    .as(why + ": " + (answer.isErr() ? answer.errText() : ""))
                    .isTrue();
            assertThat(answer.sequence()).isEqualTo(2);
        }
    }
}
