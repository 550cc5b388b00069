package dev.optls.interop.ourserver;

import dev.optls.interop.peers.Peers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Versions of the real clients, for assertion messages. */
final class Clients {
    private static final Map<List<String>, String> VERSIONS = new ConcurrentHashMap<>();

    private Clients() {}

    /** The first non-empty output line of {@code command} (e.g. {@code curl --version}), cached. */
    static String version(String... command) {
        return VERSIONS.computeIfAbsent(List.of(command), c -> {
            Peers.CommandResult r = Peers.run(Duration.ofSeconds(10), null, c);
            return r.output()
                    .lines()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty())
                    .findFirst()
                    .orElse(String.join(" ", c) + ": no output (exit " + r.exitCode() + ")");
        });
    }

    /** The implementation version in the manifest of the jar holding {@code type}, or its jar name. */
    static String jarVersion(Class<?> type) {
        String version = type.getPackage().getImplementationVersion();
        if (version != null) {
            return version;
        }
        var source = type.getProtectionDomain().getCodeSource();
        return source == null ? "unknown" : source.getLocation().getPath().replaceAll(".*/", "");
    }
}
