package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificate() {
        Credential credential = TestPki.create().issue("mail.example.test");
        credential.writePem(dir, "mail");
    }

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

    private static final String GOOD = """
            [[route]]
            name = "submission"
            protocol = "submission"
            listen = "127.0.0.1:10587"
            connect = "127.0.0.1:587"
            certificate = "mail.crt"
            key = "mail.key"
            hostname = "mail.example.test"
            reply-timeout = "30s"
            handshake-timeout = "500ms"

            [[route]]
            name = "imaps"
            protocol = "imap"
            listen = "[::1]:10993"
            listen-tls = "implicit"
            connect = "127.0.0.1:143"
            certificate = "mail.crt"
            key = "mail.key"
            """;

    @Test
    void readsRoutesWithDefaults() throws Exception {
        GatewayConfig config = parse(GOOD);

        assertThat(config.routes()).hasSize(2);
        Route submission = config.routes().get(0);
        assertThat(submission.protocol()).isEqualTo(Protocol.SUBMISSION);
        assertThat(submission.listen()).isEqualTo(new Route.HostPort("127.0.0.1", 10587));
        assertThat(submission.listenTls()).isEqualTo(Route.ListenTls.STARTTLS);
        assertThat(submission.replyTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(submission.handshakeTimeout()).isEqualTo(Duration.ofMillis(500));
        Route imaps = config.routes().get(1);
        assertThat(imaps.listen()).isEqualTo(new Route.HostPort("::1", 10993));
        assertThat(imaps.listenTls()).isEqualTo(Route.ListenTls.IMPLICIT);
        assertThat(imaps.hostname()).isEqualTo("localhost");
        assertThat(imaps.replyTimeout()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void reportsEveryProblemWithRouteKeyAndFix() {
        List<String> problems = problems("""
                [[route]]
                name = "a"
                protocol = "mysql"
                listen = "127.0.0.1"
                connect = "127.0.0.1:3306"
                connect-tls = "starttls"
                certificate = "missing.pem"
                key = "mail.key"
                colour = "blue"

                [[route]]
                name = "b"
                protocol = "smtp"
                listen-tls = "implicit"
                listen = "127.0.0.1:465"
                connect-tls = "starttls"
                certificate = "mail.crt"
                key = "mail.key"
                reply-timeout = "soon"
                engine = "openssl3"
                """);

        assertThat(problems)
                .anySatisfy(p -> assertThat(p).startsWith("gateway.toml: route \"a\" colour: unknown key"))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"a\" connect-tls: the gateway cannot originate TLS for mysql")
                        .contains("scramble"))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"a\" listen: '127.0.0.1' is not HOST:PORT")
                        .contains("127.0.0.1:2525"))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"a\" certificate: cannot use")
                        .contains("missing.pem"))
                .anySatisfy(p -> assertThat(p).contains("route \"b\" connect: missing"))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"b\" listen-tls: smtp has no implicit-TLS form")
                        .contains("protocol = \"submission\""))
                .anySatisfy(p -> assertThat(p).contains("route \"b\" reply-timeout: 'soon' is not a duration"))
                .anySatisfy(p -> assertThat(p).contains("route \"b\" engine: unknown engine 'openssl3'"));
    }

    @Test
    void readsOriginationAndTranslationRoutes() throws Exception {
        GatewayConfig config = parse("""
                [[route]]
                name = "to-mx"
                protocol = "smtp"
                listen = "127.0.0.1:2525"
                listen-tls = "none"
                connect = "mx.example.test:25"
                connect-tls = "starttls"
                ca = "mail.crt"

                [[route]]
                name = "imap-to-imaps"
                protocol = "imap"
                listen = "127.0.0.1:10143"
                connect = "127.0.0.1:993"
                connect-tls = "implicit"
                level = "encrypt"
                server-name = "imap.example.test"
                certificate = "mail.crt"
                key = "mail.key"

                [[route]]
                name = "pop3s-to-pop3"
                protocol = "pop3"
                listen = "127.0.0.1:10995"
                listen-tls = "implicit"
                connect = "127.0.0.1:110"
                connect-tls = "starttls"
                level = "may"
                certificate = "mail.crt"
                key = "mail.key"
                """);

        Route mx = config.routes().get(0);
        assertThat(mx.listenTls()).isEqualTo(Route.ListenTls.NONE);
        assertThat(mx.tls()).isNull();
        assertThat(mx.upstream().mode()).isEqualTo(Route.ConnectTls.STARTTLS);
        assertThat(mx.upstream().level()).isEqualTo(SecurityLevel.VERIFY);
        assertThat(mx.upstream().tls().orElseThrow().serverName().value()).isEqualTo("mx.example.test");
        Route imap = config.routes().get(1);
        assertThat(imap.listenTls()).isEqualTo(Route.ListenTls.STARTTLS);
        assertThat(imap.upstream().mode()).isEqualTo(Route.ConnectTls.IMPLICIT);
        assertThat(imap.upstream().level()).isEqualTo(SecurityLevel.ENCRYPT);
        assertThat(imap.upstream().tls().orElseThrow().serverName().value()).isEqualTo("imap.example.test");
        Route pop3 = config.routes().get(2);
        assertThat(pop3.listenTls()).isEqualTo(Route.ListenTls.IMPLICIT);
        assertThat(pop3.upstream().level()).isEqualTo(SecurityLevel.MAY);
    }

    @Test
    void unsupportedPairsAndUpstreamKeysAreRefusedNamingTheRoute() {
        List<String> problems = problems("""
                [[route]]
                name = "plain"
                protocol = "imap"
                listen = "127.0.0.1:10143"
                listen-tls = "none"
                connect = "127.0.0.1:143"
                level = "verify"

                [[route]]
                name = "sieve"
                protocol = "sieve"
                listen = "127.0.0.1:14190"
                listen-tls = "none"
                connect = "127.0.0.1:4190"
                connect-tls = "starttls"
                certificate = "mail.crt"

                [[route]]
                name = "smtps"
                protocol = "smtp"
                listen = "127.0.0.1:2526"
                listen-tls = "none"
                connect = "127.0.0.1:465"
                connect-tls = "implicit"
                level = "strict"
                ca = "missing-ca.pem"

                [[route]]
                name = "odd"
                protocol = "pop3"
                listen = "127.0.0.1:2527"
                listen-tls = "none"
                connect = "127.0.0.1:110"
                connect-tls = "tls"
                """);

        assertThat(problems)
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"plain\" connect-tls: the route adds no TLS")
                        .contains("connect-tls = \"starttls\""))
                .anySatisfy(p ->
                        assertThat(p).contains("route \"plain\" level: only used when the gateway connects with TLS"))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"sieve\" connect-tls: the gateway cannot originate TLS for sieve")
                        .contains("RFC 5804"))
                .anySatisfy(
                        p -> assertThat(p).contains("route \"sieve\" certificate: a route with listen-tls = \"none\""))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"smtps\" connect-tls: smtp has no implicit-TLS form")
                        .contains("submission"))
                .anySatisfy(p -> assertThat(p).contains("route \"smtps\" level: unknown level 'strict'"))
                .anySatisfy(p ->
                        assertThat(p).contains("route \"smtps\" ca: cannot use").contains("missing-ca.pem"))
                .anySatisfy(p -> assertThat(p).contains("route \"odd\" connect-tls: unknown value 'tls'"));
    }

    @Test
    void duplicateNamesAndPortsAreRefused() {
        String route = """
                [[route]]
                name = "same"
                protocol = "pop3"
                listen = "127.0.0.1:10995"
                connect = "127.0.0.1:110"
                certificate = "mail.crt"
                key = "mail.key"
                """;

        assertThat(problems(route + "\n" + route))
                .anySatisfy(p -> assertThat(p).contains("route \"same\" name: the name is used by another route"))
                .anySatisfy(p -> assertThat(p).contains("route \"same\" listen: 127.0.0.1:10995 is also"));
    }

    @Test
    void syntaxErrorsNameTheLine() {
        assertThat(problems("[[route]]\nname = \"x\nprotocol = 1\n"))
                .singleElement()
                .satisfies(p -> assertThat(p).startsWith("gateway.toml: line ").contains("not valid TOML"));
    }

    @Test
    void emptyFileNeedsARoute() {
        assertThat(problems("# nothing\n"))
                .singleElement()
                .satisfies(p -> assertThat(p).contains("no routes"));
        assertThat(problems("[server]\nport = 1\n"))
                .anySatisfy(p -> assertThat(p).contains("server: unknown top-level key"));
    }

    @Test
    void readsGatewaySettingsAndLimits() throws Exception {
        GatewayConfig config = parse(GOOD.replace("handshake-timeout = \"500ms\"", """
                handshake-timeout = "500ms"
                max-connections = 300
                max-connections-per-client = 20""") + """

                [gateway]
                drain-timeout = "0s"
                metrics = "127.0.0.1:9187"
                certificate-check = "2s"
                """);

        assertThat(config.settings().drainTimeout()).isZero();
        assertThat(config.settings().metrics()).contains(new Route.HostPort("127.0.0.1", 9187));
        assertThat(config.settings().certificateCheck()).isEqualTo(Duration.ofSeconds(2));
        GatewayConfig.Operations submission = config.operations(config.routes().get(0));
        assertThat(submission.maxConnections()).isEqualTo(300);
        assertThat(submission.maxConnectionsPerClient()).isEqualTo(20);
        assertThat(submission.certificateFiles().orElseThrow().chain()).isEqualTo(dir.resolve("mail.crt"));
        assertThat(submission.certificateFiles().orElseThrow().key()).isEqualTo(dir.resolve("mail.key"));
        GatewayConfig.Operations imaps = config.operations(config.routes().get(1));
        assertThat(imaps.maxConnections()).isEqualTo(GatewayConfig.Operations.DEFAULT_MAX_CONNECTIONS);
        assertThat(imaps.maxConnectionsPerClient())
                .isEqualTo(GatewayConfig.Operations.DEFAULT_MAX_CONNECTIONS_PER_CLIENT);
        assertThat(parse(GOOD).settings()).isEqualTo(GatewayConfig.Settings.DEFAULT);
    }

    @Test
    void badLimitsAndGatewaySettingsAreEachAProblem() {
        List<String> problems = problems(
                GOOD.replace("handshake-timeout = \"500ms\"", """
                        max-connections = "many"
                        max-connections-per-client = 0""").replace("listen-tls = \"implicit\"", """
                        listen-tls = "implicit"
                        max-connections = 10
                        max-connections-per-client = 50""") + """

                [gateway]
                drain-timeout = "forever"
                metrics = "9187"
                certificate-check = "0s"
                reload = true
                """);

        assertThat(problems)
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"submission\" max-connections: 'many' is not a number of connections")
                        .contains("without quotes"))
                .anySatisfy(p ->
                        assertThat(p).contains("route \"submission\" max-connections-per-client: '0' is not a number"))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"imaps\" max-connections-per-client: 50 is more than the route's "
                                + "max-connections (10)"))
                .anySatisfy(p -> assertThat(p).contains("[gateway] drain-timeout: 'forever' is not a duration"))
                .anySatisfy(p -> assertThat(p).contains("[gateway] metrics: '9187' is not HOST:PORT"))
                .anySatisfy(p -> assertThat(p)
                        .contains("[gateway] certificate-check: '0s' is not a duration")
                        .contains("more than 0"))
                .anySatisfy(p -> assertThat(p)
                        .contains("[gateway] reload: unknown key")
                        .contains("drain-timeout, metrics, certificate-check"))
                .hasSize(7);
    }

    @Test
    void unreadableFileSaysWhichPath() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.toml")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("nope.toml")
                .hasMessageContaining("--config");
    }

    @Test
    void ftpRoutesTerminateTlsButOriginateNothingAndTakeNoProxyHeaders() throws Exception {
        GatewayConfig config = parse("""
                [[route]]
                name = "ftp"
                protocol = "ftp"
                listen = "127.0.0.1:10021"
                connect = "127.0.0.1:21"
                certificate = "mail.crt"
                key = "mail.key"

                [[route]]
                name = "ftps"
                protocol = "ftp"
                listen-tls = "implicit"
                listen = "127.0.0.1:10990"
                connect = "127.0.0.1:21"
                certificate = "mail.crt"
                key = "mail.key"
                """);
        assertThat(config.routes()).extracting(Route::protocol).containsExactly(Protocol.FTP, Protocol.FTP);
        assertThat(config.routes().get(1).listenTls()).isEqualTo(Route.ListenTls.IMPLICIT);

        assertThat(problems("""
                        [[route]]
                        name = "up"
                        protocol = "ftp"
                        listen-tls = "none"
                        listen = "127.0.0.1:10021"
                        connect = "127.0.0.1:21"
                        connect-tls = "starttls"
                        """))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"up\" connect-tls: the gateway cannot originate TLS for ftp")
                        .contains("data connection"));
        assertThat(problems("""
                        [[route]]
                        name = "lb"
                        protocol = "ftp"
                        listen = "127.0.0.1:10021"
                        connect = "127.0.0.1:21"
                        certificate = "mail.crt"
                        key = "mail.key"
                        accept-proxy-protocol = true
                        proxy-protocol = "v2"
                        """))
                .anySatisfy(p -> assertThat(p)
                        .contains("route \"lb\" accept-proxy-protocol")
                        .contains("passive ports"))
                .anySatisfy(p ->
                        assertThat(p).contains("route \"lb\" proxy-protocol").contains("refuse them"));
    }
}
