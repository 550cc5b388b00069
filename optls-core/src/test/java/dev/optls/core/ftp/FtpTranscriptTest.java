package dev.optls.core.ftp;

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

/** Every FTP transcript replayed whole and split at every byte, as client or server. */
class FtpTranscriptTest {
    static final Capabilities FEATURES = Capabilities.of("EPSV", "UTF8");

    static Stream<String> clientTranscripts() {
        return Transcript.names("/transcripts/ftp", "client-");
    }

    static Stream<String> serverTranscripts() {
        return Transcript.names("/transcripts/ftp", "server-");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTranscripts")
    void client(String name) {
        Transcript t = Transcript.load("/transcripts/ftp/" + name);
        ClientOptions options = t.clientOptions();
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
                .withLimits(t.limits(256, 1024));
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
