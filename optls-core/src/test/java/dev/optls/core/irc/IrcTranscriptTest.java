package dev.optls.core.irc;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Negotiation;
import dev.optls.core.ServerOptions;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every IRC transcript replayed whole and split at every byte, as client or server. */
class IrcTranscriptTest {
    static final Capabilities PLAIN = Capabilities.of("multi-prefix", "sasl");

    static Stream<String> clientTranscripts() {
        return Transcript.names("/transcripts/irc", "client-");
    }

    static Stream<String> serverTranscripts() {
        return Transcript.names("/transcripts/irc", "server-");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTranscripts")
    void client(String name) {
        Transcript t = Transcript.load("/transcripts/irc/" + name);
        ClientOptions options = t.clientOptions();
        Supplier<Negotiation> factory = () -> new IrcClient(options);

        Replay.Run run = Replay.everySplit(factory, t, true);

        Replay.assertMatches(t, run, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverTranscripts")
    void server(String name) {
        Transcript t = Transcript.load("/transcripts/irc/" + name);
        ServerOptions base = ServerOptions.offering("irc.test", PLAIN)
                .withTlsRequired(Boolean.parseBoolean(t.options().getOrDefault("required", "false")))
                .withLimits(t.limits(256, 1024));
        ServerOptions options = switch (t.options().getOrDefault("mode", "plain")) {
            case "after-upgrade" -> base.afterUpgrade();
            case "no-tls" -> ServerOptions.withoutTls("irc.test", PLAIN).withLimits(base.limits());
            default -> base;
        };
        Supplier<Negotiation> factory = () -> new IrcServer(options);

        Replay.Run run = Replay.everySplit(factory, t, false);

        Replay.assertMatches(t, run, false);
    }
}
