package dev.optls.cli;

import dev.optls.core.SecurityLevel;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.tls.TlsConfigException;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.Timeouts;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code optls probe mail DOMAIN}: a mail domain's MX hosts, their STARTTLS, DANE, MTA-STS, TLS-RPT and a verdict. */
@Command(
        name = "mail",
        mixinStandardHelpOptions = true,
        description = {
            "Probe a mail domain as a sending MTA sees it: the MX hosts (with the DNSSEC status of the MX RRset), each"
                    + " host's addresses, STARTTLS, TLS version and cipher, certificate (WebPKI validity and name),"
                    + " DANE (TLSA records with their DNSSEC status and the match result per record), MTA-STS (record,"
                    + " policy fetched fresh, mode, whether each MX is listed), the TLS-RPT record, and one verdict.",
            "",
            "Each MX host gets one STARTTLS session to its first address at level may, which sees everything and"
                    + " enforces nothing; no mail is sent."
        },
        footer = ExitCodes.HELP)
public final class MailProbeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "the mail domain, e.g. example.org")
    String domain;

    @Mixin
    PolicyOptions policy;

    @Option(
            names = "--ca",
            paramLabel = "FILE",
            description = "PEM file of CA certificates the MX certificates are checked against (default: the JDK's)")
    Path ca;

    @Option(
            names = "--ehlo",
            paramLabel = "NAME",
            defaultValue = "localhost",
            description = "EHLO name (default: ${DEFAULT-VALUE})")
    String ehlo;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "30",
            description = "limit for connect, each reply, and the handshake (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(
            names = "--port",
            paramLabel = "[HOST=]PORT",
            description = "FOR TESTS ONLY: connect to PORT instead of 25 (for every MX host, or for HOST); only"
                    + " loopback addresses are then connected to. Repeatable.")
    List<String> ports = new ArrayList<>();

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (timeoutSeconds <= 0) {
            throw new Main.UsageException("--timeout must be a positive number of seconds");
        }
        DnsResolver dns = policy.resolver();
        MailProber.Options options = new MailProber.Options(
                dns,
                Optional.of(policy.fetcher(dns)),
                trust(ca),
                ehlo,
                Timeouts.all(Duration.ofSeconds(timeoutSeconds)),
                portOverride(ports),
                !ports.isEmpty(),
                SecurityLevel.MAY,
                spec.commandLine().getErr());
        MailProbeReport report = MailProber.probeMail(domainName(domain), options);
        print(report, json);
        return MailProber.exitCode(report);
    }

    void print(MailProbeReport report, boolean asJson) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (asJson) {
            out.println(ProbeCommand.jsonMapper().writeValueAsString(report));
        } else {
            out.print(MailTextReport.render(report));
        }
        out.flush();
    }

    static TrustAnchors trust(Path ca) {
        try {
            return ca == null ? TrustAnchors.jdkDefault() : TrustAnchors.fromPemFile(ca);
        } catch (TlsConfigException e) {
            throw new Main.UsageException("--ca: " + e.getMessage());
        }
    }

    static String domainName(String text) {
        String d = text.toLowerCase(Locale.ROOT);
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        if (d.isEmpty() || !d.matches("[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")) {
            throw new Main.UsageException("'" + text + "' is not a domain name: give the mail domain, e.g."
                    + " example.org (A-labels for internationalized names)");
        }
        return d;
    }

    /** {@code --port PORT} and {@code --port HOST=PORT} as a function of the MX host. */
    static ToIntFunction<String> portOverride(List<String> values) {
        Map<String, Integer> byHost = new HashMap<>();
        int all = 25;
        for (String value : values) {
            int eq = value.indexOf('=');
            int port = parsePort(eq < 0 ? value : value.substring(eq + 1));
            if (port < 0) {
                throw new Main.UsageException(
                        "--port wants PORT or HOST=PORT with a port 1..65535, e.g. 2525 or mx1.example.test=2525; got '"
                                + value + "'");
            }
            if (eq < 0) {
                all = port;
            } else {
                byHost.put(domainName(value.substring(0, eq)), port);
            }
        }
        int fallback = all;
        return host -> byHost.getOrDefault(host, fallback);
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            return port >= 1 && port <= 65535 ? port : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
