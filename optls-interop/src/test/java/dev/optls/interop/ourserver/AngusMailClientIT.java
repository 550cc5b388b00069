package dev.optls.interop.ourserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.security.cert.CertificateException;
import java.util.Properties;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Angus Mail (Jakarta Mail) against OUR servers with {@code starttls.required=true}, trusting our CA through
 * {@code ssl.socketFactory} and checking the server identity: a message goes out over TLS; a server without
 * STARTTLS or with a certificate for another name gets nothing.
 */
class AngusMailClientIT {

    private static ServerPki pki;
    private static Responder smtp;
    private static Responder smtpWithoutTls;
    private static Responder smtpOtherName;
    private static Responder imap;
    private static final String VERSION = "Angus Mail " + Clients.jarVersion(SMTPTransport.class);

    @BeforeAll
    static void start() {
        pki = ServerPki.create("angus");
        smtp = Responder.start(Protocol.SMTP, Responder.Tls.OFFERED, pki.credential());
        smtpWithoutTls = Responder.start(Protocol.SMTP, Responder.Tls.NONE, pki.credential());
        smtpOtherName = Responder.start(Protocol.SMTP, Responder.Tls.OFFERED, pki.credentialFor("mail.example.org"));
        imap = Responder.start(Protocol.IMAP, Responder.Tls.OFFERED, pki.credential());
    }

    @AfterAll
    static void stop() {
        for (Responder r : new Responder[] {smtp, smtpWithoutTls, smtpOtherName, imap}) {
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
        smtpWithoutTls.reset();
        smtpOtherName.reset();
        imap.reset();
    }

    /** STARTTLS required, our CA trusted, the server identity checked against {@code localhost}. */
    private static Session session(String protocol, Responder responder) {
        String p = "mail." + protocol + ".";
        Properties props = new Properties();
        props.put(p + "host", Responder.HOSTNAME);
        props.put(p + "port", String.valueOf(responder.port()));
        props.put(p + "starttls.enable", "true");
        props.put(p + "starttls.required", "true");
        props.put(p + "ssl.checkserveridentity", "true");
        props.put(p + "ssl.socketFactory", pki.clientContext().getSocketFactory());
        props.put(p + "connectiontimeout", "10000");
        props.put(p + "timeout", "10000");
        props.put(p + "writetimeout", "10000");
        props.put("mail.smtp.localhost", "client.example.org");
        return Session.getInstance(props);
    }

    private static MimeMessage message(Session session, String subject) throws MessagingException {
        MimeMessage m = new MimeMessage(session);
        m.setFrom(new InternetAddress("a@example.org"));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress("b@example.org"));
        m.setSubject(subject);
        m.setText("Hello from Angus Mail.\n.A line starting with a dot.\n");
        return m;
    }

    @Test
    void transportSendDeliversOverTls() throws MessagingException {
        Transport.send(message(session("smtp", smtp), "optls angus"));

        Responder.Connection c = smtp.awaitOne();
        String seen = VERSION + " against " + smtp + "; responder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsSubsequence("MAIL", "RCPT", "DATA");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.messages()).as(seen).singleElement().satisfies(m -> {
            assertThat(m.tlsActive()).isTrue();
            assertThat(m.from()).isEqualTo("a@example.org");
            assertThat(m.recipients()).containsExactly("b@example.org");
            assertThat(m.content()).contains("Subject: optls angus", "\r\n.A line starting with a dot.\r\n");
        });
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }

    @Test
    void serverWithoutStartTlsGetsNothing() {
        assertThatThrownBy(() -> Transport.send(message(session("smtp", smtpWithoutTls), "optls plaintext")))
                .as(VERSION + " against " + smtpWithoutTls)
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining("STARTTLS");

        Responder.Connection c = smtpWithoutTls.awaitOne();
        String seen = VERSION + " against " + smtpWithoutTls + "; responder saw: " + c;
        assertThat(c.verbs()).as(seen).doesNotContain("MAIL", "RCPT", "DATA");
        assertThat(c.messages()).as(seen).isEmpty();
    }

    @Test
    void certificateForAnotherNameIsRefusedAndNothingIsSent() {
        assertThatThrownBy(() -> Transport.send(message(session("smtp", smtpOtherName), "optls wrong name")))
                .as(VERSION + " against " + smtpOtherName + " (certificate for mail.example.org)")
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining("Could not convert socket to TLS")
                .hasRootCauseInstanceOf(CertificateException.class)
                .rootCause()
                .hasMessageContaining("localhost");

        Responder.Connection c = smtpOtherName.awaitOne();
        String seen = VERSION + " against " + smtpOtherName + "; responder saw: " + c;
        assertThat(c.verbs()).as(seen).doesNotContain("MAIL", "RCPT", "DATA");
        assertThat(c.messages()).as(seen).isEmpty();
    }

    @Test
    void imapStoreConnectsOverTls() throws MessagingException {
        Store store = session("imap", imap).getStore("imap");
        store.connect(Responder.USER, Responder.PASSWORD);
        try {
            assertThat(store.isConnected()).as(VERSION + " against " + imap).isTrue();
            Folder inbox = store.getFolder("INBOX");
            assertThat(inbox.exists()).as(VERSION + " against " + imap).isTrue();
        } finally {
            store.close();
        }

        Responder.Connection c = imap.awaitOne();
        String seen = VERSION + " against " + imap + "; responder saw: " + c;
        assertThat(c.tlsEstablished()).as(seen).isTrue();
        assertThat(c.verbs()).as(seen).containsSubsequence("LOGIN", "LIST");
        assertThat(c.commands()).as(seen).allMatch(Command::tlsActive);
        assertThat(c.ending()).as(seen).contains(Result.Ending.CLOSED);
    }
}
