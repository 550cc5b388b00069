package dev.optls.core.sieve;

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
class SievePropertiesTest {
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

    /** ManageSieve-shaped pieces, so that the negotiation gets past the greeting often. */
    @Provide
    Arbitrary<Input> sievePieces() {
        Arbitrary<String> token = Arbitraries.of(
                "\"IMPLEMENTATION\" \"x\"\r\n",
                "\"STARTTLS\"\r\n",
                "\"SASL\" \"\"\r\n",
                "\"SIEVE\" {8}\r\nfileinto\r\n",
                "OK\r\n",
                "oK \"go\"\r\n",
                "NO (TRYLATER) \"later\"\r\n",
                "BYE \"bye\"\r\n",
                "OK (TAG {2}\r\nab) \"x\"\r\n",
                "STARTTLS\r\n",
                "StartTls x\r\n",
                "CAPABILITY\r\n",
                "LOGOUT\r\n",
                "AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n",
                "PUTSCRIPT \"a\" {5+}\r\nkeep;\r\n",
                "PUTSCRIPT \"a\" {999+}\r\n",
                "UNAUTHENTICATE\r\n",
                "NOOP\r\n",
                "{3}\r\n",
                "(((((((((((\r\n",
                "\"unterminated\r\n",
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
        drive(new SieveClient(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 500)
    void clientSurvivesSieveShapedInput(
            @ForAll("sievePieces") Input input, @ForAll SecurityLevel level, @ForAll boolean implicit) {
        drive(new SieveClient(new ClientOptions(level, "localhost", implicit, SMALL)), input, 0);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll boolean required, @ForAll int answers) {
        drive(new SieveServer(serverOptions(required)), input, answers);
    }

    @Property(tries = 500)
    void serverSurvivesSieveShapedInput(
            @ForAll("sievePieces") Input input, @ForAll boolean required, @ForAll boolean active, @ForAll int answers) {
        ServerOptions options = serverOptions(required);
        drive(new SieveServer(active ? options.afterUpgrade() : options), input, answers);
    }

    @Property
    void quotedAndLiteralStringsRoundTrip(@ForAll @Size(max = 6) List<@Size(max = 20) String> texts) {
        List<String> clean = texts.stream().map(t -> t.replace("\u0000", "")).toList();
        List<String> encoded =
                clean.stream().map(t -> SieveParser.encode(t, true)).toList();
        Optional<List<String>> parsed = SieveStrings.arguments(String.join(" ", encoded));
        assertThat(parsed)
                .hasValue(clean.stream()
                        .map(t -> new String(t.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
                        .toList());
    }

    private static ServerOptions serverOptions(boolean required) {
        return ServerOptions.offering("sieve.test", SieveTranscriptTest.PLAIN)
                .withTlsCapabilities(SieveTranscriptTest.TLS)
                .withTlsRequired(required)
                .withLimits(SMALL);
    }

    /** Acts on every step as an adapter would; see {@link Drive#toEnd}. */
    private static void drive(Negotiation n, Input input, int answers) {
        Step end = Drive.toEnd(
                n,
                input.chunks(),
                n instanceof SieveClient,
                answers,
                List.of("OK", "NO \"no\"", "\"main\" ACTIVE\r\nOK"));
        // Only the terminal steps of the contract end a negotiation.
        assertThat(end).isInstanceOfAny(Step.Completed.class, Step.Failed.class, Step.UpgradeUnavailable.class);
    }
}
