package dev.optls.policy.dns;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/** "Is this Debian program installed?" for the DNS tests: skips without it, fails under {@code CI=true}. */
final class Peer {

    private static final List<Path> SEARCH_DIRS =
            List.of(Path.of("/usr/local/sbin"), Path.of("/usr/local/bin"), Path.of("/usr/sbin"), Path.of("/usr/bin"));

    private Peer() {}

    /** The path of {@code command}; skips the test (fails it under {@code CI=true}) when it is missing. */
    static Path requireCommand(String command, String debianPackage) {
        for (Path dir : SEARCH_DIRS) {
            Path candidate = dir.resolve(command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        String message = "command '" + command + "' is missing: install the Debian package '" + debianPackage
                + "' (apt-get install " + debianPackage + "), or run scripts/install-peers.sh";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(message + " [CI=true: test peers must be installed on CI]");
        }
        Assumptions.abort(message);
        throw new AssertionError("unreachable");
    }
}
