package dev.optls.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code optls} command. */
@Command(
        name = "optls",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Opportunistic TLS (STARTTLS) toolkit: probe servers, run the demo, run a TLS gateway, serve"
                + " outbound mail TLS policy to Postfix.",
        subcommands = {
            ProbeCommand.class,
            DemoCommand.class,
            GatewayCommand.class,
            BenchCommand.class,
            PolicyCommand.class,
            CommandLine.HelpCommand.class
        },
        footer = ExitCodes.HELP)
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /** Runs the command line with {@code out}/{@code err} (null: the standard streams); returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        if (out != null) {
            cli.setOut(out);
        }
        if (err != null) {
            cli.setErr(err);
        }
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof UsageException) {
                commandLine.getErr().println("optls: " + e.getMessage());
                return ExitCodes.USAGE;
            }
            commandLine.getErr().println("optls: internal error: " + e + " (please report it)");
            return ExitCodes.INTERNAL;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println("optls: " + e.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
            return ExitCodes.USAGE;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A mistake on the command line; the message says what to change. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Reads the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"optls " + (v == null ? "(development build)" : v)};
        }
    }
}
