package dev.optls.interop.gnutls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.cli.DemoServers;
import dev.optls.core.Protocol;
import dev.optls.interop.peers.Peers;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real client {@code gnutls-cli --starttls-proto=...} (Debian gnutls-bin) against OUR blocking server (the
 * demo's STARTTLS servers): the upgrade, the TLS handshake and the certificate check (chain and host name
 * {@code localhost}) succeed for every protocol gnutls-cli speaks that optls has; against a server that does not
 * offer STARTTLS no handshake happens.
 *
 * <p>gnutls-cli also knows {@code https} (no STARTTLS), {@code ftp} and {@code xmpp}, which optls does not have.
 */
class GnutlsCliIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private static DemoServers demo;
    private static Peers.PeerDirectory dir;
    private static Path ca;
    private static String version;

    @BeforeAll
    static void start() throws IOException {
        Peers.requireCommand("gnutls-cli", "gnutls-bin");
        Peers.CommandResult v = Peers.run(TIMEOUT, null, List.of("gnutls-cli", "--version"));
        version = v.output()
                .lines()
                .findFirst()
                .orElse("gnutls-cli --version: no output")
                .strip();
        demo = DemoServers.start();
        dir = Peers.tempDir("gnutls");
        ca = demo.writeCa(dir.resolve("ca.pem"));
    }

    @AfterAll
    static void stop() {
        if (demo != null) {
            demo.close();
        }
        if (dir != null) {
            dir.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "SMTP, smtp",
        "LMTP, lmtp",
        "IMAP, imap",
        "POP3, pop3",
        "NNTP, nntp",
        "SIEVE, sieve",
        "POSTGRES, postgres",
        "LDAP, ldap"
    })
    void startTlsHandshakeAndVerificationSucceed(Protocol protocol, String proto) {
        DemoServers.Server server = server(protocol, DemoServers.Kind.STARTTLS);
        Peers.CommandResult r = gnutlsCli(proto, server);
        String why = version + " --starttls-proto=" + proto + " against " + server.uri() + ":\n" + r.output();
        assertThat(r.output()).as(why).contains("Handshake was completed");
        assertThat(r.output()).as(why).contains("Status: The certificate is trusted.");
        assertThat(r.output()).as(why).containsPattern("Description: \\(TLS1\\.[23]-");
        assertThat(r.exitCode()).as(why).isZero();
    }

    @Test
    void noHandshakeWhenTheServerDoesNotOfferStartTls() {
        DemoServers.Server server = server(Protocol.SMTP, DemoServers.Kind.NO_STARTTLS);
        Peers.CommandResult r = gnutlsCli("smtp", server);
        String why = version + " --starttls-proto=smtp against " + server.uri() + " (no STARTTLS):\n" + r.output();
        assertThat(r.output()).as(why).doesNotContain("Handshake was completed");
        assertThat(r.output()).as(why).doesNotContain("The certificate is trusted");
        // gnutls-cli sends STARTTLS regardless of the EHLO reply, reads past our refusal waiting for "220 " and
        // gives up after its own (10 s) timeout.
        assertThat(r.output()).as(why).contains("error receiving '220 '");
        assertThat(r.exitCode()).as(why).isNotZero();
    }

    private static Peers.CommandResult gnutlsCli(String proto, DemoServers.Server server) {
        // "localhost" resolves to 127.0.0.1 only when /etc/hosts says so; connect to the loopback address and
        // verify the certificate's name explicitly instead.
        return Peers.run(
                TIMEOUT,
                null,
                List.of(
                        "gnutls-cli",
                        "--starttls-proto=" + proto,
                        "--x509cafile=" + ca,
                        "--port=" + server.port(),
                        "--sni-hostname=" + DemoServers.SERVER_NAME,
                        "--verify-hostname=" + DemoServers.SERVER_NAME,
                        Peers.LOOPBACK));
    }

    private static DemoServers.Server server(Protocol protocol, DemoServers.Kind kind) {
        return demo.servers().stream()
                .filter(s -> s.protocol() == protocol && s.kind() == kind)
                .findFirst()
                .orElseThrow(() -> new AssertionError("the demo has no " + kind + " server for " + protocol));
    }
}
