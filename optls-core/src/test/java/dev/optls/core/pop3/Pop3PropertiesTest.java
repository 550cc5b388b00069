package dev.optls.core.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Chunks;
import dev.optls.core.testing.Drive;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** Whatever a peer sends, a negotiation neither throws nor produces anything but defined steps. */
class Pop3PropertiesTest {
    private static final Limits SMALL = new Limits(64, 8, 512, 0, 5);

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

    /** POP3-shaped pieces, so that the negotiation gets past the greeting often. */
    @Provide
    Arbitrary<Input> pop3Pieces() {
        Arbitrary<String> token = Arbitraries.of(
                "+OK ready\r\n",
                "+OK\r\n",
                "-ERR\r\n",
                "-ERR [SYS/TEMP] later\r\n",
                "-ERR [AUTH] no\r\n",
                "STLS\r\n",
                "STLS x\r\n",
                "CAPA\r\n",
                "USER u\r\n",
                "PASS p\r\n",
                "AUTH PLAIN\r\n",
                "APOP a b\r\n",
                "RETR 1\r\n",
                "QUIT\r\n",
                "SASL PLAIN\r\n",
                "..X\r\n",
                ".\r\n",
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
        drive(new Pop3Client(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 500)
    void clientSurvivesPop3ShapedInput(
            @ForAll("pop3Pieces") Input input, @ForAll SecurityLevel level, @ForAll boolean implicit) {
        drive(new Pop3Client(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll boolean required, @ForAll int answers) {
        drive(new Pop3Server(serverOptions(required)), input, answers);
    }

    @Property(tries = 500)
    void serverSurvivesPop3ShapedInput(
            @ForAll("pop3Pieces") Input input, @ForAll boolean required, @ForAll boolean active, @ForAll int answers) {
        ServerOptions options = serverOptions(required);
        drive(new Pop3Server(active ? options.afterUpgrade() : options), input, answers);
    }

    @Property
    void statusLinesRoundTrip(
            @ForAll boolean positive, @ForAll("codes") String code, @ForAll @Size(max = 40) String text) {
        String clean = text.replaceAll("[\\r\\n]", "").strip();
        if (clean.startsWith("[")) {
            clean = clean.substring(1).strip();
        }
        Pop3Reply reply = new Pop3Reply(positive, code, clean);
        assertThat(Pop3Reply.parse(reply.toLine())).contains(reply);
    }

    @Provide
    Arbitrary<String> codes() {
        return Arbitraries.of("", "SYS/TEMP", "SYS/PERM", "AUTH", "IN-USE", "LOGIN-DELAY", "X/Y/Z");
    }

    @Property
    void dotStuffingRoundTrips(@ForAll @Size(max = 20) List<@Size(max = 10) String> lines) {
        List<String> clean =
                lines.stream().map(l -> l.replaceAll("[\\r\\n]", "")).toList();
        String encoded = Pop3MultiLine.encode(clean);
        List<String> decoded = new ArrayList<>();
        for (String line : encoded.split("\r\n", -1)) {
            if (Pop3MultiLine.isTerminator(line)) {
                break;
            }
            decoded.add(Pop3MultiLine.unstuff(line));
        }
        assertThat(decoded).isEqualTo(clean);
    }

    private static ServerOptions serverOptions(boolean required) {
        return ServerOptions.offering("mx", Capabilities.of("USER", "SASL PLAIN", "TOP"))
                .withTlsRequired(required)
                .withLimits(SMALL);
    }

    /** Acts on every step as an adapter would; see {@link Drive#toEnd}. */
    private static void drive(Negotiation n, Input input, int answers) {
        Step end = Drive.toEnd(
                n,
                input.chunks(),
                n instanceof Pop3Client,
                answers,
                List.of("+OK", "-ERR no", "+OK 1 message\r\n1 10\r\n.\r\n"));
        // Only the terminal steps of the contract end a negotiation.
        assertThat(end).isInstanceOfAny(Step.Completed.class, Step.Failed.class, Step.UpgradeUnavailable.class);
    }
}
