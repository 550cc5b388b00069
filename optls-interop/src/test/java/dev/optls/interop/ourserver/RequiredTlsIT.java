package dev.optls.interop.ourserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.interop.peers.Peers;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OUR SMTP server with TLS required ({@code withTlsRequired(true)}): real clients that skip STARTTLS get 530
 * for MAIL, and the application never sees a mail transaction in plaintext.
 */
class RequiredTlsIT {

    private static ServerPki pki;
    private static Responder smtp;

    @BeforeAll
    static void start() {
        pki = ServerPki.create("required");
        smtp = Responder.start(Protocol.SMTP, Responder.Tls.REQUIRED, pki.credential());
    }

    @AfterAll
    static void stop() {
        if (smtp != null) {
            smtp.close();
        }
        if (pki != null) {
            pki.close();
        }
    }

    @BeforeEach
    void reset() {
        smtp.reset();
    }

    @Test
    void swaksWithoutTlsGets530AndNothingIsDelivered() {
        Peers.requireCommand("swaks", "swaks");
        String version = Clients.version("swaks", "--version");
        Peers.CommandResult r =
                Peers.run(Duration.ofSeconds(20), null, SwaksClientIT.swaks(smtp, "optls plaintext attempt"));
        String why = version + " without --tls against " + smtp + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isNotZero();
        assertThat(r.output().lines()).as(why).anyMatch(l -> l.matches("<\\*\\*\\s+530 .*"));

        Responder.Connection c = smtp.awaitOne();
        assertThat(c.tlsEstablished()).as(why + "\n" + c).isFalse();
        assertThat(c.verbs()).as(why + "\n" + c).doesNotContain("MAIL", "RCPT", "DATA");
        assertThat(c.messages()).as(why + "\n" + c).isEmpty();
    }

    @Test
    void swaksWithTlsDelivers() {
        Peers.requireCommand("swaks", "swaks");
        String version = Clients.version("swaks", "--version");
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(20),
                null,
                SwaksClientIT.swaks(
                        smtp,
                        "optls required",
                        "--tls",
                        "--tls-verify",
                        "--tls-ca-path",
                        pki.caPem().toString()));
        String why = version + " --tls against " + smtp + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        Responder.Connection c = smtp.awaitOne();
        assertThat(c.commands()).as(why + "\n" + c).isNotEmpty().allMatch(Command::tlsActive);
        assertThat(c.messages())
                .as(why + "\n" + c)
                .singleElement()
                .satisfies(m -> assertThat(m.tlsActive()).isTrue());
    }

    @Test
    void pythonSmtplibWithoutStartTlsGetsSenderRefused530() {
        Peers.requireCommand("python3", "python3");
        String version = Clients.version("python3", "--version");
        String script = String.join(
                "\n",
                "import smtplib, sys",
                "s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10)",
                "try:",
                "    s.sendmail('a@example.org', ['b@example.org'], 'Subject: plaintext\\r\\n\\r\\nno\\r\\n')",
                "    print('SENT')",
                "except smtplib.SMTPSenderRefused as e:",
                "    print('REFUSED', e.smtp_code, e.smtp_error.decode())",
                "s.quit()");
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(20),
                null,
                List.of("python3", "-c", script, smtp.host(), String.valueOf(smtp.port())));
        String why = version + " smtplib against " + smtp + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("REFUSED 530").doesNotContain("SENT");

        Responder.Connection c = smtp.awaitOne();
        assertThat(c.verbs()).as(why + "\n" + c).doesNotContain("MAIL", "RCPT", "DATA");
        assertThat(c.messages()).as(why + "\n" + c).isEmpty();
    }
}
