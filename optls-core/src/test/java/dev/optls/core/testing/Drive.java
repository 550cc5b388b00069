package dev.optls.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Negotiation;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Drives a negotiation through arbitrary input as an adapter would, for property tests: only defined
 * steps may come out, every sticky step stays put, and the negotiation ends.
 */
public final class Drive {
    private Drive() {}

    /**
     * Feeds {@code chunks} (then EOF), drains output through a small buffer, fakes the handshake (the rest
     * of the input counts as TLS), and answers deliveries in turn with {@code replies} and, after them,
     * {@link Negotiation#handOver()}, starting at reply number {@code answers}.
     *
     * @param client whether {@code n} is a client (a client's BeginHandshake never carries bytes)
     * @return the step the negotiation ended with
     */
    public static Step toEnd(Negotiation n, List<byte[]> chunks, boolean client, int answers, List<String> replies) {
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
                if (next < chunks.size()) {
                    n.receive(ByteBuffer.wrap(chunks.get(next++)));
                } else if (next == chunks.size()) {
                    next++;
                    n.receiveEof();
                } else {
                    throw new AssertionError("NeedInput after EOF");
                }
            } else if (step instanceof Step.BeginHandshake b) {
                // The server hands what follows the upgrade request to TLS; the client never has any.
                if (client) {
                    assertThat(b.tlsInput().remaining()).isZero();
                }
                next = chunks.size();
                n.handshakeCompleted(Replay.FAKE_TLS);
            } else if (step instanceof Step.Deliver d) {
                assertThat(d.command().verb()).isNotBlank();
                int choice = Math.floorMod(answer++, replies.size() + 1);
                if (choice < replies.size()) {
                    n.respond(replies.get(choice));
                } else {
                    n.handOver();
                    Step end = n.poll();
                    assertThat(end).isInstanceOf(Step.Completed.class);
                    return end;
                }
            } else if (step instanceof Step.Completed
                    || step instanceof Step.Failed
                    || step instanceof Step.UpgradeUnavailable) {
                // Sticky: polling again gives the same step.
                assertThat(n.poll()).isEqualTo(step);
                return step;
            } else {
                throw new AssertionError("undefined step " + step);
            }
        }
        throw new AssertionError("no progress");
    }
}
