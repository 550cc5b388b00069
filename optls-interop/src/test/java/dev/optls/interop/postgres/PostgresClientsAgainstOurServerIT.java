package dev.optls.interop.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real PostgreSQL clients against optls's {@link StartTlsServer} speaking {@link Protocol#POSTGRES}: psql
 * with {@code sslmode=verify-full} gets through SSLRequest and TLS (chain and host name checked) and its
 * StartupMessage arrives over TLS, where a small responder answers FATAL; {@code openssl s_client
 * -starttls postgres} verifies; psql with {@code sslmode=require} fails against a server without TLS; a
 * plaintext startup against a TLS-required server gets FATAL 28000; and a StartupMessage injected with the
 * SSLRequest in one write is never answered in plaintext.
 */
class PostgresClientsAgainstOurServerIT {
    /** What our responder answers to every StartupMessage, over TLS. */
    static final String RESPONDER_MESSAGE = "optls test responder";

    private static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));

    private static TestPki pki;
    private static Credential credential;
    private static Peers.PeerDirectory dir;
    private static Path caPem;
    private static String psqlVersion;
    private static String opensslVersion;

    private ServerSocket listener;

    @BeforeAll
    static void setUp() {
        Peers.requireCommand("psql", "postgresql-client");
        Peers.requireCommand("openssl", "openssl");
        psqlVersion = Peers.run(Duration.ofSeconds(10), "psql", "--version")
                .orThrow()
                .output()
                .trim();
        opensslVersion = Peers.run(Duration.ofSeconds(10), "openssl", "version")
                .orThrow()
                .output()
                .trim();
        pki = TestPki.create();
        credential = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        dir = Peers.tempDir("postgres-ourserver");
        caPem = pki.writeCaPem(dir.resolve("ca.pem"));
    }

    @AfterAll
    static void tearDown() {
        if (dir != null) {
            dir.close();
        }
    }

    @AfterEach
    void closeListener() throws IOException {
        if (listener != null) {
            listener.close();
        }
    }

    /** What one served connection produced: the commands delivered and how the session ended. */
    record Served(List<Command> commands, ServerSession session) {}

    /**
     * Serves one connection: the dialect handles SSLRequest/TLS; every StartupMessage is handed over and
     * answered with FATAL {@value #RESPONDER_MESSAGE} on the connection (over TLS when it was upgraded).
     */
    private CompletableFuture<Served> serveOnce(ServerOptions options) throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK));
        Optional<ServerTls> tls = options.tlsAvailable()
                ? Optional.of(ServerTls.create(
                        credential.chain(), credential.privateKey(), Protocol.POSTGRES.alpn(), TlsProfile.modern()))
                : Optional.empty();
        StartTlsServer server = new StartTlsServer(Protocol.POSTGRES, options, tls, TIMEOUTS);
        ServerSocket l = listener;
        return CompletableFuture.supplyAsync(() -> {
            List<Command> seen = new CopyOnWriteArrayList<>();
            try (Socket accepted = l.accept()) {
                CommandHandler handler = c -> {
                    seen.add(c);
                    return CommandHandler.HAND_OVER;
                };
                ServerSession session = server.serve(accepted, handler);
                if (session.socket().isPresent()) {
                    Socket s = session.socket().get();
                    OutputStream out = s.getOutputStream();
                    out.write(PgWire.fatal("28000", RESPONDER_MESSAGE));
                    out.flush();
                    s.close();
                }
                return new Served(List.copyOf(seen), session);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private Peers.CommandResult psql(String conninfo) {
        return Peers.run(Duration.ofSeconds(20), null, List.of("psql", "-X", "-w", "-c", "select 1", conninfo));
    }

    @Test
    void psqlVerifyFullGetsThroughTlsAndItsStartupArrivesOverTls() throws Exception {
        CompletableFuture<Served> served = serveOnce(ServerOptions.offering("localhost", Capabilities.NONE));

        Peers.CommandResult r = psql("host=localhost hostaddr=127.0.0.1 port=" + listener.getLocalPort()
                + " sslmode=verify-full sslrootcert=" + caPem + " user=alice dbname=shop connect_timeout=10");

        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(r.exitCode()).as(psqlVersion + ": " + r.output()).isNotZero();
        // libpq shows the server's FATAL: it only got there through SSLRequest, 'S' and a verified handshake.
        assertThat(r.output()).as(psqlVersion).contains("FATAL:  " + RESPONDER_MESSAGE);
        assertThat(s.session().tls()).as(psqlVersion).isPresent();
        assertThat(s.session().socket()).get().isInstanceOf(SSLSocket.class);
        assertThat(s.commands()).hasSize(1);
        Command startup = s.commands().get(0);
        assertThat(startup.verb()).isEqualTo("STARTUP");
        assertThat(startup.tlsActive()).as("the StartupMessage came over TLS").isTrue();
        assertThat(startup.line()).contains("user=alice").contains("database=shop");
    }

    @Test
    void psqlVerifyFullRejectsACertificateForAnotherName() throws Exception {
        CompletableFuture<Served> served = serveOnce(ServerOptions.offering("localhost", Capabilities.NONE));

        Peers.CommandResult r = psql("host=db.example hostaddr=127.0.0.1 port=" + listener.getLocalPort()
                + " sslmode=verify-full sslrootcert=" + caPem + " user=alice dbname=shop connect_timeout=10");

        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(r.exitCode()).as(psqlVersion).isNotZero();
        assertThat(r.output())
                .as(psqlVersion)
                .contains("does not match host name")
                .doesNotContain(RESPONDER_MESSAGE);
        assertThat(s.commands()).isEmpty();
    }

    @Test
    void opensslStartTlsPostgresVerifies() throws Exception {
        CompletableFuture<Served> served = serveOnce(ServerOptions.offering("localhost", Capabilities.NONE));

        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(20),
                "",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        "postgres",
                        "-connect",
                        Peers.LOOPBACK + ":" + listener.getLocalPort(),
                        "-servername",
                        "localhost",
                        "-CAfile",
                        caPem.toString(),
                        "-verify_return_error",
                        "-verify_hostname",
                        "localhost",
                        "-brief"));

        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(r.exitCode()).as(opensslVersion + ": " + r.output()).isZero();
        assertThat(r.output()).as(opensslVersion).contains("Verification: OK").contains("TLSv1.3");
        assertThat(s.session().tls()).isPresent();
        // s_client sends no StartupMessage: it closes after the handshake.
        assertThat(s.commands()).isEmpty();
    }

    @Test
    void psqlSslmodeRequireFailsAgainstAServerWithoutTls() throws Exception {
        CompletableFuture<Served> served = serveOnce(ServerOptions.withoutTls("localhost", Capabilities.NONE));

        Peers.CommandResult r = psql("host=127.0.0.1 port=" + listener.getLocalPort()
                + " sslmode=require user=alice dbname=shop connect_timeout=10");

        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(r.exitCode()).as(psqlVersion).isNotZero();
        assertThat(r.output()).as(psqlVersion).contains("server does not support SSL");
        // libpq closed after 'N': no plaintext StartupMessage ever reached the server.
        assertThat(s.commands()).isEmpty();
        assertThat(s.session().failure().orElseThrow().kind()).isEqualTo(FailureKind.UNEXPECTED_EOF);
    }

    @Test
    void psqlWithoutTlsGetsFatal28000FromATlsRequiredServer() throws Exception {
        CompletableFuture<Served> served =
                serveOnce(ServerOptions.offering("localhost", Capabilities.NONE).withTlsRequired(true));

        Peers.CommandResult r = psql("host=127.0.0.1 port=" + listener.getLocalPort()
                + " sslmode=disable user=alice dbname=shop connect_timeout=10");

        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(r.exitCode()).as(psqlVersion).isNotZero();
        assertThat(r.output())
                .as(psqlVersion)
                .contains("FATAL:  no pg_hba.conf entry for user \"alice\", database \"shop\", no encryption");
        assertThat(s.commands()).isEmpty();
        assertThat(s.session().failure().orElseThrow().kind()).isEqualTo(FailureKind.PROTOCOL_VIOLATION);
    }

    /**
     * CVE-2021-23214 class over a real socket: SSLRequest and a StartupMessage in one write. The server
     * answers 'S' and hands the StartupMessage to TLS, which rejects it: never an AuthenticationOk or any
     * plaintext answer to it.
     */
    @Test
    void startupInjectedWithTheSslRequestIsNeverAnsweredInPlaintext() throws Exception {
        CompletableFuture<Served> served = serveOnce(ServerOptions.offering("localhost", Capabilities.NONE));
        byte[] attack = concat(PgWire.SSL_REQUEST, PgWire.startup("alice", "shop"));
        try (Socket raw = new Socket(InetAddress.getByName(Peers.LOOPBACK), listener.getLocalPort())) {
            raw.setSoTimeout(5000);
            OutputStream out = raw.getOutputStream();
            InputStream in = raw.getInputStream();
            out.write(attack); // one write
            out.flush();

            assertThat(in.read()).isEqualTo('S');
            // Whatever follows is the server's TLS engine rejecting the "ClientHello": an alert record (21),
            // or the connection closing; never a plaintext protocol message such as 'R' or 'E'.
            byte[] after = in.readAllBytes();
            if (after.length > 0) {
                assertThat(after[0]).as("a TLS alert record, not plaintext").isEqualTo((byte) 21);
            }
        }
        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(s.commands()).isEmpty();
        assertThat(s.session().tls()).isEmpty();
        assertThat(s.session().failure().orElseThrow().kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
