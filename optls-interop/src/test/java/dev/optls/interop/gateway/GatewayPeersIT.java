package dev.optls.interop.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Protocol;
import dev.optls.gateway.ConfigLoader;
import dev.optls.gateway.Gateway;
import dev.optls.interop.ldap.SlapdServer;
import dev.optls.interop.peers.DovecotServer;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.postgres.PostgresDaemon;
import dev.optls.testkit.TestPki;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.contract.AdapterContract;
import dev.optls.tls.contract.BlockingPeer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * More real clients through the gateway to plaintext backends: ldapsearch -ZZ to slapd, psql to
 * PostgreSQL, fetchmail to Dovecot POP3, and openssl s_client -starttls for every protocol the gateway
 * terminates (backends: our blocking servers without TLS).
 */
class GatewayPeersIT {
    /** The protocols the gateway terminates, with openssl's -starttls name. */
    private static final Map<Protocol, String> OPENSSL = new LinkedHashMap<>();

    static {
        OPENSSL.put(Protocol.SMTP, "smtp");
        OPENSSL.put(Protocol.SUBMISSION, "smtp");
        OPENSSL.put(Protocol.LMTP, "lmtp");
        OPENSSL.put(Protocol.IMAP, "imap");
        OPENSSL.put(Protocol.POP3, "pop3");
        OPENSSL.put(Protocol.SIEVE, "sieve");
        OPENSSL.put(Protocol.NNTP, "nntp");
        OPENSSL.put(Protocol.IRC, "irc");
        OPENSSL.put(Protocol.LDAP, "ldap");
        OPENSSL.put(Protocol.POSTGRES, "postgres");
        OPENSSL.put(Protocol.XMPP, "xmpp");
        OPENSSL.put(Protocol.XMPP_SERVER, "xmpp-server");
    }

    private static Path dir;
    private static Path ca;
    private static SlapdServer slapd;
    private static PostgresDaemon postgres;
    private static DovecotServer dovecot;

