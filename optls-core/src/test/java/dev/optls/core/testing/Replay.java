package dev.optls.core.testing;

import dev.optls.core.HandshakeSummary;
import dev.optls.core.Negotiation;
import dev.optls.core.Step;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Replays a {@link Transcript} against one side: feeds the other side's bytes in the given chunking,
 * answers deliveries from the {@code A:} lines, fakes the handshake at {@code -- TLS --}, and records
 * what the negotiation wrote and how it ended.
 */
public final class Replay {
    public static final HandshakeSummary FAKE_TLS = new HandshakeSummary("TLSv1.3", "TLS_AES_128_GCM_SHA256", "");

    /** Outcome of a client replay where injected bytes arrive after the go-ahead was already acted on. */
    public static final String PLAINTEXT_INTO_TLS = "plaintext-into-tls";

    /** What one replay produced. */
    public record Run(List<byte[]> written, String outcome, Step last, List<byte[]> tlsInputs) {
        public String writtenText(int segment) {
            return new String(written.get(segment), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private Replay() {}

    /** Replays as the client: input is the server's bytes. */
    public static Run client(Supplier<Negotiation> factory, Transcript t, int chunk) {
        return run(factory.get(), t, true, chunk);
    }

    /** Replays as the server: input is the client's bytes. */
    public static Run server(Supplier<Negotiation> factory, Transcript t, int chunk) {
        return run(factory.get(), t, false, chunk);
    }

    /**
     * Replays whole, then split into chunks of every size from 1 up, and returns the whole-feed run after
     * checking that every chunking gave the same output and outcome.
     */
    public static Run everySplit(Supplier<Negotiation> factory, Transcript t, boolean asClient) {
        Run whole = run(factory.get(), t, asClient, Integer.MAX_VALUE);
        int longest = t.segments().stream()
                .mapToInt(s -> (asClient ? s.fromServer() : s.fromClient()).length)
                .max()
                .orElse(1);
        IntStream.rangeClosed(1, Math.max(1, longest)).forEach(chunk -> {
            Run split = run(factory.get(), t, asClient, chunk);
            boolean injectionSeenLater = asClient
                    && whole.outcome().equals("failed BYTES_AFTER_UPGRADE_REPLY")
                    && split.outcome().equals(PLAINTEXT_INTO_TLS);
            boolean sameOutcome = split.outcome().equals(whole.outcome()) || injectionSeenLater;
            if (!sameOutcome || !sameBytes(split.written(), whole.written())) {
                throw new AssertionError(t.name() + ": feeding in chunks of " + chunk + " gave " + split.outcome()
                        + " / " + text(split.written()) + " but whole gave " + whole.outcome() + " / "
                        + text(whole.written()));
            }
        });
        return whole;
    }

    private static String text(List<byte[]> segments) {
        return segments.stream()
                .map(b -> new String(b, java.nio.charset.StandardCharsets.UTF_8))
                .toList()
                .toString();
    }

    private static boolean sameBytes(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static Run run(Negotiation n, Transcript t, boolean asClient, int chunk) {
        List<byte[]> written = new ArrayList<>();
        List<byte[]> tlsInputs = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Step last = null;
        segments:
        for (int s = 0; s < t.segments().size(); s++) {
            Transcript.Segment seg = t.segments().get(s);
            byte[] input = asClient ? seg.fromServer() : seg.fromClient();
            int fed = 0;
            int answer = 0;
            boolean eofSent = false;
            while (true) {
                Step step = n.poll();
                last = step;
                if (step instanceof Step.WriteOutput) {
                    ByteBuffer buf = ByteBuffer.allocate(4096);
                    n.drainOutput(buf);
                    out.write(buf.array(), 0, buf.position());
                } else if (step instanceof Step.NeedInput) {
                    if (fed < input.length) {
                        int len = Math.min(chunk, input.length - fed);
                        n.receive(ByteBuffer.wrap(input, fed, len));
                        fed += len;
                    } else if (s == t.segments().size() - 1 && !eofSent) {
                        n.receiveEof();
                        eofSent = true;
                    } else {
                        written.add(out.toByteArray());
                        return new Run(written, "need-input", step, tlsInputs);
                    }
                } else if (step instanceof Step.Deliver d) {
                    if (answer >= seg.answers().size()) {
                        written.add(out.toByteArray());
                        return new Run(written, "deliver " + d.command().verb(), step, tlsInputs);
                    }
                    String a = seg.answers().get(answer++);
                    if (a.equals("HANDOVER")) {
                        n.handOver();
                    } else {
                        n.respond(a);
                    }
                } else if (step instanceof Step.BeginHandshake b) {
                    ByteBuffer prefix = b.tlsInput();
                    byte[] p = new byte[prefix.remaining()];
                    prefix.get(p);
                    tlsInputs.add(p);
                    written.add(out.toByteArray());
                    out.reset();
                    if (asClient && fed < input.length) {
                        // Bytes the server sent after the go-ahead that arrived in a later read: the adapter
                        // hands the socket to TLS, which receives them as garbage and aborts the handshake.
                        return new Run(written, PLAINTEXT_INTO_TLS, step, tlsInputs);
                    }
                    if (s + 1 >= t.segments().size()) {
                        return new Run(written, "begin-handshake", step, tlsInputs);
                    }
                    n.handshakeCompleted(FAKE_TLS);
                    continue segments;
                } else {
                    written.add(out.toByteArray());
                    return new Run(written, describe(step), step, tlsInputs);
                }
            }
        }
        throw new AssertionError("unreachable");
    }

    /** A short name for a terminal step: {@code completed UPGRADED}, {@code failed STARTTLS_REFUSED}. */
    public static String describe(Step step) {
        if (step instanceof Step.Completed c) {
            return "completed " + c.result().ending();
        } else if (step instanceof Step.Failed f) {
            return "failed " + f.failure().kind();
        } else if (step instanceof Step.UpgradeUnavailable u) {
            return "unavailable " + u.reason().kind();
        }
        return step.toString();
    }

    /**
     * Checks a whole-feed run against its transcript: the outcome, the bytes written in every segment,
     * and (option {@code tlsInput}) the bytes a server handed to TLS unparsed after the upgrade command.
     */
    public static void assertMatches(Transcript t, Run run, boolean asClient) {
        org.assertj.core.api.Assertions.assertThat(run.outcome()).as(t.name()).isEqualTo(t.expected());
        for (int i = 0; i < run.written().size(); i++) {
            Transcript.Segment seg = t.segments().get(i);
            String expected =
                    new String(asClient ? seg.fromClient() : seg.fromServer(), java.nio.charset.StandardCharsets.UTF_8);
            org.assertj.core.api.Assertions.assertThat(run.writtenText(i))
                    .as(t.name() + " segment " + i)
                    .isEqualTo(expected);
        }
        org.assertj.core.api.Assertions.assertThat(run.written())
                .as(t.name() + " segments reached")
                .hasSize(t.segments().size());
        if (t.options().containsKey("tlsInput")) {
            byte[] expected = Transcript.parse("x", "C: " + t.options().get("tlsInput") + "\\\n== x")
                    .segments()
                    .get(0)
                    .fromClient();
            org.assertj.core.api.Assertions.assertThat(run.tlsInputs().get(0))
                    .as(t.name() + ": bytes after the upgrade command went to TLS unparsed")
                    .isEqualTo(expected);
        }
    }
}
