package dev.optls.core.sieve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Blame;
import dev.optls.core.ClientOptions;
import dev.optls.core.Command;
import dev.optls.core.FailureKind;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Loop;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Our ManageSieve client against our server, in memory, at every level. */
class SieveLoopTest {
    private static final ServerOptions OFFERING = ServerOptions.offering("sieve.test", SieveTranscriptTest.PLAIN)
            .withTlsCapabilities(SieveTranscriptTest.TLS);

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAndReadsTheCapabilitiesReissuedOverTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new SieveClient(ClientOptions.of(level)),
                new SieveServer(OFFERING),
                () -> new SieveServer(OFFERING.afterUpgrade()),
                verb -> "OK");

        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(result.tlsActive()).isTrue();
        assertThat(result.greeting()).isEqualTo("ready");
        assertThat(result.before().entries())
                .containsExactly(
                        "IMPLEMENTATION optls", "SASL PLAIN", "SIEVE fileinto vacation", "VERSION 1.0", "STARTTLS");
        // RFC 5804 §2.2: the post-TLS view comes only from the list the fresh server re-issued unasked.
        assertThat(result.after()).isEqualTo(SieveTranscriptTest.TLS);
        assertThat(ends.server()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void levelNoneStaysInPlaintext() {
        Loop.Ends ends = Loop.run(
                new SieveClient(ClientOptions.of(SecurityLevel.NONE)), new SieveServer(OFFERING), null, v -> "OK");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(result.before().has("STARTTLS")).isTrue();
        assertThat(result.after()).isEqualTo(dev.optls.core.Capabilities.NONE);
    }

    @Test
    void mayFallsBackAgainstAServerWithoutTls() {
        Loop.Ends ends = Loop.run(
                new SieveClient(ClientOptions.of(SecurityLevel.MAY)),
                new SieveServer(ServerOptions.withoutTls("sieve.test", SieveTranscriptTest.PLAIN)),
                null,
                v -> "OK");
        Step.UpgradeUnavailable u = (Step.UpgradeUnavailable) ends.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(u.plaintext().before()).isEqualTo(SieveTranscriptTest.PLAIN);
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsLogOutAgainstAServerWithoutTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new SieveClient(ClientOptions.of(level)),
                new SieveServer(ServerOptions.withoutTls("sieve.test", SieveTranscriptTest.PLAIN)),
                null,
                v -> "OK");
        Step.Failed failed = (Step.Failed) ends.client();
        assertThat(failed.failure().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(failed.failure().blame()).isEqualTo(Blame.POLICY);
        assertThat(failed.observed())
                .get()
                .satisfies(r -> assertThat(r.before()).isEqualTo(SieveTranscriptTest.PLAIN));
        // The client's LOGOUT reached the server, which closed the session.
        assertThat(((Step.Completed) ends.server()).result().ending()).isEqualTo(Result.Ending.CLOSED);
    }

    @Test
    void requiredTlsServerHidesSaslMechanismsUntilTls() {
        ServerOptions required = OFFERING.withTlsRequired(true);
        Loop.Ends ends = Loop.run(
                new SieveClient(ClientOptions.of(SecurityLevel.VERIFY)),
                new SieveServer(required),
                () -> new SieveServer(required.afterUpgrade()),
                v -> "OK");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.before().find("SASL")).hasValue("SASL");
        assertThat(result.after().find("SASL")).hasValue("SASL PLAIN SCRAM-SHA-256");
    }

    @Test
    void deliveredCommandsCarryTheirLiteralsWhole() {
        SieveServer server = new SieveServer(OFFERING.afterUpgrade());
        drain(server);
        String script = "require \"fileinto\";\r\nfileinto \"x\";\r\n";
        byte[] bytes = script.getBytes(StandardCharsets.UTF_8);
        server.receive(ByteBuffer.wrap(
                ("PUTSCRIPT \"main\" {" + bytes.length + "+}\r\n" + script + "\r\n").getBytes(StandardCharsets.UTF_8)));
        Command c = ((Step.Deliver) server.poll()).command();
        assertThat(c.verb()).isEqualTo("PUTSCRIPT");
        assertThat(c.tlsActive()).isTrue();
        assertThat(SieveStrings.arguments(c.arguments())).hasValue(List.of("main", script));
        server.respond("OK");
        assertThat(drain(server)).isEqualTo("OK\r\n");
    }

    @Test
    void multiLineRepliesPassAndSaslChallengesAreRefused() {
        SieveServer server = new SieveServer(OFFERING.afterUpgrade());
        drain(server);
        server.receive(ByteBuffer.wrap("LISTSCRIPTS\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThat(server.poll()).isInstanceOf(Step.Deliver.class);
        server.respond("\"main\" ACTIVE\r\n\"other\"\r\nOK \"Listscripts completed.\"\r\n");
        assertThat(drain(server)).isEqualTo("\"main\" ACTIVE\r\n\"other\"\r\nOK \"Listscripts completed.\"\r\n");

        server.receive(ByteBuffer.wrap("AUTHENTICATE \"SCRAM-SHA-256\"\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThat(server.poll()).isInstanceOf(Step.Deliver.class);
        assertThatThrownBy(() -> server.respond("\"cj1ub25jZQ==\""))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("handOver()");
        assertThat(server.poll()).isInstanceOf(Step.Failed.class);
    }

    @Test
    void quoteMakesLiteralsOfMultiLineText() {
        assertThat(SieveStrings.quote("a \"b\" \\c")).isEqualTo("\"a \\\"b\\\" \\\\c\"");
        assertThat(SieveStrings.quote("é\r\n")).isEqualTo("{4}\r\né\r\n");
        assertThat(SieveStrings.arguments("\"a\" {3+}\r\nb\"c 42")).hasValue(List.of("a", "b\"c", "42"));
        assertThat(SieveStrings.arguments("\"unterminated")).isEmpty();
        assertThat(SieveStrings.arguments("(nested)")).isEmpty();
    }

    private static String drain(SieveServer server) {
        StringBuilder out = new StringBuilder();
        while (server.poll() instanceof Step.WriteOutput) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            server.drainOutput(buf);
            out.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
        }
        return out.toString();
    }
}