    @BeforeAll
    static void start() throws IOException {
        Peers.requireCommand("ldapsearch", "ldap-utils");
        Peers.requireCommand("psql", "postgresql-client");
        Peers.requireCommand("fetchmail", "fetchmail");
        Peers.requireCommand("openssl", "openssl");
        dir = Files.createTempDirectory("optls-gateway-peers");
        TestPki pki = TestPki.create();
        pki.leaf("localhost").ipAddresses("127.0.0.1").issue().writePem(dir, "gateway");
        ca = pki.writeCaPem(dir.resolve("ca.pem"));
        slapd = SlapdServer.start(SlapdServer.Tls.NONE, null, null, null);
        postgres = PostgresDaemon.start(PostgresDaemon.Access.NO_TLS, null);
        dovecot = DovecotServer.builder().tls(PeerTls.NONE).start();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {slapd, postgres, dovecot}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // the next one still has to stop
                }
            }
        }
    }

    /** One STARTTLS route named after the protocol, listening on a free port. */
    private static Gateway gateway(String protocol, int listen, int backend) throws Exception {
        return Gateway.start(
                ConfigLoader.load(Files.writeString(dir.resolve(protocol + "-" + listen + ".toml"), """
                        [[route]]
                        name = "%s"
                        protocol = "%s"
                        listen = "127.0.0.1:%d"
                        connect = "127.0.0.1:%d"
                        certificate = "gateway.crt"
                        key = "gateway.key"
                        """.formatted(
                                protocol, protocol, listen, backend))),
                new Gateway.Events() {});
    }

    /** The port the (single-route) gateway listens on. */
    private static int listening(Gateway g) {
        return g.boundAddresses().values().iterator().next().getPort();
    }

    @Test
    void ldapsearchWithStartTlsRequiredReadsSlapdsRootDse() throws Exception {
        int port = Peers.freePort();
        try (Gateway g = gateway("ldap", port, slapd.port())) {
            Peers.CommandResult r = Peers.run(
                    Duration.ofSeconds(20),
                    null,
                    List.of(
                            "env",
                            "LDAPTLS_CACERT=" + ca,
                            "ldapsearch",
                            "-ZZ",
                            "-H",
                            "ldap://127.0.0.1:" + listening(g),
                            "-x",
                            "-b",
                            "",
                            "-s",
                            "base",
                            "namingContexts"));
            String why = "ldapsearch -ZZ → gateway → " + SlapdServer.version() + " (no TLS):\n" + r.output();
            assertThat(r.exitCode()).as(why).isZero();
            assertThat(r.output())
                    .as(why)
                    .contains("namingContexts: " + SlapdServer.SUFFIX)
                    .contains("result: 0 Success");
        }
    }

    @Test
    void psqlVerifyFullQueriesPostgres() throws Exception {
        int port = Peers.freePort();
        try (Gateway g = gateway("postgres", port, postgres.port())) {
            Peers.CommandResult r = Peers.run(
                    Duration.ofSeconds(20),
                    null,
                    List.of(
                            "psql",
                            "-X",
                            "-w",
                            "-A",
                            "-t",
                            "-c",
                            "select 'over-tls:' || ssl::text from pg_stat_ssl where pid = pg_backend_pid()",
                            "host=localhost hostaddr=127.0.0.1 port=" + listening(g) + " user=" + PostgresDaemon.USER
                                    + " dbname=postgres sslmode=verify-full sslrootcert=" + ca));
            String why = "psql → gateway → " + PostgresDaemon.version() + " (ssl=off):\n" + r.output();
            assertThat(r.exitCode()).as(why).isZero();
            // TLS ends at the gateway: the backend itself sees a plaintext connection.
            assertThat(r.output().strip()).as(why).isEqualTo("over-tls:false");
        }
    }

    @Test
    void fetchmailRequiresStlsAndLogsInToDovecot() throws Exception {
        int port = Peers.freePort();
        try (Gateway g = gateway("pop3", port, dovecot.pop3Port())) {
            Path home = Files.createDirectories(dir.resolve("fetchmail"));
            Path rc = home.resolve("fetchmailrc");
            Files.writeString(
                    rc,
                    "poll 127.0.0.1 port " + listening(g) + " proto pop3 user \"" + DovecotServer.USER
                            + "\" password \""
                            + DovecotServer.PASSWORD
                            + "\" sslproto \"tls1.2+\" sslcommonname \"localhost\" sslcertck sslcertfile \"" + ca
                            + "\"\n");
            Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rw-------"));
            Peers.CommandResult r = Peers.run(
                    Duration.ofSeconds(30),
                    null,
                    List.of("env", "FETCHMAILHOME=" + home, "fetchmail", "--check", "-v", "-f", rc.toString()));
            String why = "fetchmail → gateway → Dovecot " + DovecotServer.version() + " POP3 (no TLS):\n" + r.output();
            // fetchmail exits 1 for "no mail", which is what an empty mailbox gives after a successful login.
            assertThat(r.exitCode()).as(why).isIn(0, 1);
            assertThat(r.output()).as(why).contains("POP3> STLS", "upgrade to TLS succeeded");
            // After TLS: Dovecot's own capabilities and login, through the relay.
            assertThat(r.output()).as(why).contains("POP3< SASL PLAIN LOGIN", "POP3< +OK Logged in.");
        }
    }

    @Test
    void openSslVerifiesTheGatewayForEveryProtocolItTerminates() throws Exception {
        List<String> failures = new ArrayList<>();
        for (Map.Entry<Protocol, String> e : OPENSSL.entrySet()) {
            Protocol protocol = e.getKey();
            AdapterContract.Server backend = BlockingPeer.serveOnce(
                    protocol,
                    AdapterContract.plaintextOptions(protocol),
                    Optional.empty(),
                    AdapterContract.handler(protocol),
                    false,
                    Timeouts.all(Duration.ofSeconds(10)));
            int port = Peers.freePort();
            try (Gateway g = gateway(protocol.scheme(), port, backend.port())) {
                List<String> command = new ArrayList<>(List.of(
                        "openssl",
                        "s_client",
                        "-connect",
                        "127.0.0.1:" + listening(g),
                        "-starttls",
                        e.getValue(),
                        "-CAfile",
                        ca.toString(),
                        "-verify_return_error",
                        "-verify_ip",
                        "127.0.0.1",
                        "-brief"));
                if (protocol == Protocol.XMPP || protocol == Protocol.XMPP_SERVER) {
                    command.addAll(List.of("-xmpphost", "localhost"));
                }
                Peers.CommandResult r = Peers.run(Duration.ofSeconds(20), "", command);
                if (!r.output().contains("Verification: OK")) {
                    failures.add(protocol + ":\n" + r.output());
                }
            }
            backend.outcome().get(10, TimeUnit.SECONDS);
        }
        assertThat(failures)
                .as("openssl s_client -starttls through the gateway")
                .isEmpty();
    }
}
