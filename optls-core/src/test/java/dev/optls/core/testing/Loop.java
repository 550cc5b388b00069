package dev.optls.core.testing;

import dev.optls.core.Negotiation;
import dev.optls.core.Step;
import java.nio.ByteBuffer;

/**
 * Connects a client and a server negotiation in memory: output of each is fed to the other, and a
 * {@link Step.BeginHandshake} on both sides is answered with a fake handshake. The server's deliveries
 * are answered by {@code answer}. When the server completes its upgrade, {@code serverAfterUpgrade}
 * takes over, as the blocking adapter does.
 */
public final class Loop {
    /** Final steps of both sides. */
    public record Ends(Step client, Step server) {}

    private Loop() {}

    public static Ends run(
            Negotiation client,
            Negotiation server,
            java.util.function.Supplier<Negotiation> serverAfterUpgrade,
            java.util.function.Function<String, String> answer) {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        boolean clientWantsTls = false;
        boolean serverWantsTls = false;
        for (int i = 0; i < 10_000; i++) {
            Step c = client.poll();
            Step s = server.poll();
            boolean progress = false;
            if (c instanceof Step.WriteOutput) {
                buf.clear();
                client.drainOutput(buf);
                buf.flip();
                server.receive(buf);
                progress = true;
            }
            if (s instanceof Step.WriteOutput) {
                buf.clear();
                server.drainOutput(buf);
                buf.flip();
                client.receive(buf);
                progress = true;
            }
            if (s instanceof Step.Deliver d) {
                server.respond(answer.apply(d.command().verb()));
                progress = true;
            }
            clientWantsTls = c instanceof Step.BeginHandshake;
            serverWantsTls = s instanceof Step.BeginHandshake;
            if (clientWantsTls && serverWantsTls) {
                client.handshakeCompleted(Replay.FAKE_TLS);
                server.handshakeCompleted(Replay.FAKE_TLS);
                if (server.poll() instanceof Step.Completed done
                        && done.result().ending() == dev.optls.core.Result.Ending.UPGRADED
                        && serverAfterUpgrade != null) {
                    // As the adapters do: a fresh server negotiation continues on the TLS connection.
                    server = serverAfterUpgrade.get();
                }
                progress = true;
            }
            boolean clientDone =
                    !(c instanceof Step.NeedInput || c instanceof Step.WriteOutput || c instanceof Step.BeginHandshake);
            boolean serverIdle = s instanceof Step.NeedInput
                    || !(s instanceof Step.WriteOutput
                            || s instanceof Step.BeginHandshake
                            || s instanceof Step.Deliver);
            if (!progress && clientDone && serverIdle) {
                return new Ends(c, s);
            }
            if (!progress && !clientWantsTls && c instanceof Step.NeedInput && s instanceof Step.NeedInput) {
                throw new AssertionError("deadlock: both sides wait for input");
            }
        }
        throw new AssertionError("no end after 10000 rounds");
    }
}
