package dev.optls.core.nntp;

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

/** Every NNTP transcript replayed whole and split at every byte, as client or server. */
class NntpTranscriptTest {
    static final Capabilities PLAIN = Capabilities.of("READER", "AUTHINFO USER");
    static final Capabilities TLS = Capabilities.of("READER", "AUTHINFO USER");

    static Stream<String> clientTranscripts() {
        return Transcript.names("/transcripts/nntp", "client-");
    }

    static Stream<String> serverTranscripts() {
        return Transcript.names("/transcripts/nntp", "server-");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTranscripts")
    void client(String name) {
        Transcript t = Transcript.load("/transcripts/nntp/" + name);
        ClientOptions options = t.clientOptions(t.limits(256, 16384));
        Supplier<Negotiation> factory = () -> new NntpClient(options);

        Replay.Run run = Replay.everySplit(factory, t, true);

        Replay.assertMatches(t, run, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverTranscripts")
    void server(String name) {
        Transcript t = Transcript.load("/transcripts/nntp/" + name);
        ServerOptions base = ServerOptions.offering("nntp.test", PLAIN)
                .withTlsCapabilities(TLS)
                .withTlsRequired(Boolean.parseBoolean(t.options().getOrDefault("required", "false")))
                .withLimits(t.limits(256, 1024));
        ServerOptions options = switch (t.options().getOrDefault("mode", "plain")) {
            case "after-upgrade" -> base.afterUpgrade();
            case "no-tls" -> ServerOptions.withoutTls("nntp.test", PLAIN).withLimits(base.limits());
            default -> base;
        };
        Supplier<Negotiation> factory = () -> new NntpServer(options);

        Replay.Run run = Replay.everySplit(factory, t, false);

        Replay.assertMatches(t, run, false);
    }
}
