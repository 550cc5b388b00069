package dev.optls.interop.ourserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.interop.peers.Peers;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code openssl s_client -starttls ...} against OUR server: the upgrade, the handshake and the certificate
 * check (chain and host name) succeed for SMTP, LMTP, IMAP and POP3, and the session ends cleanly over TLS.
 */
class OpenSslClientIT {

    private static ServerPki pki;
    private static final Map<Protocol, Responder> RESPONDERS = new EnumMap<>(Protocol.class);
    private static String version;

    @BeforeAll
    static void start() {
        Peers.requireCommand("openssl", "openssl");
        version = Clients.version("openssl", "version");
        pki = ServerPki.create("openssl");
        for (Protocol p : List.of(Protocol.SMTP, Protocol.LMTP, Protocol.IMAP, Protocol.POP3)) {
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

    @ParameterizedTest(name = "{0}")
    @CsvSource({"SMTP, smtp, QUIT", "LMTP, lmtp, QUIT", "IMAP, imap, a LOGOUT", "POP3, pop3, QUIT"})
    void startTlsHandshakeAndVerificationSucceed(Protocol protocol, String starttls, String farewell) {
        Responder responder = RESPONDERS.get(protocol);
        responder.reset();
        Peers.CommandResult r = Peers.run(
                Duration.ofSeconds(20),
                farewell + "\n",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        starttls,
                        "-connect",
                        responder.host() + ":" + responder.port(),
                        "-servername",
                        Responder.HOSTNAME,
                        "-CAfile",
                        pki.caPem().toString(),
                        "-verify_return_error",
                        "-verify_hostname",
                        Responder.HOSTNAME,
                        "-brief",
                        // Send "QUIT" as a line (not s_client's Q command), with CRLF.
                        "-nocommands",
                        "-crlf"));
        String why = version + " against " + responder + ":\n" + r.output();
        assertThat(r.exitCode()).as(why).isZero();
        assertThat(r.output()).as(why).contains("CONNECTION ESTABLISHED", "Verification: OK");
        assertThat(r.output()).as(why).containsPattern("Verified peername: " + Responder.HOSTNAME);
        assertThat(r.output()).as(why).containsPattern("Protocol version: TLSv1\\.[23]");

        Responder.Connection c = responder.awaitOne();
        assertThat(c.tlsEstablished()).as(why + "\n" + c).isTrue();
        // The farewell travelled over TLS and was answered by OUR server: the session closed cleanly.
        assertThat(c.ending()).as(why + "\n" + c).contains(Result.Ending.CLOSED);
        assertThat(c.failure()).as(why + "\n" + c).isEmpty();
    }
}
