package dev.optls.gateway;

import java.util.List;
import java.util.stream.Collectors;

/** A gateway configuration that cannot be used: every problem found, each with where and how to fix it. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * One problem.
     *
     * @param file the configuration file
     * @param key where in the file, e.g. {@code route[2] "imap" listen}
     * @param problem what is wrong
     * @param fix what to do about it
     */
    public record Problem(String file, String key, String problem, String fix) {
        @Override
        public String toString() {
            return file + ": " + key + ": " + problem + " (" + fix + ")";
        }
    }

    private final transient List<Problem> problems;

    /** @param problems at least one */
    public ConfigException(List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, in file order. */
    public List<Problem> problems() {
        return problems;
    }
}
