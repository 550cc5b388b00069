package dev.optls.interop.ourserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.interop.peers.Peers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * swaks (Net::SSLeay) sends a message through OUR SMTP server with STARTTLS and certificate verification:
 * the message arrives after TLS, and STARTTLS is not offered again once TLS is up.
 */
class SwaksClientIT {

    private static ServerPki pki;
    private static Responder smtp;
    private static String version;

    @BeforeAll
    static void start() {
        Peers.requireCommand("swaks", "swaks");
        version = Clients.version("swaks", "--version");
        pki = ServerPki.create("swaks");
        smtp = Responder.start(Protocol.SMTP, Responder.Tls.OFFERED, pki.credential());
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

    /** swaks with STARTTLS required and the server certificate verified against our CA. */
    static List<String> swaks(Responder responder, String subject, String... extra) {
        List<String> command = new ArrayList<>(List.of(
                "swaks",
                "--server",
                responder.host(),
                "--port",
                String.valueOf(responder.port()),
                "--helo",
                "client.example.org",
                "--from",
                "a@example.org",
                "--to",
                "b@example.org",
                "--header",
                "Subject: " + subject,
                "--body",
                "Hello from swaks.\n.A line starting with a dot.",
                "--timeout",
                "10"));
        command.addAll(List.of(extra));
        return command;
    }

    private static List<String> tlsOptions() {
        // swaks 20201014 --tls-verify checks the chain only (host name checks came in later versions).
        return List.of(
                "--tls", "--tls-verify", "--tls-ca-path", pki.caPem().toString(), "--tls-sni", Responder.HOSTNAME);
    }

    @Test
    void messageArrivesOverTlsAndStartTlsIsNotOfferedAgain() {
        List<String> command = swaks(smtp, "optls swaks", tlsOptions().toArray(String[]::new));
        Peers.CommandResult r = Peers.run(Duration.ofSeconds(20), null, command);
        String why = version + " against " + smtp + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        List<String> lines = r.output().lines().toList();
        // swaks marks what it reads in plaintext with "<-" and over TLS with "<~".
        assertThat(lines).as(why).anyMatch(l -> l.matches("<-\\s+250[- ]STARTTLS"));
        assertThat(lines).as(why).anyMatch(l -> l.matches("<~\\s+250[- ].*"));
        assertThat(lines).as(why).noneMatch(l -> l.startsWith("<~") && l.contains("STARTTLS"));

        Responder.Connection c = smtp.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsSubsequence("MAIL", "RCPT", "DATA");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.messages()).as(seen).singleElement().satisfies(m -> {
            assertThat(m.tlsActive()).isTrue();
            assertThat(m.from()).isEqualTo("a@example.org");
            assertThat(m.recipients()).containsExactly("b@example.org");
            // Dot-stuffed by swaks, unstuffed by the responder.
            assertThat(m.content()).contains("Subject: optls swaks", "\r\n.A line starting with a dot.\r\n");
        });
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void pipelinedTransactionIsAnsweredInOrderAndHandedOverAtData() {
        List<String> options = new ArrayList<>(tlsOptions());
        options.add("--pipeline");
        Peers.CommandResult r =
                Peers.run(Duration.ofSeconds(20), null, swaks(smtp, "optls pipelined", options.toArray(String[]::new)));
        String why = version + " --pipeline against " + smtp + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        // swaks really pipelined: DATA went out before the reply to MAIL came back.
        String out = r.output();
        assertThat(out.indexOf(" ~> DATA")).as(why).isPositive().isLessThan(out.indexOf("<~  250 2.1.0"));

        Responder.Connection c = smtp.awaitOne();
        String seen = why + "\nresponder saw: " + c;
        assertThat(c.verbs()).as(seen).containsSubsequence("MAIL", "RCPT", "DATA");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.messages())
                .as(seen)
                .singleElement()
                .satisfies(m -> assertThat(m.content()).contains("Subject: optls pipelined"));
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void verificationAgainstAnotherCaFailsAndNothingIsSent() {
        try (ServerPki other = ServerPki.create("swaks-other-ca")) {
            List<String> options = new ArrayList<>(tlsOptions());
            options.set(options.indexOf(pki.caPem().toString()), other.caPem().toString());
            Peers.CommandResult r = Peers.run(
                    Duration.ofSeconds(20), null, swaks(smtp, "optls wrong CA", options.toArray(String[]::new)));
            String why = version + " trusting another CA, against " + smtp + ":\n" + r.output();
            assertThat(r.exitCode()).as(why).isNotZero();
            assertThat(r.output()).as(why).doesNotContain("~> MAIL");

            Responder.Connection c = smtp.awaitOne();
            assertThat(c.verbs()).as(why + "\n" + c).isEmpty();
            assertThat(c.messages()).as(why + "\n" + c).isEmpty();
        }
    }
}
