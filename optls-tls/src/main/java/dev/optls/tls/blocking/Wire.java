package dev.optls.tls.blocking;

import dev.optls.core.Negotiation;
import dev.optls.core.Step;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;

/** Drives a {@link Negotiation} over a blocking socket until it returns a step other than IO. */
final class Wire {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] readBuffer = new byte[8192];
    private final ByteBuffer writeBuffer = ByteBuffer.allocate(8192);

    Wire(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /**
     * Polls until the negotiation asks for something other than reading or writing. Output is written and
     * flushed as soon as it is pending, so a go-ahead is on the wire before {@link Step.BeginHandshake}
     * is returned. Each wait for input is bounded by {@code perPhase}, counted from the last write.
     */
    Step drive(Negotiation negotiation, Duration perPhase) throws IOException {
        long deadline = System.nanoTime() + perPhase.toNanos();
        while (true) {
            Step step = negotiation.poll();
            if (step instanceof Step.WriteOutput) {
                writeBuffer.clear();
                negotiation.drainOutput(writeBuffer);
                out.write(writeBuffer.array(), 0, writeBuffer.position());
                if (!(negotiation.poll() instanceof Step.WriteOutput)) {
                    out.flush();
                }
                deadline = System.nanoTime() + perPhase.toNanos();
            } else if (step instanceof Step.NeedInput) {
                long remainingMillis = (deadline - System.nanoTime()) / 1_000_000;
                if (remainingMillis <= 0) {
                    throw new SocketTimeoutException("no complete reply within " + perPhase.toMillis() + " ms");
                }
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remainingMillis));
                int n = in.read(readBuffer);
                if (n < 0) {
                    negotiation.receiveEof();
                } else {
                    negotiation.receive(ByteBuffer.wrap(readBuffer, 0, n));
                }
            } else {
                return step;
            }
        }
    }
}
