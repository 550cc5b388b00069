package dev.optls.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicReference;

/** A loopback server that plays one scripted conversation on the first connection. */
final class ScriptedServer implements AutoCloseable {

    /** The server's side of the conversation. */
    interface Script {
        void play(Socket socket) throws IOException;
    }

    private final ServerSocket listener;
    private final Thread thread;
    private final AtomicReference<Throwable> problem = new AtomicReference<>();

    ScriptedServer(Script script) {
        try {
            listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        thread = new Thread(
                () -> {
                    try (Socket s = listener.accept()) {
                        s.setSoTimeout(10_000);
                        script.play(s);
                    } catch (IOException | RuntimeException e) {
                        problem.set(e);
                    }
                },
                "scripted-server");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Waits for the script to finish and rethrows what went wrong in it. */
    void awaitScript() throws InterruptedException {
        thread.join(10_000);
        if (thread.isAlive()) {
            throw new AssertionError("scripted server still running");
        }
        if (problem.get() != null) {
            throw new AssertionError("scripted server failed", problem.get());
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
