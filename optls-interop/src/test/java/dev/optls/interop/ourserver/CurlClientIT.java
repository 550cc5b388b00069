package dev.optls.interop.ourserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.interop.peers.Peers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * curl with {@code --ssl-reqd} against OUR SMTP, IMAP and POP3 servers, verifying the certificate for
 * {@code localhost} ({@code --resolve localhost:PORT:127.0.0.1}): a whole session runs over TLS. Against a
 * server without TLS curl refuses to go on (exit 64) before sending any credential or mail.
 */
class CurlClientIT {

    /** curl's CURLE_USE_SSL_FAILED: "Requested SSL level failed". */
    private static final int CURLE_USE_SSL_FAILED = 64;

    private static final List<Protocol> PROTOCOLS = List.of(Protocol.SMTP, Protocol.IMAP, Protocol.POP3);

    private static ServerPki pki;
    private static final Map<Protocol, Responder> WITH_TLS = new EnumMap<>(Protocol.class);
    private static final Map<Protocol, Responder> WITHOUT_TLS = new EnumMap<>(Protocol.class);
    private static String version;
    private static Path message;

    @BeforeAll
    static void start() {
        Peers.requireCommand("curl", "curl");
        version = Clients.version("curl", "--version");
        pki = ServerPki.create("curl");
        message = pki.dir()
                .write(
                        "msg.txt",
                        "From: a@example.org\r\nTo: b@example.org\r\nSubject: optls curl\r\n\r\nHello from curl.\r\n");
        for (Protocol p : PROTOCOLS) {
            WITH_TLS.put(p, Responder.start(p, Responder.Tls.OFFERED, pki.credential()));
            WITHOUT_TLS.put(p, Responder.start(p, Responder.Tls.NONE, pki.credential()));
        }
    }

    @AfterAll
    static void stop() {
        WITH_TLS.values().forEach(Responder::close);
        WITHOUT_TLS.values().forEach(Responder::close);
        WITH_TLS.clear();
        WITHOUT_TLS.clear();
        if (pki != null) {
            pki.close();
        }
    }

    @BeforeEach
    void reset() {
        WITH_TLS.values().forEach(Responder::reset);
        WITHOUT_TLS.values().forEach(Responder::reset);
    }

    /** {@code curl -v --ssl-reqd} to {@code <scheme>://localhost:PORT<path>}, verifying against our CA. */
    private static Peers.CommandResult curl(Responder responder, Protocol protocol, String path, String... extra) {
        int port = responder.port();
        List<String> command = new ArrayList<>(List.of(
                "curl",
                "-sS",
                "-v",
                "--max-time",
                "15",
                "--ssl-reqd",
                "--cacert",
                pki.caPem().toString(),
                "--resolve",
                Responder.HOSTNAME + ":" + port + ":" + responder.host()));
        command.addAll(List.of(extra));
        command.add(protocol.name().toLowerCase(Locale.ROOT) + "://" + Responder.HOSTNAME + ":" + port + path);
        return Peers.run(Duration.ofSeconds(20), null, command);
    }

    private static void assertVerified(Peers.CommandResult r, String why) {
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("SSL certificate verify ok");
    }

    @Test
    void smtpSendsMessageOverTls() {
        Responder smtp = WITH_TLS.get(Protocol.SMTP);
        Peers.CommandResult r = curl(
                smtp,
                Protocol.SMTP,
                "/client.example.org",
                "--mail-from",
                "a@example.org",
                "--mail-rcpt",
                "b@example.org",
                "-T",
                message.toString());
        String why = version + " against " + smtp + ":\n" + r.output();
        assertVerified(r, why);

        Responder.Connection c = smtp.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsSubsequence("MAIL", "RCPT", "DATA");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.messages()).as(seen).singleElement().satisfies(m -> {
            assertThat(m.tlsActive()).isTrue();
            assertThat(m.from()).isEqualTo("a@example.org");
            assertThat(m.recipients()).containsExactly("b@example.org");
            assertThat(m.content()).contains("Subject: optls curl", "Hello from curl.");
        });
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void imapLogsInAndListsOverTls() {
        Responder imap = WITH_TLS.get(Protocol.IMAP);
        Peers.CommandResult r = curl(imap, Protocol.IMAP, "/", "-u", Responder.USER + ":" + Responder.PASSWORD);
        String why = version + " against " + imap + ":\n" + r.output();
        assertVerified(r, why);
        assertThat(r.output()).as(why).contains("* LIST (\\HasNoChildren) \"/\" INBOX");

        Responder.Connection c = imap.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsSubsequence("LOGIN", "LIST");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void pop3LogsInAndRetrievesOverTls() {
        Responder pop3 = WITH_TLS.get(Protocol.POP3);
        Peers.CommandResult r = curl(pop3, Protocol.POP3, "/1", "-u", Responder.USER + ":" + Responder.PASSWORD);
        String why = version + " against " + pop3 + ":\n" + r.output();
        assertVerified(r, why);
        assertThat(r.output()).as(why).contains("Subject: optls maildrop", "Hello from optls.");

        Responder.Connection c = pop3.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsSubsequence("USER", "PASS", "RETR", "QUIT");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @ParameterizedTest
    @EnumSource(
            value = Protocol.class,
            names = {"SMTP", "IMAP", "POP3"})
    void serverWithoutTlsIsRefusedBeforeAnyCredentialOrMail(Protocol protocol) {
        Responder plain = WITHOUT_TLS.get(protocol);
        Peers.CommandResult r = protocol == Protocol.SMTP
                ? curl(
                        plain,
                        protocol,
                        "/client.example.org",
                        "--mail-from",
                        "a@example.org",
                        "--mail-rcpt",
                        "b@example.org",
                        "-T",
                        message.toString())
                : curl(plain, protocol, "/", "-u", Responder.USER + ":" + Responder.PASSWORD);
        String why = version + " --ssl-reqd against " + plain + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isEqualTo(CURLE_USE_SSL_FAILED);

        Responder.Connection c = plain.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isFalse();
        assertThat(c.verbs()).as(seen).doesNotContain("MAIL", "RCPT", "DATA", "LOGIN", "USER", "PASS");
        assertThat(c.messages()).as(seen).isEmpty();
    }
}
