package dev.optls.core.irc;

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
class IrcPropertiesTest {
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

    /** IRC-shaped pieces, so that the negotiation gets past the greeting often. */
    @Provide
    Arbitrary<Input> ircPieces() {
        Arbitrary<String> token = Arbitraries.of(
                ":srv CAP * LS :multi-prefix tls\r\n",
                ":srv CAP * LS * :sasl\r\n",
                "@t=1 :srv cap x ls :tls\r\n",
                ":srv NOTICE * :*** Looking up your hostname\r\n",
                "PING :123\r\n",
                ":srv 020 * :wait\r\n",
                ":srv 670 * :go\r\n",
                ":srv 691 * :no\r\n",
                ":srv 421 * STARTTLS :Unknown command\r\n",
                "ERROR :bye\r\n",
                "CAP LS 302\r\n",
                "CAP REQ :sasl\r\n",
                "CAP END\r\n",
                "STARTTLS\r\n",
                "starttls x\r\n",
                "NICK a\r\n",
                "USER a 0 * :A\r\n",
                "PASS x\r\n",
                "QUIT\r\n",
                "@\r\n",
                ":\r\n",
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
        drive(new IrcClient(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 500)
    void clientSurvivesIrcShapedInput(
            @ForAll("ircPieces") Input input, @ForAll SecurityLevel level, @ForAll boolean implicit) {
        drive(new IrcClient(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll boolean required, @ForAll int answers) {
        drive(new IrcServer(serverOptions(required)), input, answers);
    }

    @Property(tries = 500)
    void serverSurvivesIrcShapedInput(
            @ForAll("ircPieces") Input input, @ForAll boolean required, @ForAll boolean active, @ForAll int answers) {
        ServerOptions options = serverOptions(required);
        drive(new IrcServer(active ? options.afterUpgrade() : options), input, answers);
    }

    private static ServerOptions serverOptions(boolean required) {
        return ServerOptions.offering("irc.test", IrcTranscriptTest.PLAIN)
                .withTlsRequired(required)
                .withLimits(SMALL);
    }

    /** Acts on every step as an adapter would; see {@link Drive#toEnd}. */
    private static void drive(Negotiation n, Input input, int answers) {
        Step end = Drive.toEnd(
                n,
                input.chunks(),
                n instanceof IrcClient,
                answers,
                List.of(":irc.test 001 a :Welcome", ":irc.test CAP * ACK :sasl", ":irc.test PONG irc.test :123"));
        // Only the terminal steps of the contract end a negotiation.
        assertThat(end).isInstanceOfAny(Step.Completed.class, Step.Failed.class, Step.UpgradeUnavailable.class);
    }
}
