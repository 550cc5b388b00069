package dev.optls.interop.ourserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.util.Arrays;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.apache.commons.net.imap.IMAPSClient;
import org.apache.commons.net.pop3.POP3MessageInfo;
import org.apache.commons.net.pop3.POP3SClient;
import org.apache.commons.net.smtp.AuthenticatingSMTPClient;
import org.apache.commons.net.smtp.SMTPReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Apache Commons Net's explicit-TLS clients ({@code execTLS()}) against OUR servers, trusting our CA and
 * with endpoint (host name) checking on: SMTP, POP3 and IMAP sessions complete over TLS.
 */
class CommonsNetClientIT {

    private static final String VERSION = "Commons Net " + Clients.jarVersion(AuthenticatingSMTPClient.class);
    private static final int TIMEOUT_MS = 10_000;

    private static ServerPki pki;
    private static Responder smtp;
    private static Responder pop3;
    private static Responder imap;
    private static Responder smtpOtherName;

    @BeforeAll
    static void start() {
        pki = ServerPki.create("commons-net");
        smtp = Responder.start(Protocol.SMTP, Responder.Tls.OFFERED, pki.credential());
        pop3 = Responder.start(Protocol.POP3, Responder.Tls.OFFERED, pki.credential());
        imap = Responder.start(Protocol.IMAP, Responder.Tls.OFFERED, pki.credential());
        smtpOtherName = Responder.start(Protocol.SMTP, Responder.Tls.OFFERED, pki.credentialFor("mail.example.org"));
    }

    @AfterAll
    static void stop() {
        for (Responder r : new Responder[] {smtp, pop3, imap, smtpOtherName}) {
            if (r != null) {
                r.close();
            }
        }
        if (pki != null) {
            pki.close();
        }
    }

    @BeforeEach
    void reset() {
        smtp.reset();
        pop3.reset();
        imap.reset();
        smtpOtherName.reset();
    }

    @Test
    void endpointCheckRefusesCertificateForAnotherName() throws IOException {
        AuthenticatingSMTPClient client = new AuthenticatingSMTPClient(false, pki.clientContext());
        client.setEndpointCheckingEnabled(true);
        client.setDefaultTimeout(TIMEOUT_MS);
        client.setConnectTimeout(TIMEOUT_MS);
        String why = VERSION + " against " + smtpOtherName + " (certificate for mail.example.org)";
        try {
            client.connect(Responder.HOSTNAME, smtpOtherName.port());
            assertThat(client.ehlo("client.example.org")).as(why).isEqualTo(250);
            assertThatThrownBy(client::execTLS).as(why).isInstanceOf(SSLException.class);
        } finally {
            client.disconnect();
        }

        Responder.Connection c = smtpOtherName.awaitOne();
        String seen = why + "; responder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isFalse();
        assertThat(c.verbs()).as(seen).isEmpty();
        assertThat(c.messages()).as(seen).isEmpty();
    }

    @Test
    void smtpsClientExecTlsAndSend() throws IOException {
        AuthenticatingSMTPClient client = new AuthenticatingSMTPClient(false, pki.clientContext());
        client.setEndpointCheckingEnabled(true);
        client.setDefaultTimeout(TIMEOUT_MS);
        client.setConnectTimeout(TIMEOUT_MS);
        String why = VERSION + " against " + smtp;
        try {
            client.connect(Responder.HOSTNAME, smtp.port());
            assertThat(client.getReplyCode()).as(why).isEqualTo(220);
            assertThat(client.ehlo("client.example.org")).as(why).isEqualTo(250);
            assertThat(client.getReplyStrings())
                    .as(why)
                    .anyMatch(l -> l.substring(4).equals("STARTTLS"));
            assertThat(client.execTLS()).as(why + ": execTLS").isTrue();
            assertThat(client.ehlo("client.example.org")).as(why).isEqualTo(250);
            assertThat(client.getReplyStrings()).as(why).noneMatch(l -> l.contains("STARTTLS"));
            assertThat(client.setSender("a@example.org")).as(why).isTrue();
            assertThat(client.addRecipient("b@example.org")).as(why).isTrue();
            assertThat(client.sendShortMessageData("Subject: optls commons-net\r\n\r\nHello from Commons Net.\r\n"))
                    .as(why + ": " + client.getReplyString())
                    .isTrue();
            assertThat(client.logout()).as(why).isTrue();
            assertThat(SMTPReply.isPositiveCompletion(client.getReplyCode()))
                    .as(why)
                    .isTrue();
        } finally {
            client.disconnect();
        }

        Responder.Connection c = smtp.awaitOne();
        String seen = why + "; responder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsSubsequence("MAIL", "RCPT", "DATA");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.messages())
                .as(seen)
                .singleElement()
                .satisfies(m -> assertThat(m.content()).contains("Subject: optls commons-net"));
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void pop3sClientExecTlsLoginStatRetrieve() throws IOException {
        POP3SClient client = new POP3SClient(false, pki.clientContext());
        client.setEndpointCheckingEnabled(true);
        client.setDefaultTimeout(TIMEOUT_MS);
        client.setConnectTimeout(TIMEOUT_MS);
        String why = VERSION + " against " + pop3;
        try {
            client.connect(Responder.HOSTNAME, pop3.port());
            assertThat(client.execTLS()).as(why + ": execTLS").isTrue();
            assertThat(client.login(Responder.USER, Responder.PASSWORD)).as(why).isTrue();
            POP3MessageInfo status = client.status();
            assertThat(status.number).as(why).isEqualTo(1);
            assertThat(status.size).as(why).isEqualTo(Responder.MAILDROP_MESSAGE.length());
            String text;
            try (Reader reader = client.retrieveMessage(1);
                    BufferedReader lines = new BufferedReader(reader)) {
                text = lines.lines().collect(Collectors.joining("\n"));
            }
            assertThat(text).as(why).contains("Subject: optls maildrop", "Hello from optls.");
            assertThat(client.logout()).as(why).isTrue();
        } finally {
            client.disconnect();
        }

        Responder.Connection c = pop3.awaitOne();
        String seen = why + "; responder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsExactly("USER", "PASS", "STAT", "RETR", "QUIT");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void imapsClientExecTlsLoginSelect() throws IOException {
        IMAPSClient client = new IMAPSClient(false, pki.clientContext());
        client.setEndpointCheckingEnabled(true);
        client.setDefaultTimeout(TIMEOUT_MS);
        client.setConnectTimeout(TIMEOUT_MS);
        String why = VERSION + " against " + imap;
        try {
            client.connect(Responder.HOSTNAME, imap.port());
            assertThat(client.execTLS()).as(why + ": execTLS").isTrue();
            assertThat(client.capability()).as(why).isTrue();
            assertThat(client.getReplyString()).as(why).doesNotContain("STARTTLS");
            assertThat(client.login(Responder.USER, Responder.PASSWORD))
                    .as(why + ": " + Arrays.toString(client.getReplyStrings()))
                    .isTrue();
            assertThat(client.select("INBOX")).as(why).isTrue();
            assertThat(client.logout()).as(why).isTrue();
        } finally {
            client.disconnect();
        }

        Responder.Connection c = imap.awaitOne();
        String seen = why + "; responder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsExactly("LOGIN", "SELECT");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }
}
