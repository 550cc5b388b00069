package dev.optls.core.ftp;

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
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a peer sends, in whatever chunks, a negotiation neither throws nor produces undefined steps. */
class FtpPropertiesTest {
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

    /** FTP-shaped pieces, so that the negotiation gets past the greeting often. */
    @Provide
    Arbitrary<Input> ftpPieces() {
        Arbitrary<String> token = Arbitraries.of(
                "220 ftp ready\r\n",
                "220-multi\r\n",
                "220 end\r\n",
                "120 wait\r\n",
                "421 bye\r\n",
                "211-Features:\r\n",
                " AUTH TLS\r\n",
                " PBSZ\r\n",
                "211 End\r\n",
                "234 go\r\n",
                "334 adat\r\n",
                "504 no\r\n",
                "530 login\r\n",
                "500 what\r\n",
                "FEAT\r\n",
                "AUTH TLS\r\n",
                "AUTH SSL\r\n",
                "PBSZ 0\r\n",
                "PROT P\r\n",
                "PROT C\r\n",
                "CCC\r\n",
                "USER anonymous\r\n",
                "PASS x\r\n",
                "LIST\r\n",
                "QUIT\r\n",
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
        drive(new FtpClient(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 500)
    void clientSurvivesFtpShapedInput(
            @ForAll("ftpPieces") Input input, @ForAll SecurityLevel level, @ForAll boolean implicit) {
        drive(new FtpClient(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll boolean required, @ForAll int answers) {
        drive(new FtpServer(serverOptions(required)), input, answers);
    }

    @Property(tries = 500)
    void serverSurvivesFtpShapedInput(
            @ForAll("ftpPieces") Input input, @ForAll boolean required, @ForAll boolean active, @ForAll int answers) {
        ServerOptions options = serverOptions(required);
        drive(new FtpServer(active ? options.afterUpgrade() : options), input, answers);
    }

    private static ServerOptions serverOptions(boolean required) {
        return ServerOptions.offering("ftp.test", FtpTranscriptTest.FEATURES)
                .withTlsRequired(required)
                .withLimits(SMALL);
    }

    /** Acts on every step as an adapter would; see {@link Drive#toEnd}. */
    private static void drive(Negotiation n, Input input, int answers) {
        Step end = Drive.toEnd(
                n,
                input.chunks(),
                n instanceof FtpClient,
                answers,
                List.of("331 password please", "200 PROT now Private.", "230-Welcome\r\n hello\r\n230 ok", "221 bye"));
        // Only the terminal steps of the contract end a negotiation.
        assertThat(end).isInstanceOfAny(Step.Completed.class, Step.Failed.class, Step.UpgradeUnavailable.class);
    }
}
