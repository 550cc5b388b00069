package dev.optls.cli;

import dev.optls.core.SecurityLevel;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.Timeouts;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code optls demo}: optls servers on loopback, probed at every level; needs nothing but the JDK. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Start optls servers for every protocol optls speaks on loopback with a throwaway CA"
                    + " (with STARTTLS, without it, and with implicit TLS), probe each at every level, and"
                    + " print what opportunistic TLS gives and what a required-TLS policy refuses."
        },
        footer = ExitCodes.HELP)
public final class DemoCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--keep-running", description = "print each server's address and keep them up until Ctrl-C")
    boolean keepRunning;

    @Option(names = "--json", description = "print the rows as a JSON array of probe reports with expectations")
    boolean json;

    /** One row of the demo table. */
    public record Row(
            String server,
            String level,
            String expected,
            String outcome,
            boolean satisfied,
            boolean asExpected,
            ProbeReport report) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (DemoServers demo = DemoServers.start()) {
            Path ca = demo.writeCa(Files.createTempFile("optls-demo-ca", ".pem"));
            ca.toFile().deleteOnExit();
            if (keepRunning) {
                out.println(
                        "optls demo servers (certificate for '" + DemoServers.SERVER_NAME + "', CA in " + ca + "):");
                for (DemoServers.Server s : demo.servers()) {
                    out.printf(
                            "  %-13s %-12s %s%n",
                            s.protocol().name().toLowerCase(Locale.ROOT),
                            s.kind().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                            s.uri());
                }
                out.println("Try: openssl s_client -starttls smtp -connect "
                        + demo.servers().get(0).uri().substring(7)
                        + " -CAfile " + ca + "   or   ./optls probe "
                        + demo.servers().get(0).uri() + " --ca " + ca
                        + " --servername localhost");
                out.println("Press Ctrl-C to stop.");
                out.flush();
                CountDownLatch forever = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown));
                forever.await();
                return ExitCodes.OK;
            }
            List<Row> rows = run(demo, TrustAnchors.fromPemFile(ca), err);
            if (json) {
                out.println(ProbeCommand.jsonMapper().writeValueAsString(rows));
            } else {
                out.print(table(rows));
            }
            out.flush();
            return rows.stream().allMatch(Row::asExpected) ? ExitCodes.OK : ExitCodes.DEMO_MISMATCH;
        }
    }

    static List<Row> run(DemoServers demo, TrustAnchors trust, PrintWriter progress) {
        List<Row> rows = new ArrayList<>();
        List<DemoServers.Server> servers = demo.servers();
        boolean interactive = System.console() != null;
        long implicit = servers.stream()
                .filter(s -> s.kind() == DemoServers.Kind.IMPLICIT)
                .count();
        long total = servers.size() * (long) SecurityLevel.values().length - implicit + 2;
        for (DemoServers.Server s : servers) {
            for (SecurityLevel level : SecurityLevel.values()) {
                if (s.kind() == DemoServers.Kind.IMPLICIT && level == SecurityLevel.NONE) {
                    continue;
                }
                rows.add(row(s, level, Optional.empty(), trust));
                if (interactive) {
                    progress.printf("\rprobing %d/%d", rows.size(), total);
                    progress.flush();
                }
            }
        }
        // The difference between encrypt and verify: a certificate for another name.
        DemoServers.Server smtp = servers.get(0);
        rows.add(row(smtp, SecurityLevel.ENCRYPT, Optional.of("wrong.example"), trust));
        rows.add(row(smtp, SecurityLevel.VERIFY, Optional.of("wrong.example"), trust));
        progress.printf(
                "%sprobed %d servers at every level (%d probes)%n",
                interactive ? "\r" : "", servers.size(), rows.size());
        progress.flush();
        return rows;
    }

    private static Row row(DemoServers.Server s, SecurityLevel level, Optional<String> wrongName, TrustAnchors trust) {
        String expected = expected(s.kind(), level, wrongName.isPresent());
        ProbeReport report = Prober.probe(
                Target.parse(s.uri()),
                new Prober.Options(
                        level,
                        trust,
                        Optional.of(wrongName.orElse(DemoServers.SERVER_NAME)),
                        "demo.client",
                        Timeouts.all(Duration.ofSeconds(10))));
        String label = s.uri().replace("://127.0.0.1:", " :") + " ("
                + s.kind().name().toLowerCase(Locale.ROOT).replace('_', '-')
                + (wrongName.isPresent() ? ", name " + wrongName.get() : "") + ")";
        boolean expectedSatisfied =
                !expected.equals("certificate-invalid") && !(level.requiresTls() && expected.startsWith("starttls"));
        return new Row(
                label,
                level.name().toLowerCase(Locale.ROOT),
                expected,
                report.outcome(),
                report.satisfied(),
                report.outcome().equals(expected) && report.satisfied() == expectedSatisfied,
                report);
    }

    static String expected(DemoServers.Kind kind, SecurityLevel level, boolean wrongName) {
        if (wrongName) {
            return level.verifiesCertificate() ? "certificate-invalid" : "tls";
        }
        if (level == SecurityLevel.NONE) {
            return "plaintext";
        }
        return kind == DemoServers.Kind.NO_STARTTLS ? "starttls-not-offered" : "tls";
    }

    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        String format = "%-46s %-8s %-21s %-9s %s%n";
        sb.append(String.format(format, "server", "level", "outcome", "policy", "as expected"));
        for (Row r : rows) {
            sb.append(String.format(
                    format,
                    r.server(),
                    r.level(),
                    r.outcome(),
                    r.satisfied() ? "ok" : "REFUSED",
                    r.asExpected() ? "yes" : "NO (expected " + r.expected() + ")"));
        }
        long refused = rows.stream().filter(r -> !r.satisfied()).count();
        long unexpected = rows.stream().filter(r -> !r.asExpected()).count();
        sb.append(String.format(
                "%n%d probes. Opportunistic TLS (may) used TLS wherever it was offered and fell back to plaintext"
                        + " otherwise;%nthe required-TLS levels (encrypt, verify) refused %d connections instead"
                        + " of continuing in plaintext or with a wrong certificate.%n%s%n",
                rows.size(),
                refused,
                unexpected == 0 ? "Every row is as expected." : unexpected + " row(s) NOT as expected."));
        return sb.toString();
    }
}
