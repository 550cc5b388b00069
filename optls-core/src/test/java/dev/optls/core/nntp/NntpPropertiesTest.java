package dev.optls.core.nntp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Chunks;
import dev.optls.core.testing.Drive;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** Whatever a peer sends, in whatever chunks, a negotiation neither throws nor produces undefined steps. */
class NntpPropertiesTest {
    private static final Limits SMALL = new Limits(64, 8, 512, 64, 5);

    /** Bytes cut into pieces. */
    record Input(List<byte[]> chunks) {}

    @Provide
    Arbitrary<Input> randomBytes() {
        return Arbitraries.bytes()
                .array(byte[].class)
                .ofMaxSize(64)
                .list()
                .ofMaxSize(12)
                .map(Input::new);
    }

    /** NNTP-shaped pieces, so that the negotiation gets past the greeting often. */
    @Provide
    Arbitrary<Input> nntpPieces() {
        Arbitrary<String> token = Arbitraries.of(
                "200 news ready\r\n",
                "201 news ready\r\n",
                "400 later\r\n",
                "101 Capability list:\r\n",
                "VERSION 2\r\n",
                "STARTTLS\r\n",
                "starttls x\r\n",
                "READER\r\n",
                "..dot\r\n",
                ".\r\n",
                "382 go\r\n",
                "580 no\r\n",
                "500 what\r\n",
                "502 no\r\n",
                "CAPABILITIES\r\n",
                "MODE READER\r\n",
                "AUTHINFO USER joe\r\n",
                "AUTHINFO PASS x\r\n",
                "QUIT\r\n",
                "POST\r\n",
                "\r\n",
                "\n",
                "\u0000\u00ff",
                "x".repeat(70));
        Arbitrary<byte[]> stream =
                token.list().ofMaxSize(30).map(list -> String.join("", list).getBytes(StandardCharsets.ISO_8859_1));
        return Chunks.split(stream, 600).map(Input::new);
    }

    @Property(tries = 300)
    void clientSurvivesRandomBytes(
            @ForAll("randomBytes") Input input, @ForAll SecurityLevel level, @ForAll boolean implicit) {
        drive(new NntpClient(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 500)
    void clientSurvivesNntpShapedInput(
            @ForAll("nntpPieces") Input input, @ForAll SecurityLevel level, @ForAll boolean implicit) {
        drive(new NntpClient(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll boolean required, @ForAll int answers) {
        drive(new NntpServer(serverOptions(required)), input, answers);
    }

    @Property(tries = 500)
    void serverSurvivesNntpShapedInput(
            @ForAll("nntpPieces") Input input, @ForAll boolean required, @ForAll boolean active, @ForAll int answers) {
        ServerOptions options = serverOptions(required);
        drive(new NntpServer(active ? options.afterUpgrade() : options), input, answers);
    }

    @Property
    void statusLinesParseOnlyWithThreeDigits(@ForAll @Size(max = 8) String line) {
        Optional<NntpReply> reply = NntpReply.parse(line);
        reply.ifPresent(r -> {
            assertThat(r.code()).isBetween(100, 599);
            assertThat(line).startsWith(String.valueOf(r.code()));
        });
        assertThat(reply.isPresent()).isEqualTo(line.matches("(?s)[1-5][0-9][0-9]( .*)?"));
    }

    private static ServerOptions serverOptions(boolean required) {
        return ServerOptions.offering("nntp.test", NntpTranscriptTest.PLAIN)
                .withTlsCapabilities(NntpTranscriptTest.TLS)
                .withTlsRequired(required)
                .withLimits(SMALL);
    }

    /** Acts on every step as an adapter would; see {@link Drive#toEnd}. */
    private static void drive(Negotiation n, Input input, int answers) {
        Step end = Drive.toEnd(
                n,
                input.chunks(),
                n instanceof NntpClient,
                answers,
                List.of("281 Authentication accepted", "502 no", "215 list follows\r\nmisc.test 3 1 y\r\n."));
        // Only the terminal steps of the contract end a negotiation.
        assertThat(end).isInstanceOfAny(Step.Completed.class, Step.Failed.class, Step.UpgradeUnavailable.class);
    }
}
