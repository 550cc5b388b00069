package dev.optls.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One run of the optls command line with captured output. */
record CliRun(int exitCode, String out, String err) {

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true);
                PrintWriter e = new PrintWriter(err, true)) {
            code = Main.run(o, e, args);
        }
        return new CliRun(code, out.toString(), err.toString());
    }
}
