package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.testkit.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    void missingConfigFileIsAUsageError() {
        CliRun run = CliRun.of("gateway", "--config", dir.resolve("absent.toml").toString());

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("absent.toml").contains("cannot read the configuration");
    }
}
