package dev.optls.core.sieve;

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

/** Every ManageSieve transcript replayed whole and split at every byte, as client or server. */
class SieveTranscriptTest {
    static final Capabilities PLAIN =
            Capabilities.of("IMPLEMENTATION optls", "SASL PLAIN", "SIEVE fileinto vacation", "VERSION 1.0");
    static final Capabilities TLS = Capabilities.of(
            "IMPLEMENTATION optls", "SASL PLAIN SCRAM-SHA-256", "SIEVE fileinto vacation", "VERSION 1.0");

    static Stream<String> clientTranscripts() {
        return Transcript.names("/transcripts/sieve", "client-");
    }

    static Stream<String> serverTranscripts() {
        return Transcript.names("/transcripts/sieve", "server-");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTranscripts")
    void client(String name) {
        Transcript t = Transcript.load("/transcripts/sieve/" + name);
        ClientOptions options = t.clientOptions(t.limits(256, 16384));
        Supplier<Negotiation> factory = () -> new SieveClient(options);

        Replay.Run run = Replay.everySplit(factory, t, true);

        Replay.assertMatches(t, run, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverTranscripts")
    void server(String name) {
        Transcript t = Transcript.load("/transcripts/sieve/" + name);
        ServerOptions base = ServerOptions.offering("sieve.test", PLAIN)
                .withTlsCapabilities(TLS)
                .withTlsRequired(Boolean.parseBoolean(t.options().getOrDefault("required", "false")))
                .withLimits(t.limits(256, 1024));
        ServerOptions options = switch (t.options().getOrDefault("mode", "plain")) {
            case "after-upgrade" -> base.afterUpgrade();
            case "no-tls" -> ServerOptions.withoutTls("sieve.test", PLAIN).withLimits(base.limits());
            default -> base;
        };
        Supplier<Negotiation> factory = () -> new SieveServer(options);

        Replay.Run run = Replay.everySplit(factory, t, false);

        Replay.assertMatches(t, run, false);
    }
}
