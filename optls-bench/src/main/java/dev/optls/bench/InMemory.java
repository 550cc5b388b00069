package dev.optls.bench;

import dev.optls.core.Negotiation;
import dev.optls.core.Result;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.util.function.Supplier;

/**
 * Runs a client and a server negotiation against each other in memory, as two adapters would over a
 * socket: each side's output is fed to the other, and when both ask for TLS both are told it completed
 * (no TLS runs). As the blocking adapter does, a fresh server negotiation continues after the upgrade.
 */
public final class InMemory {
    private InMemory() {}

    /**
     * Runs to the client's end.
     *
     * @param scratch a buffer for one transfer; its size does not matter for correctness
     * @return the client's result
     * @throws IllegalStateException when the client does not upgrade (the fixtures are wrong)
     */
    public static Result run(
            Negotiation client, Negotiation firstServer, Supplier<Negotiation> serverAfterUpgrade, ByteBuffer scratch) {
        Negotiation server = firstServer;
        for (int round = 0; round < 100; round++) {
            Step c = client.poll();
            if (c instanceof Step.WriteOutput) {
                transfer(client, server, scratch);
                continue;
            }
            Step s = server.poll();
            if (s instanceof Step.WriteOutput) {
                transfer(server, client, scratch);
                continue;
            }
            if (c instanceof Step.BeginHandshake && s instanceof Step.BeginHandshake) {
                client.handshakeCompleted(Fixtures.FAKE_HANDSHAKE);
                server.handshakeCompleted(Fixtures.FAKE_HANDSHAKE);
                if (!(server.poll() instanceof Step.Completed done)
                        || done.result().ending() != Result.Ending.UPGRADED) {
                    throw new IllegalStateException("the server did not complete its upgrade");
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

    private static void transfer(Negotiation from, Negotiation to, ByteBuffer scratch) {
        scratch.clear();
        from.drainOutput(scratch);
        scratch.flip();
        to.receive(scratch);
    }
}
