package dev.optls.core.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Command;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Negotiation;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A scripted peer for one negotiation. Lines starting {@code S:} and {@code C:} are the server's and
 * the client's; {@code -- TLS} marks the handshake. The side under test is given; lines of the other
 * side are its input (consecutive lines form one segment, fed only when the negotiation asks for
 * input), lines of its own side are the output it must write. Each line gets CRLF; {@link #raw(String)}
 * appends bytes without it to the last input segment.
 */
final class Transcript {
    static final HandshakeSummary TLS13 = new HandshakeSummary("TLSv1.3", "TLS_AES_128_GCM_SHA256", "pop3");

    /** One input segment, or the TLS marker (null). */
    private final List<byte[]> segments = new ArrayList<>();

    private final StringBuilder expectedOutput = new StringBuilder();
    private final boolean testingServer;

    private Transcript(boolean testingServer) {
        this.testingServer = testingServer;
    }

    /** A transcript that drives a client: {@code S:} lines are input. */
    static Transcript client(String text) {
        return new Transcript(false).parse(text);
    }

    /** A transcript that drives a server: {@code C:} lines are input. */
    static Transcript server(String text) {
        return new Transcript(true).parse(text);
    }

    private Transcript parse(String text) {
        boolean lastWasInput = false;
        for (String line : text.strip().split("\n")) {
            line = line.stripTrailing();
            if (line.equals("-- TLS")) {
                segments.add(null);
                lastWasInput = false;
                continue;
            }
            boolean server = line.startsWith("S: ") || line.equals("S:");
            if (!server && !line.startsWith("C: ") && !line.equals("C:")) {
                throw new IllegalArgumentException("transcript line must start with S: or C:, was " + line);
            }
            String content = line.length() > 3 ? line.substring(3) : "";
            boolean input = server != testingServer;
            if (input) {
                addInput((content + "\r\n").getBytes(StandardCharsets.UTF_8), lastWasInput);
            } else {
                expectedOutput.append(content).append("\r\n");
            }
            lastWasInput = input;
        }
        return this;
    }

    private void addInput(byte[] bytes, boolean join) {
        if (join && !segments.isEmpty() && segments.get(segments.size() - 1) != null) {
            byte[] last = segments.remove(segments.size() - 1);
            byte[] both = new byte[last.length + bytes.length];
            System.arraycopy(last, 0, both, 0, last.length);
            System.arraycopy(bytes, 0, both, last.length, bytes.length);
            segments.add(both);
        } else {
            segments.add(bytes);
        }
    }

    /** Appends raw bytes to the last input segment (or starts one). */
    Transcript raw(byte[] bytes) {
        addInput(bytes, true);
        return this;
    }

    Transcript raw(String text) {
        return raw(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The output the side under test must write, in order. */
    String expectedOutput() {
        return expectedOutput.toString();
    }

    int inputLength() {
        int n = 0;
        for (byte[] s : segments) {
            n += s == null ? 0 : s.length;
        }
        return n;
    }

    /**
     * Runs the transcript whole, one byte at a time, and split in two at every byte offset, and
     * checks every outcome.
     */
    void replay(Supplier<Negotiation> factory, Function<Command, String> app, Consumer<Outcome> check) {
        List<int[]> plans = new ArrayList<>();
        plans.add(new int[0]);
        int total = inputLength();
        int[] every = new int[Math.max(0, total - 1)];
        for (int i = 1; i < total; i++) {
            every[i - 1] = i;
        }
        plans.add(every);
        for (int i = 1; i < total; i++) {
            plans.add(new int[] {i});
        }
        for (int[] cuts : plans) {
            Outcome outcome = run(factory.get(), app, cuts);
            try {
                check.accept(outcome);
            } catch (AssertionError e) {
                throw new AssertionError(
                        "with input cut at " + java.util.Arrays.toString(cuts) + ": " + e.getMessage(), e);
            }
        }
    }

    void replay(Supplier<Negotiation> factory, Consumer<Outcome> check) {
        replay(factory, c -> "+OK", check);
    }

    /**
     * Checks the common case: the output is exactly the expected output, and the negotiation ends with
     * a step for which {@code check} holds.
     */
    void replayExpectingOutput(Supplier<Negotiation> factory, Function<Command, String> app, Consumer<Step> check) {
        replay(factory, app, o -> {
            assertThat(o.output()).isEqualTo(expectedOutput());
            check.accept(o.last());
        });
    }

    void replayExpectingOutput(Supplier<Negotiation> factory, Consumer<Step> check) {
        replayExpectingOutput(factory, c -> "+OK", check);
    }

    /** Runs once with input pieces cut at the given absolute offsets. */
    Outcome run(Negotiation n, Function<Command, String> app, int... cuts) {
        List<byte[]> chunks = new ArrayList<>();
        int offset = 0;
        int cut = 0;
        for (byte[] segment : segments) {
            if (segment == null) {
                chunks.add(null);
                continue;
            }
            int start = 0;
            while (cut < cuts.length && cuts[cut] < offset + segment.length) {
                int at = cuts[cut++] - offset;
                if (at > start) {
                    chunks.add(java.util.Arrays.copyOfRange(segment, start, at));
                    start = at;
                }
            }
            chunks.add(java.util.Arrays.copyOfRange(segment, start, segment.length));
            offset += segment.length;
        }
        return drive(n, chunks, app);
    }

    static Outcome drive(Negotiation n, List<byte[]> chunks, Function<Command, String> app) {
        StringBuilder out = new StringBuilder();
        List<Step> events = new ArrayList<>();
        List<Command> delivered = new ArrayList<>();
        List<ByteBuffer> tlsInputs = new ArrayList<>();
        int next = 0;
        StringBuilder intoTls = new StringBuilder();
        ByteBuffer buf = ByteBuffer.allocate(7);
        for (int guard = 0; guard < 100_000; guard++) {
            Step step = n.poll();
            if (step instanceof Step.WriteOutput w) {
                assertThat(w.pending()).isPositive();
                buf.clear();
                int k = n.drainOutput(buf);
                assertThat(k).isPositive();
                out.append(new String(buf.array(), 0, k, StandardCharsets.ISO_8859_1));
            } else if (step instanceof Step.NeedInput) {
                if (next < chunks.size() && chunks.get(next) != null) {
                    n.receive(ByteBuffer.wrap(chunks.get(next++)));
                } else {
                    events.add(step);
                    return new Outcome(out.toString(), events, delivered, tlsInputs, intoTls.toString());
                }
            } else if (step instanceof Step.BeginHandshake b) {
                events.add(step);
                tlsInputs.add(b.tlsInput());
                ByteBuffer tlsInput = b.tlsInput().duplicate();
                byte[] head = new byte[tlsInput.remaining()];
                tlsInput.get(head);
                intoTls.append(new String(head, StandardCharsets.ISO_8859_1));
                // Everything still scripted before the TLS marker would have gone into TLS as well.
                while (next < chunks.size() && chunks.get(next) != null) {
                    intoTls.append(new String(chunks.get(next++), StandardCharsets.ISO_8859_1));
                }
                if (next >= chunks.size()) {
                    return new Outcome(out.toString(), events, delivered, tlsInputs, intoTls.toString());
                }
                next++; // the TLS marker
                n.handshakeCompleted(TLS13);
            } else if (step instanceof Step.Deliver d) {
                events.add(step);
                delivered.add(d.command());
                String reply = app.apply(d.command());
                if (reply == null) {
                    n.handOver();
                } else {
                    n.respond(reply);
                }
            } else {
                events.add(step);
                return new Outcome(out.toString(), events, delivered, tlsInputs, intoTls.toString());
            }
        }
        throw new AssertionError("negotiation did not settle");
    }

    /**
     * What a run produced.
     *
     * @param output every byte written, as ISO-8859-1
     * @param events the steps other than WriteOutput, in order; the last is where the run stopped
     * @param delivered commands delivered to the application
     * @param tlsInputs the tlsInput of each BeginHandshake
     * @param intoTls bytes that would have gone into the TLS engine: the tlsInput plus scripted plaintext
     *     input not yet received at the handshake
     */
    record Outcome(
            String output, List<Step> events, List<Command> delivered, List<ByteBuffer> tlsInputs, String intoTls) {
        Step last() {
            return events.get(events.size() - 1);
        }
    }
}
