package dev.optls.interop.ourserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.interop.peers.Peers;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Python's standard library clients ({@code smtplib}, {@code imaplib}, {@code poplib}) against OUR servers,
 * upgrading with {@code ssl.create_default_context(cafile=ca)}: chain and host name (here the address
 * 127.0.0.1, which the certificate names) are verified, then a whole session runs over TLS.
 */
class PythonClientIT {

    private static ServerPki pki;
    private static final Map<Protocol, Responder> RESPONDERS = new EnumMap<>(Protocol.class);
    private static String version;

    @BeforeAll
    static void start() {
        Peers.requireCommand("python3", "python3");
        version =
                Clients.version("python3", "-c", "import ssl, sys; print(sys.version.split()[0], ssl.OPENSSL_VERSION)");
        version = "Python " + version;
        pki = ServerPki.create("python");
        for (Protocol p : List.of(Protocol.SMTP, Protocol.IMAP, Protocol.POP3)) {
            RESPONDERS.put(p, Responder.start(p, Responder.Tls.OFFERED, pki.credential()));
        }
    }

    @AfterAll
    static void stop() {
        RESPONDERS.values().forEach(Responder::close);
        RESPONDERS.clear();
        if (pki != null) {
            pki.close();
        }
    }

    @BeforeEach
    void reset() {
        RESPONDERS.values().forEach(Responder::reset);
    }

    /** Runs {@code lines} as a python3 script with arguments host, port, CA file; asserts exit 0. */
    private static Peers.CommandResult python(Responder responder, String... lines) {
        String script = "import ssl, sys\n"
                + "host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
                + "ctx = ssl.create_default_context(cafile=ca)\n"
                + String.join("\n", lines) + "\n";
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(20),
                null,
                List.of(
                        "python3",
                        "-c",
                        script,
                        responder.host(),
                        String.valueOf(responder.port()),
                        pki.caPem().toString()));
        assertThat(r.exitCode())
                .as(version + " against " + responder + ":\n" + r.output())
                .isZero();
        return r;
    }

    @Test
    void smtplibStartTlsAndSendmail() {
        Responder smtp = RESPONDERS.get(Protocol.SMTP);
        Peers.CommandResult r = python(
                smtp,
                "import smtplib",
                "s = smtplib.SMTP(host, port, timeout=10)",
                "s.ehlo('client.example.org')",
                "print('OFFERED', s.has_extn('starttls'))",
                "print('STARTTLS', s.starttls(context=ctx)[0], s.sock.version())",
                "s.ehlo('client.example.org')",
                "print('OFFERED-AFTER-TLS', s.has_extn('starttls'))",
                "print('REFUSED', s.sendmail('a@example.org', ['b@example.org'],"
                        + " 'Subject: optls python\\r\\n\\r\\nHello from smtplib.\\r\\n'))",
                "print('QUIT', s.quit()[0])");
        String why = version + " smtplib against " + smtp + ":\n" + r.output();
        assertThat(r.output())
                .as(why)
                .contains("OFFERED True", "OFFERED-AFTER-TLS False", "REFUSED {}", "QUIT 221")
                .containsPattern("STARTTLS 220 TLSv1\\.[23]");

        Responder.Connection c = smtp.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.verbs()).as(seen).containsSubsequence("MAIL", "RCPT", "DATA");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.messages()).as(seen).singleElement().satisfies(m -> {
            assertThat(m.tlsActive()).isTrue();
            assertThat(m.recipients()).containsExactly("b@example.org");
            assertThat(m.content()).contains("Subject: optls python", "Hello from smtplib.");
        });
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void imaplibStartTlsLoginSelect() {
        Responder imap = RESPONDERS.get(Protocol.IMAP);
        Peers.CommandResult r = python(
                imap,
                "import imaplib",
                "m = imaplib.IMAP4(host, port, timeout=10)",
                "print('STARTTLS', m.starttls(ssl_context=ctx)[0], m.sock.version())",
                "print('OFFERED-AFTER-TLS', 'STARTTLS' in m.capabilities)",
                "print('LOGIN', m.login('" + Responder.USER + "', '" + Responder.PASSWORD + "')[0])",
                "print('SELECT', m.select('INBOX')[0])",
                "print('LOGOUT', m.logout()[0])");
        String why = version + " imaplib against " + imap + ":\n" + r.output();
        assertThat(r.output())
                .as(why)
                .contains("OFFERED-AFTER-TLS False", "LOGIN OK", "SELECT OK", "LOGOUT BYE")
                .containsPattern("STARTTLS OK TLSv1\\.[23]");

        Responder.Connection c = imap.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.verbs()).as(seen).containsSubsequence("LOGIN", "SELECT");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void poplibStlsUserPassStatRetr() {
        Responder pop3 = RESPONDERS.get(Protocol.POP3);
        Peers.CommandResult r = python(
                pop3,
                "import poplib",
                "p = poplib.POP3(host, port, timeout=10)",
                "print('STLS', p.stls(context=ctx).decode(), p.sock.version())",
                "print('OFFERED-AFTER-TLS', 'STLS' in p.capa())",
                "print('USER', p.user('" + Responder.USER + "').decode())",
                "print('PASS', p.pass_('" + Responder.PASSWORD + "').decode())",
                "print('STAT', p.stat())",
                "print('RETR', b'|'.join(p.retr(1)[1]).decode())",
                "print('QUIT', p.quit().decode())");
        String why = version + " poplib against " + pop3 + ":\n" + r.output();
        int size = Responder.MAILDROP_MESSAGE.length();
        assertThat(r.output())
                .as(why)
                .contains(
                        "OFFERED-AFTER-TLS False",
                        "PASS +OK",
                        "STAT (1, " + size + ")",
                        "Subject: optls maildrop||Hello from optls.",
                        "QUIT +OK")
                .containsPattern("STLS \\+OK.* TLSv1\\.[23]");

        Responder.Connection c = pop3.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.verbs()).as(seen).containsExactly("USER", "PASS", "STAT", "RETR", "QUIT");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }
}
