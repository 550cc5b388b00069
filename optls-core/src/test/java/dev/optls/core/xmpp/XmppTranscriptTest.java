package dev.optls.core.xmpp;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every XMPP transcript replayed whole and split at every byte, as client or server. */
class XmppTranscriptTest {
    static final Capabilities PLAIN = Capabilities.of("dialback");
    static final Capabilities TLS = Capabilities.of("mechanisms SCRAM-SHA-1 PLAIN", "dialback");

    static Stream<String> clientTranscripts() {
        return Transcript.names("/transcripts/xmpp", "client-");
    }

    static Stream<String> serverTranscripts() {
        return Transcript.names("/transcripts/xmpp", "server-");
    }

    private static Protocol protocol(Transcript t) {
        return t.options().getOrDefault("protocol", "xmpp").equals("xmpp-server")
                ? Protocol.XMPP_SERVER
                : Protocol.XMPP;
    }

    private static Limits limits(Transcript t) {
        return new Limits(
                Integer.parseInt(t.options().getOrDefault("maxLineLength", "4096")),
                Integer.parseInt(t.options().getOrDefault("maxElements", "256")),
                65536,
                1024,
                20);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTranscripts")
    void client(String name) {
        Transcript t = Transcript.load("/transcripts/xmpp/" + name);
        ClientOptions options = ClientOptions.of(
                        SecurityLevel.valueOf(t.options().get("level").toUpperCase(Locale.ROOT)))
                .withImplicitTls(Boolean.parseBoolean(t.options().getOrDefault("implicit", "false")))
                .withHelloName("a.example")
                .withServiceDomain(t.options().getOrDefault("to", "im.example.com"))
                .withLimits(limits(t));
        Supplier<Negotiation> factory = () -> new XmppClient(protocol(t), options);

        Replay.Run run = Replay.everySplit(factory, t, true);

        Replay.assertMatches(t, run, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverTranscripts")
    void server(String name) {
        Transcript t = Transcript.load("/transcripts/xmpp/" + name);
        ServerOptions base = ServerOptions.offering("im.example.com", PLAIN)
                .withTlsCapabilities(TLS)
                .withTlsRequired(Boolean.parseBoolean(t.options().getOrDefault("required", "false")))
                .withLimits(limits(t));
        ServerOptions options = switch (t.options().getOrDefault("mode", "plain")) {
            case "after-upgrade" -> base.afterUpgrade();
            case "implicit" -> base.implicitTls();
            case "no-tls" -> ServerOptions.withoutTls("im.example.com", PLAIN).withLimits(base.limits());
            default -> base;
        };
        // A fixed generator: the transcripts show the stream id it gives.
        Supplier<Negotiation> factory = () -> new XmppServer(protocol(t), options, new SplittableRandom(7));

        Replay.Run run = Replay.everySplit(factory, t, false);

        Replay.assertMatches(t, run, false);
    }
}
