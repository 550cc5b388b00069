package dev.optls.core.smtp;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every SMTP transcript replayed whole and split at every byte, as client or server. */
class SmtpTranscriptTest {

    static Stream<String> clientTranscripts() {
        return Transcript.names("/transcripts/smtp", "client-");
    }

    static Stream<String> serverTranscripts() {
        return Transcript.names("/transcripts/smtp", "server-");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTranscripts")
    void client(String name) {
        Transcript t = Transcript.load("/transcripts/smtp/" + name);
        Protocol protocol =
                Protocol.valueOf(t.options().getOrDefault("protocol", "smtp").toUpperCase(Locale.ROOT));
        ClientOptions options = t.clientOptions(Limits.DEFAULT);
        Supplier<Negotiation> factory = () -> new SmtpClient(protocol, options);

        Replay.Run run = Replay.everySplit(factory, t, true);

        Replay.assertMatches(t, run, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverTranscripts")
    void server(String name) {
        Transcript t = Transcript.load("/transcripts/smtp/" + name);
        Protocol protocol =
                Protocol.valueOf(t.options().getOrDefault("protocol", "smtp").toUpperCase(Locale.ROOT));
        ServerOptions base = ServerOptions.offering("mx.test", Capabilities.of("PIPELINING", "AUTH PLAIN LOGIN"))
                .withTlsCapabilities(Capabilities.of("PIPELINING", "AUTH PLAIN SCRAM-SHA-256"))
                .withTlsRequired(Boolean.parseBoolean(t.options().getOrDefault("required", "false")))
                .withLimits(t.limits(256, 1024));
        ServerOptions options = switch (t.options().getOrDefault("mode", "plain")) {
            case "after-upgrade" -> base.afterUpgrade();
            case "no-tls" ->
                new ServerOptions(
                        base.hostname(),
                        base.greeting(),
                        base.plaintextCapabilities(),
                        base.tlsCapabilities(),
                        false,
                        false,
                        false,
                        true,
                        base.limits());
            default -> base;
        };
        Supplier<Negotiation> factory = () -> new SmtpServer(protocol, options);

        Replay.Run run = Replay.everySplit(factory, t, false);

        Replay.assertMatches(t, run, false);
    }
}
