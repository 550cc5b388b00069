package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.gateway.Gateway;
import dev.optls.gateway.Reasons;
import dev.optls.gateway.Route;
import dev.optls.netty.ServerEngines;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayCommandTest {
    @TempDir
    Path dir;

    @Test
    void checkPrintsTheRoutes() throws IOException {
        TestPki.create().issue("mail.example.test").writePem(dir, "mail");
        Path config = Files.writeString(dir.resolve("gateway.toml"), """
                [[route]]
                name = "imap"
                protocol = "imap"
                listen = "127.0.0.1:10143"
                connect = "127.0.0.1:143"
                certificate = "mail.crt"
                key = "mail.key"
                """);

        CliRun run = CliRun.of("gateway", "--config", config.toString(), "--check");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        assertThat(run.out())
                .contains("route imap: imap starttls on 127.0.0.1:10143 -> plaintext 127.0.0.1:143")
                .contains("configuration ok: 1 route");
    }

    @Test
    void checkPrintsOriginationRoutesWithTheirLevel() throws IOException {
        Path config = Files.writeString(dir.resolve("gateway.toml"), """
                [[route]]
                name = "to-mx"
                protocol = "smtp"
                listen = "127.0.0.1:2525"
                listen-tls = "none"
                connect = "127.0.0.1:25"
                connect-tls = "starttls"
                level = "encrypt"
                """);

        CliRun run = CliRun.of("gateway", "--config", config.toString(), "--check");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        assertThat(run.out())
                .contains("route to-mx: smtp none on 127.0.0.1:2525 -> starttls (level encrypt) 127.0.0.1:25");
    }

    @Test
    void helpDescribesOrigination() {
        CliRun run = CliRun.of("gateway", "--help");

        assertThat(run.out())
                .contains("connect-tls")
                .contains("level = \"verify\"")
                .contains("never plaintext");
    }

    @Test
    void badConfigurationSaysEveryProblemAndDoesNotStart() throws IOException {
        Path config = Files.writeString(dir.resolve("gateway.toml"), """
                [[route]]
                name = "x"
                protocol = "gopher"
                listen = "127.0.0.1:70"
                """);

        CliRun run = CliRun.of("gateway", "--config", config.toString());

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err())
                .contains("route \"x\" protocol: unknown protocol 'gopher'")
                .contains("route \"x\" connect: missing")
                .contains("route \"x\" certificate: missing")
                .contains("the gateway did not start (4 problems in " + config + ")");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void checkAcceptsTheGatewayTableAndLimits() throws IOException {
        TestPki.create().issue("mail.example.test").writePem(dir, "mail");
        Path config = Files.writeString(dir.resolve("gateway.toml"), """
                [gateway]
                drain-timeout = "5s"
                metrics = "127.0.0.1:9187"

                [[route]]
                name = "imap"
                protocol = "imap"
                listen = "127.0.0.1:10143"
                connect = "127.0.0.1:143"
                certificate = "mail.crt"
                key = "mail.key"
                max-connections = 100
                max-connections-per-client = 10
                """);

        CliRun run = CliRun.of("gateway", "--config", config.toString(), "--check");

        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        assertThat(run.out()).contains("configuration ok: 1 route");
    }

    @Test
    void logLinesNameTheReasonAndSummariseClosedSessions() {
        Credential credential = TestPki.create().issue("localhost");
        Route route = new Route(
                "imap",
                Protocol.IMAP,
                new Route.HostPort("127.0.0.1", 10143),
                Route.ListenTls.STARTTLS,
                new Route.HostPort("127.0.0.1", 143),
                ServerEngines.jdk(ServerTls.create(
                        credential.chain(), credential.privateKey(), Protocol.IMAP.alpn(), TlsProfile.modern())),
                "localhost",
                Duration.ofSeconds(5),
                Duration.ofSeconds(5));
        StringWriter text = new StringWriter();
        GatewayCommand.LogLines log = new GatewayCommand.LogLines(new PrintWriter(text));
        InetSocketAddress client = new InetSocketAddress("127.0.0.1", 40000);

        log.refused(
                route,
                client,
                new Failure(
                        Blame.POLICY,
                        FailureKind.LIMIT_EXCEEDED,
                        Phase.CONNECT,
                        "the route already has 2 connections open (max-connections)",
                        true));
        log.refused(route, client, Failure.peer(FailureKind.CONNECT_FAILED, Phase.CONNECT, "cannot connect"));
        log.closed(route, client, new Gateway.Closed(Duration.ofMillis(1500), 7, 23, Optional.of(Reasons.DRAIN_CUT)));
        log.closed(route, client, new Gateway.Closed(Duration.ofMillis(20), 1, 2, Optional.empty()));
        log.reloadFailed(route, Path.of("/etc/optls/mail.crt"), "no certificate in the \"PEM\" file");
        log.ftpRefused(route, client, Reasons.FTP_PROT_CLEAR, "PROT C refused: the \"route\" protects data");

        List<String> lines = text.toString().lines().toList();
        assertThat(lines).hasSize(6).allSatisfy(l -> assertThat(l).startsWith("time="));
        assertThat(lines.get(5))
                .endsWith("event=ftp-refused route=imap client=/127.0.0.1:40000 reason=ftp-prot-clear "
                        + "detail=\"PROT C refused: the 'route' protects data\"");
        assertThat(lines.get(0))
                .contains(
                        "event=refused route=imap client=/127.0.0.1:40000 reason=connection-limit kind=limit-exceeded")
                .contains("detail=\"the route already has 2 connections open (max-connections)\"");
        assertThat(lines.get(1)).contains("reason=backend-down");
        assertThat(lines.get(2))
                .endsWith("event=closed route=imap client=/127.0.0.1:40000 duration_ms=1500 bytes_from_client=7 "
                        + "bytes_to_client=23 reason=drain-cut");
        assertThat(lines.get(3)).endsWith("bytes_to_client=2").doesNotContain("reason=");
        assertThat(lines.get(4))
                .contains("event=reload-failed route=imap certificate=\"/etc/optls/mail.crt\"")
                .contains("kept the old certificate: no certificate in the 'PEM' file");
    }

    @Test
    void sighupCanBeHandledOnThisJvm() {
        assertThat(GatewayCommand.Hangup.onSignal(() -> {})).isTrue();
    }

    @Test
    void missingConfigFileIsAUsageError() {
        CliRun run = CliRun.of("gateway", "--config", dir.resolve("absent.toml").toString());

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("absent.toml").contains("cannot read the configuration");
    }
}
