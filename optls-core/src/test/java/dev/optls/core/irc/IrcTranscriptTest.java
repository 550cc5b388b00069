package dev.optls.core.irc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every IRC transcript replayed whole and split at every byte, as client or server. */
class IrcTranscriptTest {
    static final Capabilities PLAIN = Capabilities.of("multi-prefix", "sasl");

    static Stream<String> clientTranscripts() throws IOException, URISyntaxException {
        return names("client-");
    }

    static Stream<String> serverTranscripts() throws IOException, URISyntaxException {
        return names("server-");
    }

    private static Stream<String> names(String prefix) throws IOException, URISyntaxException {
        Path dir =
                Path.of(IrcTranscriptTest.class.getResource("/transcripts/irc").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files
                    .map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(prefix))
                    .sorted()
                    .toList()
                    .stream();
        }
    }

    private static Limits limits(Transcript t) {
        return new Limits(
                Integer.parseInt(t.options().getOrDefault("maxLineLength", "4096")),
                256,
                65536,
                1024,
                Integer.parseInt(t.options().getOrDefault("maxErrors", "20")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTranscripts")
    void client(String name) {
        Transcript t = Transcript.load("/transcripts/irc/" + name);
        ClientOptions options = ClientOptions.of(
                        SecurityLevel.valueOf(t.options().get("level").toUpperCase(Locale.ROOT)))
                .withImplicitTls(Boolean.parseBoolean(t.options().getOrDefault("implicit", "false")))
                .withLimits(limits(t));
        Supplier<Negotiation> factory = () -> new IrcClient(options);

        Replay.Run run = Replay.everySplit(factory, t, true);

        assertThat(run.outcome()).as(name).isEqualTo(t.expected());
        assertWrote(t, run, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverTranscripts")
    void server(String name) {
        Transcript t = Transcript.load("/transcripts/irc/" + name);
        ServerOptions base = ServerOptions.offering("irc.test", PLAIN)
                .withTlsRequired(Boolean.parseBoolean(t.options().getOrDefault("required", "false")))
                .withLimits(limits(t));
        ServerOptions options = switch (t.options().getOrDefault("mode", "plain")) {
            case "after-upgrade" -> base.afterUpgrade();
            case "no-tls" -> ServerOptions.withoutTls("irc.test", PLAIN).withLimits(base.limits());
            default -> base;
        };
        Supplier<Negotiation> factory = () -> new IrcServer(options);

        Replay.Run run = Replay.everySplit(factory, t, false);

        assertThat(run.outcome()).as(name).isEqualTo(t.expected());
        assertWrote(t, run, false);
        if (t.options().containsKey("tlsInput")) {
            // Whole-feed run: everything after the STARTTLS line went to TLS, byte for byte, unparsed.
            String expected = new String(
                    Transcript.parse("x", "C: " + t.options().get("tlsInput") + "\\\n== x")
                            .segments()
                            .get(0)
                            .fromClient(),
                    StandardCharsets.UTF_8);
            assertThat(new String(run.tlsInputs().get(0), StandardCharsets.UTF_8))
                    .isEqualTo(expected);
        }
    }

    private static void assertWrote(Transcript t, Replay.Run run, boolean asClient) {
        for (int i = 0; i < run.written().size(); i++) {
            Transcript.Segment seg = t.segments().get(i);
            String expected = new String(asClient ? seg.fromClient() : seg.fromServer(), StandardCharsets.UTF_8);
            assertThat(run.writtenText(i)).as(t.name() + " segment " + i).isEqualTo(expected);
        }
        assertThat(run.written())
                .as(t.name() + " segments reached")
                .hasSize(t.segments().size());
    }
}
