package dev.optls.interop.policy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The lines a started process writes, collected as they come, for the ITs that run {@code optls policy serve}. */
final class ProcessLines {

    private ProcessLines() {}

    /** Copies the lines of {@code in} into {@code lines} (a thread-safe list) on a daemon thread. */
    static void pump(InputStream in, List<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // The process ended.
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** The first line containing {@code text}, waiting up to 60 seconds for it. */
    static String await(List<String> lines, String text) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                if (line.contains(text)) {
                    return line;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
        throw new AssertionError("no line with '" + text + "' in " + lines);
    }
}
