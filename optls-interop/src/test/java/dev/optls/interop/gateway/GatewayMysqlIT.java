package dev.optls.interop.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Failure;
import dev.optls.gateway.ConfigLoader;
import dev.optls.gateway.Gateway;
import dev.optls.gateway.Route;
import dev.optls.interop.mysql.MariaDbServer;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.TestPki;
import dev.optls.tls.TlsSessionInfo;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The mariadb client through a MySQL STARTTLS route to a real MariaDB started with {@code --skip-ssl}: the
 * client requires TLS and verifies the gateway's certificate, logs in with a mysql_native_password user
 * against the backend's own scramble, and the backend sees a plaintext connection. A wrong password gets the
 * backend's ERR 1045; a plaintext client gets the gateway's ERR 3159 and its login never reaches the backend
 * (MariaDB's general log records every login attempt, sql_acl.cc acl_authenticate()).
 */
class GatewayMysqlIT {
    private static Path dir;
    private static Path ca;
    private static MariaDbServer mariadb;
    private static Gateway gateway;
    private static int port;
    private static final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Peers.requireCommand("mariadb", "mariadb-client");
        Peers.requireCommand("openssl", "openssl");
        dir = Files.createTempDirectory("optls-gateway-mysql");
        TestPki pki = TestPki.create();
        pki.leaf("localhost").ipAddresses("127.0.0.1").issue().writePem(dir, "gateway");
        ca = pki.writeCaPem(dir.resolve("ca.pem"));
        mariadb = MariaDbServer.start(MariaDbServer.Tls.NONE, null, null);
        // Every login attempt (successful or not) becomes a Connect row (sql_acl.cc acl_authenticate()).
        mariadb.sql("SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1;");
        port = Peers.freePort();
        gateway = Gateway.start(
                ConfigLoader.load(Files.writeString(dir.resolve("gateway.toml"), """
                        [[route]]
                        name = "mysql"
                        protocol = "mysql"
                        listen = "127.0.0.1:%d"
                        connect = "127.0.0.1:%d"
                        certificate = "gateway.crt"
                        key = "gateway.key"
                        """.formatted(port, mariadb.port()))),
                new Gateway.Events() {
                    @Override
                    public void relaying(Route route, SocketAddress client, TlsSessionInfo tls) {
                        events.add("relaying " + tls.protocolVersion());
                    }

                    @Override
                    public void refused(Route route, SocketAddress client, Failure failure) {
                        events.add("refused " + failure);
                    }
                });
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (mariadb != null) {
            mariadb.close();
        }
    }

    @BeforeEach
    void clearEvents() {
        events.clear();
    }

    /** The mariadb client through the gateway, requiring TLS and checking the certificate and its name. */
    private static Peers.CommandResult mariadb(String password, List<String> tls, String sql) {
        List<String> command = new ArrayList<>(List.of(
                "mariadb",
                "--no-defaults",
                "--protocol=TCP",
                "-h",
                "127.0.0.1",
                "-P",
                String.valueOf(port),
                "-u",
                MariaDbServer.USER,
                "--password=" + password,
                "--connect-timeout=10",
                "-N",
                "-B"));
        command.addAll(tls);
        command.addAll(List.of("-e", sql));
        return Peers.run(Duration.ofSeconds(30), null, command);
    }

    private static List<String> verifiedTls() {
        return List.of("--ssl", "--ssl-verify-server-cert", "--ssl-ca=" + ca);
    }

    /** Login attempts of the test user the backend has seen. */
    private static long loginsSeenByBackend() {
        return Long.parseLong(mariadb.sql("SELECT COUNT(*) FROM mysql.general_log WHERE command_type = 'Connect'"
                + " AND argument LIKE '" + MariaDbServer.USER + "@%'"));
    }

    @Test
    void mariadbClientWithVerifiedTlsQueriesThePlaintextBackend() {
        Peers.CommandResult r = mariadb(
                MariaDbServer.PASSWORD,
                verifiedTls(),
                "SELECT CONCAT('one=', 1, ' backend-cipher=[', VARIABLE_VALUE, ']') FROM"
                        + " information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'; \\s");
        String why = "mariadb --ssl-verify-server-cert → gateway → " + MariaDbServer.version() + " (--skip-ssl):\n"
                + r.output() + "\nevents " + events;
        assertThat(r.exitCode()).as(why).isZero();
        // TLS ends at the gateway: the backend's own session has no cipher...
        assertThat(r.output()).as(why).contains("one=1 backend-cipher=[]");
        // ...while the client's connection to the gateway is TLS.
        assertThat(r.output()).as(why).containsPattern("SSL:\\s+Cipher in use is TLS_");
        assertThat(mariadb.sql("SELECT argument FROM mysql.general_log WHERE command_type = 'Connect' AND argument"
                        + " LIKE '" + MariaDbServer.USER + "@%' ORDER BY event_time DESC LIMIT 1"))
                .as("the backend's log of the login")
                .endsWith("using TCP/IP");
        assertThat(events).as(why).containsExactly("relaying TLSv1.3");
    }

    @Test
    void wrongPasswordGetsTheBackendsAccessDenied() {
        Peers.CommandResult r = mariadb("not-the-password", verifiedTls(), "SELECT 1");
        String why = "wrong password through the gateway:\n" + r.output();
        assertThat(r.exitCode()).as(why).isNotZero();
        assertThat(r.output())
                .as(why)
                .contains("ERROR 1045 (28000)")
                .contains("Access denied for user '" + MariaDbServer.USER + "'@'127.0.0.1' (using password: YES)");
        // The backend answered the login: a relayed session.
        assertThat(events).as(why).containsExactly("relaying TLSv1.3");
    }

    @Test
    void openSslStartTlsMysqlVerifiesTheGateway() {
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(20),
                "",
                List.of(
                        "openssl",
                        "s_client",
                        "-connect",
                        "127.0.0.1:" + port,
                        "-starttls",
                        "mysql",
                        "-CAfile",
                        ca.toString(),
                        "-verify_return_error",
                        "-verify_ip",
                        "127.0.0.1",
                        "-brief"));
        assertThat(r.output())
                .as("openssl s_client -starttls mysql:\n" + r.output())
                .contains("Verification: OK");
    }

    @Test
    void plaintextClientIsRefusedAndItsLoginNeverReachesTheBackend() {
        long before = loginsSeenByBackend();
        Peers.CommandResult r = mariadb(MariaDbServer.PASSWORD, List.of("--skip-ssl"), "SELECT 1");
        String why = "mariadb --skip-ssl through the gateway:\n" + r.output() + "\nevents " + events;
        assertThat(r.exitCode()).as(why).isNotZero();
        assertThat(r.output())
                .as(why)
                .contains("ERROR 3159")
                .contains("Connections using insecure transport are prohibited");
        assertThat(loginsSeenByBackend())
                .as("logins in the backend's general log")
                .isEqualTo(before);
        assertThat(events).as(why).singleElement().satisfies(e -> assertThat(e).contains("refused", "ERR 3159"));
        // The log does record logins that reach the backend: the same client over TLS adds one.
        assertThat(mariadb(MariaDbServer.PASSWORD, verifiedTls(), "SELECT 1").exitCode())
                .isZero();
        assertThat(loginsSeenByBackend())
                .as("logins in the backend's general log")
                .isEqualTo(before + 1);
    }
}
