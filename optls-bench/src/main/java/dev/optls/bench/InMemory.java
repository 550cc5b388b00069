package dev.optls.bench;

import dev.optls.core.Negotiation;
import dev.optls.core.Result;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs a client and a server negotiation against each other in memory, as two adapters would over a
 * socket: each side's output is fed to the other, and when both ask for TLS both are told it completed
 * (no TLS runs). As the blocking adapter does, a fresh server negotiation continues after the upgrade.
 */
public final class InMemory {
    /** Marks the point of a transcript where the (fake) handshake happens. */
    static final Object HANDSHAKE = new Object() {
        @Override
        public String toString() {
            return "<handshake>";
        }
    };

    private InMemory() {}

    /**
     * What each side received, in order: byte arrays and {@link #HANDSHAKE} markers. Replaying one side's
     * list to a new negotiation of that side ({@link #replay}) measures that side alone.
     */
    public static final class Recording {
        final List<Object> toClient = new ArrayList<>();
        final List<Object> toServer = new ArrayList<>();
    }

    /**
     * Runs to the client's end.
     *
     * @param scratch a buffer for one transfer; its size does not matter for correctness
     * @return the client's result
     * @throws IllegalStateException when the client does not upgrade (the fixtures are wrong)
     */
    public static Result run(
            Negotiation client, Negotiation firstServer, Supplier<Negotiation> serverAfterUpgrade, ByteBuffer scratch) {
        return run(client, firstServer, serverAfterUpgrade, scratch, null);
    }

    /** As {@link #run(Negotiation, Negotiation, Supplier, ByteBuffer)}, recording what each side received. */
    public static Result run(
            Negotiation client,
            Negotiation firstServer,
            Supplier<Negotiation> serverAfterUpgrade,
            ByteBuffer scratch,
            Recording recording) {
        Negotiation server = firstServer;
        for (int round = 0; round < 100; round++) {
            Step c = client.poll();
            if (c instanceof Step.WriteOutput) {
                transfer(client, server, scratch, recording == null ? null : recording.toServer);
                continue;
            }
            Step s = server.poll();
            if (s instanceof Step.WriteOutput) {
                transfer(server, client, scratch, recording == null ? null : recording.toClient);
                continue;
            }
            if (c instanceof Step.BeginHandshake && s instanceof Step.BeginHandshake) {
                client.handshakeCompleted(Fixtures.FAKE_HANDSHAKE);
                server.handshakeCompleted(Fixtures.FAKE_HANDSHAKE);
                if (!(server.poll() instanceof Step.Completed done)
                        || done.result().ending() != Result.Ending.UPGRADED) {
                    throw new IllegalStateException("the server did not complete its upgrade");
                }
                if (recording != null) {
                    recording.toClient.add(HANDSHAKE);
                    recording.toServer.add(HANDSHAKE);
                }
                server = serverAfterUpgrade.get();
                continue;
            }
            if (c instanceof Step.Completed done && done.result().ending() == Result.Ending.UPGRADED) {
                return done.result();
            }
            throw new IllegalStateException("negotiation stuck or failed: client " + c + ", server " + s);
        }
        throw new IllegalStateException("no end after 100 rounds");
    }

    /**
     * Feeds one side what it received in a recorded run, discarding what it writes.
     *
     * @param afterUpgrade for a server, the negotiation that continues after the handshake; null for a
     *     client
     * @return the last step: a client's {@link Step.Completed}, or a server's {@link Step.NeedInput} once
     *     every recorded input was consumed
     * @throws IllegalStateException when the side does not follow the recording
     */
    public static Step replay(
            Negotiation first, List<Object> inputs, Supplier<Negotiation> afterUpgrade, ByteBuffer scratch) {
        Negotiation n = first;
        int next = 0;
        for (int round = 0; round < 100; round++) {
            Step step = n.poll();
            if (step instanceof Step.WriteOutput) {
                scratch.clear();
                n.drainOutput(scratch);
            } else if (step instanceof Step.BeginHandshake) {
                if (next == inputs.size() || inputs.get(next++) != HANDSHAKE) {
                    throw new IllegalStateException("handshake not at the recorded point");
                }
                n.handshakeCompleted(Fixtures.FAKE_HANDSHAKE);
                if (afterUpgrade != null) {
                    if (!(n.poll() instanceof Step.Completed)) {
                        throw new IllegalStateException("the server did not complete its upgrade");
                    }
                    n = afterUpgrade.get();
                }
            } else if (step instanceof Step.NeedInput) {
                if (next == inputs.size()) {
                    return step;
                }
                if (!(inputs.get(next++) instanceof byte[] bytes)) {
                    throw new IllegalStateException("input expected where the recording has a handshake");
                }
                n.receive(ByteBuffer.wrap(bytes));
            } else {
                return step;
            }
        }
        throw new IllegalStateException("no end after 100 rounds");
    }

    private static void transfer(Negotiation from, Negotiation to, ByteBuffer scratch, List<Object> record) {
        scratch.clear();
        from.drainOutput(scratch);
        scratch.flip();
        if (record != null) {
            record.add(Arrays.copyOfRange(scratch.array(), scratch.position(), scratch.limit()));
        }
        to.receive(scratch);
    }
}
