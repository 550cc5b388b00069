package dev.optls.interop.xmpp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Protocol;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.net.InetAddress;
import javax.net.ssl.X509TrustManager;
import org.jivesoftware.smack.ConnectionConfiguration;
import org.jivesoftware.smack.Smack;
import org.jivesoftware.smack.sasl.SASLErrorException;
import org.jivesoftware.smack.tcp.XMPPTCPConnection;
import org.jivesoftware.smack.tcp.XMPPTCPConnectionConfiguration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Smack (the Java XMPP client library) against OUR XMPP server with STARTTLS required on the client side: it
 * upgrades, checks the certificate for {@code localhost}, opens the new stream and tries SASL PLAIN over TLS,
 * which the responder refuses with {@code <not-authorized/>}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmackClientIT {
    private TestPki pki;
    private XmppResponder responder;

    @BeforeAll
    void start() throws Exception {
        pki = TestPki.create();
        Credential leaf = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        responder = new XmppResponder(Protocol.XMPP, "localhost", leaf);
    }

    @AfterAll
    void stop() {
        if (responder != null) {
            responder.close();
        }
    }

    @Test
    void smackUpgradesAndAuthenticatesOverTls() throws Exception {
        String version = "Smack " + Smack.getVersion();
        XMPPTCPConnectionConfiguration config = XMPPTCPConnectionConfiguration.builder()
                .setXmppDomain("localhost")
                .setHostAddress(InetAddress.getByName(Peers.LOOPBACK))
                .setPort(responder.port())
                .setSecurityMode(ConnectionConfiguration.SecurityMode.required)
                .setCustomX509TrustManager(
                        (X509TrustManager) pki.trustManagerFactory().getTrustManagers()[0])
                .setUsernameAndPassword("juliet", "secret")
                .addEnabledSaslMechanism("PLAIN")
                .build();
        XMPPTCPConnection connection = new XMPPTCPConnection(config);
        connection.setReplyTimeout(5000);
        try {
            connection.connect();
            assertThat(connection.isSecureConnection()).as(version).isTrue();
            assertThatThrownBy(connection::login)
                    .as(version)
                    .isInstanceOf(SASLErrorException.class)
                    .hasMessageContaining("not-authorized");
        } finally {
            connection.disconnect();
        }
        XmppResponder.Connection c = responder.next();
        assertThat(c.tls()).as(version + ": " + c).isTrue();
        assertThat(c.commands())
                .as(version)
                .isNotEmpty()
                .allSatisfy(cmd -> assertThat(cmd.tlsActive()).isTrue());
        assertThat(c.commands().get(0).verb()).as(version).isEqualTo("auth");
        assertThat(c.commands().get(0).line()).as(version).contains("mechanism='PLAIN'");
    }
}
