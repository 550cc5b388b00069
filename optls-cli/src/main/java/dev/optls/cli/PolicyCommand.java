package dev.optls.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code optls policy}: the outbound mail TLS policy (DANE, MTA-STS, local rules) as a Postfix service and for people. */
@Command(
        name = "policy",
        mixinStandardHelpOptions = true,
        description = {
            "Outbound mail TLS policy per destination domain: DANE (RFC 7672) over MTA-STS (RFC 8461) over local"
                    + " rules, opportunistic TLS otherwise.",
            "  serve   answer Postfix's smtp_tls_policy_maps over socketmap",
            "  query   show the plan for domains, and the answer Postfix would get"
        },
        subcommands = {PolicyServeCommand.class, PolicyQueryCommand.class, CommandLine.HelpCommand.class},
        footer = ExitCodes.HELP)
final class PolicyCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
