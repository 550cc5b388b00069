package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.netty.ServerEngines;
import dev.optls.testkit.TestPki;
import io.netty.handler.ssl.OpenSsl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration of a route's SNI certificates and of shared session ticket keys. */
class ConfigCertificatesTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void files() throws Exception {
        TestPki pki = TestPki.create();
        pki.issue("mail.example.test").writePem(dir, "mail");
        pki.issue("imap.example.test").writePem(dir, "imap");
        pki.issue("other.example.test", "mail.example.test").writePem(dir, "twin");
        Files.writeString(dir.resolve("tickets.keys"), Base64.getEncoder().encodeToString(new byte[48]) + "\n");
        Files.writeString(dir.resolve("bad.keys"), "short\n");
    }

    private static final String ROUTE = """
            [[route]]
            name = "imaps"
            protocol = "imap"
            listen = "127.0.0.1:10993"
            listen-tls = "implicit"
            connect = "127.0.0.1:143"
            certificate = "mail.crt"
            key = "mail.key"
            """;

    private static GatewayConfig parse(String toml) throws ConfigException {
        return ConfigLoader.parse(toml, "gateway.toml", dir);
    }

    private static List<String> problems(String toml) {
        try {
            parse(toml);
        } catch (ConfigException e) {
            return e.problems().stream().map(ConfigException.Problem::toString).toList();
        }
        throw new AssertionError("the configuration was accepted");
    }

    @Test
    void sniCertificatesAreReadAndSelectedByTheirNames() throws Exception {
        GatewayConfig config = parse(ROUTE + "certificates = [ { certificate = \"imap.crt\", key = \"imap.key\" } ]\n");

        Route route = config.routes().get(0);
        assertThat(route.certificates().fallback()).isSameAs(route.tls());
        assertThat(route.certificates().select(Optional.of("imap.example.test")))
                .isNotSameAs(route.tls());
        assertThat(route.certificates().select(Optional.of("mail.example.test")))
                .isSameAs(route.tls());
        assertThat(config.operations(route).sniCertificateFiles())
                .containsExactly(new GatewayConfig.CertificateFiles(dir.resolve("imap.crt"), dir.resolve("imap.key")));
    }

    @Test
    void eachBadCertificateEntryIsAProblemNamingTheEntry() {
        List<String> problems = problems(ROUTE + """
                certificates = [
                  { certificate = "imap.crt", key = "imap.key" },
                  { certificate = "missing.crt", key = "imap.key" },
                  { certificate = "imap.crt", key = "mail.key" },
                  { certificate = "twin.crt", key = "twin.key", colour = "blue" },
                  "imap.crt",
                ]
                """);

        assertThat(problems)
                .anySatisfy(p -> assertThat(p)
                        .startsWith("gateway.toml: route \"imaps\" certificates[2] certificate: cannot use")
                        .contains("missing.crt"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("gateway.toml: route \"imaps\" certificates[3] certificate: cannot use")
                        .contains("mail.key"))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"imaps\" certificates[4] certificate: the name mail.example.test is also "
                                + "in the certificate of certificate")
                        .contains("give each host name to one certificate"))
                .anySatisfy(p -> assertThat(p).contains("route \"imaps\" certificates[4] colour: unknown key"))
                .anySatisfy(p -> assertThat(p).contains("route \"imaps\" certificates[5]: not a table"));
    }

    @Test
    void certificatesNeedTlsClientsAndAList() {
        assertThat(problems(ROUTE + "certificates = \"imap.crt\"\n"))
                .anySatisfy(p -> assertThat(p).contains("route \"imaps\" certificates: must be a list of tables"));
        assertThat(problems("""
                        [[route]]
                        name = "out"
                        protocol = "smtp"
                        listen = "127.0.0.1:2525"
                        listen-tls = "none"
                        connect = "127.0.0.1:25"
                        connect-tls = "starttls"
                        certificates = [ { certificate = "imap.crt", key = "imap.key" } ]
                        ticket-keys = "tickets.keys"
                        """))
                .anySatisfy(
                        p -> assertThat(p).contains("route \"out\" certificates: a route with listen-tls = \"none\""))
                .anySatisfy(
                        p -> assertThat(p).contains("route \"out\" ticket-keys: a route with listen-tls = \"none\""));
    }

    @Test
    void ticketKeysWithTheJdkEngineAreRefusedWithTheFix() {
        assertThat(problems(ROUTE + "engine = \"jdk\"\nticket-keys = \"tickets.keys\"\n"))
                .singleElement()
                .satisfies(p -> assertThat(p)
                        .startsWith("gateway.toml: route \"imaps\" ticket-keys: session ticket keys need the BoringSSL")
                        .contains("set engine = \"boringssl\""));
        // The [gateway] table's file applies to every route with TLS clients; the message names the route.
        assertThat(problems(ROUTE + "engine = \"jdk\"\n[gateway]\nticket-keys = \"tickets.keys\"\n"))
                .singleElement()
                .satisfies(p -> assertThat(p).startsWith("gateway.toml: [gateway] ticket-keys: for route \"imaps\":"));
    }

    @Test
    void ticketKeysAreReadWithTheBoringSslEngine() throws Exception {
        if (!OpenSsl.isAvailable()) {
            assertThat(problems(ROUTE + "engine = \"boringssl\"\nticket-keys = \"tickets.keys\"\n"))
                    .anySatisfy(p -> assertThat(p).contains("BoringSSL"));
            return;
        }
        GatewayConfig config = parse(ROUTE
                + "engine = \"boringssl\"\ncertificates = [ { certificate = \"imap.crt\", key = \"imap.key\" } ]\n"
                + "[gateway]\nticket-keys = \"tickets.keys\"\n");
        Route route = config.routes().get(0);
        assertThat(route.tls().provider()).isEqualTo(ServerEngines.Provider.BORINGSSL);
        assertThat(config.operations(route).ticketKeys()).contains(dir.resolve("tickets.keys"));

        assertThat(problems(ROUTE + "engine = \"boringssl\"\nticket-keys = \"bad.keys\"\n"))
                .singleElement()
                .satisfies(p -> assertThat(p)
                        .contains("route \"imaps\" ticket-keys:")
                        .contains("bad.keys line 1")
                        .contains("head -c 48 /dev/urandom | base64"));
    }
}
