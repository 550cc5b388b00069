package dev.optls.interop.peers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Smoke tests of {@link PostfixServer}: each TLS mode starts and behaves as configured. */
class PostfixServerIT {

    private static Peers.PeerDirectory certs;
    private static Peers.PemFiles pem;

    @BeforeAll
    static void createCertificate() {
        Peers.requireCommand("openssl");
        certs = Peers.tempDir("postfix-certs");
        pem = Peers.selfSignedLocalhost(certs.path());
    }

    @AfterAll
    static void deleteCertificate() {
        if (certs != null) {
            certs.close();
        }
    }

    @Test
    void withoutTlsStartTlsIsNotAdvertisedAndMailIsAccepted() {
        try (PostfixServer postfix = PostfixServer.start(PeerTls.NONE, null);
                PlainClient client = PlainClient.connect(postfix.host(), postfix.port())) {
            assertThat(client.readSmtpReply()).singleElement().asString().startsWith("220 localhost ESMTP");
            List<String> ehlo = client.send("EHLO client.test").readSmtpReply();
            assertThat(ehlo).first().asString().startsWith("250-localhost");
            assertThat(ehlo).anyMatch(line -> line.substring(4).startsWith("PIPELINING"));
            assertThat(ehlo).noneMatch(line -> line.toUpperCase().contains("STARTTLS"));
            assertThat(client.send("MAIL FROM:<a@client.test>").readSmtpReply())
                    .singleElement()
                    .asString()
                    .startsWith("250");
            assertThat(client.send("QUIT").readSmtpReply())
                    .singleElement()
                    .asString()
                    .startsWith("221");
            assertThatThrownBy(postfix::implicitPort).isInstanceOf(IllegalStateException.class);
            Peers.CommandResult openssl = OpenSsl.sClient("smtp", postfix.host(), postfix.port());
            assertThat(openssl.succeeded()).as(openssl.output()).isFalse();
            assertThat(openssl.output()).doesNotContain("CONNECTION ESTABLISHED");
        }
    }

    @Test
    void mayOffersStartTlsAndImplicitTls() {
        try (PostfixServer postfix = PostfixServer.start(PeerTls.OPTIONAL, pem)) {
            try (PlainClient client = PlainClient.connect(postfix.host(), postfix.port())) {
                client.readSmtpReply();
                assertThat(client.send("EHLO client.test").readSmtpReply()).contains("250-STARTTLS");
                // "may": mail without TLS is still accepted.
                assertThat(client.send("MAIL FROM:<a@client.test>").readSmtpReply())
                        .singleElement()
                        .asString()
                        .startsWith("250");
            }
            assertTlsEstablished(OpenSsl.sClient("smtp", postfix.host(), postfix.port()));
            assertTlsEstablished(OpenSsl.sClient(null, postfix.host(), postfix.implicitPort()));
            postfix.awaitLog("TLS connection established from", Duration.ofSeconds(5));
        }
    }

    @Test
    void encryptRefusesMailBeforeStartTls() {
        try (PostfixServer postfix = PostfixServer.start(PeerTls.REQUIRED, pem)) {
            try (PlainClient client = PlainClient.connect(postfix.host(), postfix.port())) {
                client.readSmtpReply();
                assertThat(client.send("EHLO client.test").readSmtpReply()).contains("250-STARTTLS");
                assertThat(client.send("MAIL FROM:<a@client.test>").readSmtpReply())
                        .singleElement()
                        .asString()
                        .startsWith("530 5.7.0 Must issue a STARTTLS command first");
            }
            assertTlsEstablished(OpenSsl.sClient("smtp", postfix.host(), postfix.port()));
            assertTlsEstablished(OpenSsl.sClient(null, postfix.host(), postfix.implicitPort()));
        }
    }

    @Test
    void swaksDeliversOverStartTlsAndTheLogShowsIt() {
        Peers.requireCommand("swaks");
        try (PostfixServer postfix = PostfixServer.start(PeerTls.REQUIRED, pem)) {
            Peers.CommandResult swaks = Peers.run(
                    Duration.ofSeconds(30),
                    "swaks",
                    "--server",
                    postfix.host(),
                    "--port",
                    String.valueOf(postfix.port()),
                    "--tls",
                    "--from",
                    "sender@client.test",
                    "--to",
                    "rcpt@example.test");
            assertThat(swaks.exitCode()).as(swaks.output()).isZero();
            assertThat(swaks.output()).contains("<~  250 2.0.0 Ok: queued as");
            assertThat(postfix.awaitLog("status=sent (optls-interop test instance)", Duration.ofSeconds(10)))
                    .contains("to=<rcpt@example.test>");
        }
    }

    @Test
    void closeStopsTheInstanceAndAnotherOneStartsAfterIt() {
        PostfixServer first = PostfixServer.start(PeerTls.OPTIONAL, pem);
        int port = first.port();
        int implicitPort = first.implicitPort();
        first.close();
        assertThat(Peers.accepts(first.host(), port)).isFalse();
        assertThat(Peers.accepts(first.host(), implicitPort)).isFalse();
        assertThat(first.configDirectory()).doesNotExist();
        try (PostfixServer second = PostfixServer.start(PeerTls.NONE, null)) {
            assertThat(second.port()).isNotEqualTo(port);
            assertThat(Peers.accepts(second.host(), second.port())).isTrue();
        }
    }

    @Test
    void versionIsTheInstalledPostfix() {
        Peers.requireCommand("postconf");
        assertThat(PostfixServer.version()).matches("\\d+\\.\\d+(\\.\\d+)?.*");
    }

    static void assertTlsEstablished(Peers.CommandResult openssl) {
        assertThat(openssl.output())
                .as("openssl s_client output")
                .contains("CONNECTION ESTABLISHED")
                .containsPattern("Protocol version: TLSv1\\.[23]")
                .containsPattern("Peer certificate: CN ?= ?localhost");
        assertThat(openssl.exitCode()).as(openssl.output()).isZero();
    }
}
