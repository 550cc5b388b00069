package dev.optls.interop.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.FailureKind;
import dev.optls.interop.peers.OpenSsl;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The MariaDB command-line client and {@code openssl s_client -starttls mysql} against OUR server. */
class RealClientsIT {
    private static TestPki pki;
    private static Peers.PeerDirectory dir;
    private static Path caPem;
    private static MysqlResponder offering;
    private static MysqlResponder withoutTls;
    private static String mariadbVersion;

    @BeforeAll
    static void start() {
        Peers.requireCommand("mariadb", "mariadb-client");
        mariadbVersion = Peers.run(Duration.ofSeconds(10), "mariadb", "--version")
                .orThrow()
                .output()
                .trim();
        pki = TestPki.create();
        Credential credential =
                pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        dir = Peers.tempDir("mysql-ourserver");
        caPem = pki.writeCaPem(dir.resolve("ca.pem"));
        offering = MysqlResponder.start(Optional.of(credential));
        withoutTls = MysqlResponder.start(Optional.empty());
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {offering, withoutTls}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // closing
                }
            }
        }
        if (dir != null) {
            dir.close();
        }
    }

    private static Peers.CommandResult mariadb(MysqlResponder responder, String... tlsOptions) {
        List<String> command = new java.util.ArrayList<>(List.of("mariadb", "--no-defaults"));
        command.addAll(List.of(tlsOptions));
        command.addAll(List.of(
                "-h",
                Peers.LOOPBACK,
                "-P",
                String.valueOf(responder.port()),
                "-u",
                "alice",
                "--password=secret",
                "--connect-timeout=10",
                "-e",
                "SELECT 1"));
        return Peers.run(Duration.ofSeconds(20), null, command);
    }

    @Test
    void mariadbClientVerifiesOurCertificateAndLogsInOverTls() throws Exception {
        Peers.CommandResult r = mariadb(offering, "--ssl", "--ssl-ca=" + caPem, "--ssl-verify-server-cert");
        String why = mariadbVersion + " against " + offering + ":\n" + r.output();
        // Our responder answers every login with ERR 1045: the client got that far, so TLS (with the
        // certificate check) worked and the HandshakeResponse41 travelled inside it.
        assertThat(r.exitCode()).as(why).isNotZero();
        assertThat(r.output()).as(why).contains("ERROR 1045 (28000)", MysqlResponder.MESSAGE);
        MysqlResponder.Connection c = offering.awaitOne();
        assertThat(c.tlsEstablished()).as(why + "\n" + c).isTrue();
        assertThat(c.user()).as(why + "\n" + c).contains("alice");
        assertThat(c.authOverTls()).as(why + "\n" + c).isTrue();
    }

    @Test
    void mariadbClientRequiringTlsRefusesOurServerWithoutIt() throws Exception {
        Peers.CommandResult r = mariadb(withoutTls, "--ssl", "--ssl-ca=" + caPem, "--ssl-verify-server-cert");
        String why = mariadbVersion + " against " + withoutTls + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isNotZero();
        assertThat(r.output()).as(why).containsIgnoringCase("SSL").doesNotContain(MysqlResponder.MESSAGE);
        MysqlResponder.Connection c = withoutTls.awaitOne();
        // The client closed after the greeting: no credentials reached the server in plaintext.
        assertThat(c.user()).as(why + "\n" + c).isEmpty();
        assertThat(c.failure().orElseThrow().kind()).as(why + "\n" + c).isEqualTo(FailureKind.UNEXPECTED_EOF);
    }

    @Test
    void opensslStartTlsMysqlVerifiesOurCertificate() throws Exception {
        String version = OpenSsl.version();
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(20),
                "",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        "mysql",
                        "-connect",
                        Peers.LOOPBACK + ":" + offering.port(),
                        "-servername",
                        "localhost",
                        "-CAfile",
                        caPem.toString(),
                        "-verify_return_error",
                        "-verify_hostname",
                        "localhost",
                        "-brief"));
        String why = version + " against " + offering + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("CONNECTION ESTABLISHED", "Verification: OK");
        assertThat(r.output()).as(why).containsPattern("Protocol version: TLSv1\\.[23]");
        MysqlResponder.Connection c = offering.awaitOne();
        assertThat(c.tlsEstablished()).as(why + "\n" + c).isTrue();
        assertThat(c.user()).as(why + "\n" + c).isEmpty();
    }
}
