package dev.optls.core.ftp;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every FTP transcript replayed whole and split at every byte, as client or server. */
class FtpTranscriptTest {
    static final Capabilities FEATURES = Capabilities.of("EPSV", "UTF8");

    static Stream<String> clientTranscripts() {
        return Transcript.names("/transcripts/ftp", "client-");
    }

    static Stream<String> serverTranscripts() {
        return Transcript.names("/transcripts/ftp", "server-");
    }

    private static Limits limits(Transcript t) {
        return new Limits(
                Integer.parseInt(t.options().getOrDefault("maxLineLength", "4096")),
                Integer.parseInt(t.options().getOrDefault("maxReplyLines", "256")),
                65536,
                1024,
                Integer.parseInt(t.options().getOrDefault("maxErrors", "20")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTranscripts")
    void client(String name) {
        Transcript t = Transcript.load("/transcripts/ftp/" + name);
        ClientOptions options = ClientOptions.of(
                        SecurityLevel.valueOf(t.options().get("level").toUpperCase(Locale.ROOT)))
                .withImplicitTls(Boolean.parseBoolean(t.options().getOrDefault("implicit", "false")))
                .withLimits(limits(t));
        Supplier<Negotiation> factory = () -> new FtpClient(options);

        Replay.Run run = Replay.everySplit(factory, t, true);

        Replay.assertMatches(t, run, true);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverTranscripts")
    void server(String name) {
        Transcript t = Transcript.load("/transcripts/ftp/" + name);
        ServerOptions base = ServerOptions.offering("ftp.test", FEATURES)
                .withTlsRequired(Boolean.parseBoolean(t.options().getOrDefault("required", "false")))
                .withLimits(limits(t));
        ServerOptions options = switch (t.options().getOrDefault("mode", "plain")) {
            case "after-upgrade" -> base.afterUpgrade();
            case "implicit" -> base.implicitTls();
            case "no-tls" -> ServerOptions.withoutTls("ftp.test", FEATURES).withLimits(base.limits());
            default -> base;
        };
        Supplier<Negotiation> factory = () -> new FtpServer(options);

        Replay.Run run = Replay.everySplit(factory, t, false);

        Replay.assertMatches(t, run, false);
    }
}
