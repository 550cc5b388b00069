package dev.optls.core.irc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Replay;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
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
        Arbitrary<List<Integer>> cuts =
                Arbitraries.integers().between(0, 600).list().ofMaxSize(8);
        return Combinators.combine(stream, cuts).as((bytes, cutList) -> {
            List<Integer> sorted = cutList.stream()
                    .filter(c -> c > 0 && c < bytes.length)
                    .distinct()
                    .sorted()
                    .toList();
            List<byte[]> chunks = new ArrayList<>();
            int start = 0;
            for (int c : sorted) {
                chunks.add(java.util.Arrays.copyOfRange(bytes, start, c));
                start = c;
            }
            chunks.add(java.util.Arrays.copyOfRange(bytes, start, bytes.length));
            return new Input(chunks);
        });
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

    /** Feeds the chunks and acts on every step as an adapter would; fails on anything unexpected. */
    private static void drive(Negotiation n, Input input, int answers) {
        ByteBuffer out = ByteBuffer.allocate(16);
        int next = 0;
        int answer = answers;
        for (int guard = 0; guard < 100_000; guard++) {
            Step step = n.poll();
            if (step instanceof Step.WriteOutput w) {
                assertThat(w.pending()).isPositive();
                out.clear();
                assertThat(n.drainOutput(out)).isPositive();
            } else if (step instanceof Step.NeedInput) {
                if (next < input.chunks().size()) {
                    n.receive(ByteBuffer.wrap(input.chunks().get(next++)));
                } else if (next == input.chunks().size()) {
                    next++;
                    n.receiveEof();
                } else {
                    throw new AssertionError("NeedInput after EOF");
                }
            } else if (step instanceof Step.BeginHandshake b) {
                // The server hands what follows STARTTLS to TLS; the client never has any.
                if (n instanceof IrcClient) {
                    assertThat(b.tlsInput().remaining()).isZero();
                }
                // Pretend the rest of the input was the TLS handshake.
                next = input.chunks().size();
                n.handshakeCompleted(Replay.FAKE_TLS);
            } else if (step instanceof Step.Deliver d) {
                assertThat(d.command().verb()).isNotBlank();
                switch (Math.floorMod(answer++, 4)) {
                    case 0 -> n.respond(":irc.test 001 a :Welcome");
                    case 1 -> n.respond(":irc.test CAP * ACK :sasl");
                    case 2 -> n.respond(":irc.test PONG irc.test :123");
                    default -> {
                        n.handOver();
                        assertThat(n.poll()).isInstanceOf(Step.Completed.class);
                        return;
                    }
                }
            } else if (step instanceof Step.Completed
                    || step instanceof Step.Failed
                    || step instanceof Step.UpgradeUnavailable) {
                // Sticky: polling again gives the same step.
                assertThat(n.poll()).isEqualTo(step);
                return;
            } else {
                throw new AssertionError("undefined step " + step);
            }
        }
        throw new AssertionError("no progress");
    }
}
