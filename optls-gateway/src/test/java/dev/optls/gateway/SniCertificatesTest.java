package dev.optls.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import io.netty.handler.ssl.OpenSsl;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several certificates per route, chosen by the client's SNI (RFC 6066 §3): on implicit-TLS and STARTTLS
 * listeners, and after a reload of one of them.
 */
class SniCertificatesTest {
    private static TestPki pki;

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private Gateway gateway;

    private final Gateway.Events events = new Gateway.Events() {
        @Override
        public void reloaded(Route route, Path certificate) {
            log.add("reloaded " + certificate.getFileName());
        }

        @Override
        public void reloadFailed(Route route, Path certificate, String problem) {
            log.add("reload-failed " + problem);
        }
    };

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    /** A backend that greets like an IMAP or SMTP server and answers every line with {@code answer}. */
    private int backend(String greeting, String answer) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        cleanup.add(server);
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    cleanup.add(s);
                    Thread w = new Thread(() -> {
                        try (s) {
                            BufferedReader in = new BufferedReader(
                                    new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                            OutputStream out = s.getOutputStream();
                            out.write((greeting + "\r\n").getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                            while (in.readLine() != null) {
                                out.write((answer + "\r\n").getBytes(StandardCharsets.US_ASCII));
                                out.flush();
                            }
                        } catch (IOException e) {
                            // closed by the gateway
                        }
                    });
                    w.setDaemon(true);
                    w.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server.getLocalPort();
    }

    private static final String CERTIFICATES =
            "certificates = [\n  { certificate = \"mail.crt\", key = \"mail.key\" },\n"
                    + "  { certificate = \"chat.crt\", key = \"chat.key\" },\n]\n";

    private Credential defaultCert;
    private Credential mailCert;
    private Credential chatCert;

    private GatewayConfig config(String protocol, String listenTls, int backend, String extra) throws ConfigException {
        defaultCert = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        mailCert = pki.issue("mail.example.test", "imap.example.test");
        chatCert = pki.issue("*.chat.example.test");
        defaultCert.writePem(dir, "default");
        mailCert.writePem(dir, "mail");
        chatCert.writePem(dir, "chat");
        String toml = "[[route]]\nname = \"r\"\nprotocol = \"" + protocol + "\"\nlisten = \"127.0.0.1:1\"\n"
                + "listen-tls = \"" + listenTls + "\"\nconnect = \"127.0.0.1:" + backend + "\"\n"
                + "certificate = \"default.crt\"\nkey = \"default.key\"\n" + CERTIFICATES + extra;
        return anyPort(ConfigLoader.parse(toml, "sni.toml", dir));
    }

    /** The configuration with the route on any free port (the file format asks for a real one). */
    static GatewayConfig anyPort(GatewayConfig parsed) {
        Route r = parsed.routes().get(0);
        Route any = new Route(
                r.name(),
                r.protocol(),
                new Route.HostPort("127.0.0.1", 0),
                r.listenTls(),
                r.connect(),
                r.tls(),
                r.hostname(),
                r.replyTimeout(),
                r.handshakeTimeout(),
                r.upstream(),
                r.certificates());
        return new GatewayConfig(parsed.source(), List.of(any), parsed.settings(), parsed.operations());
    }

    /**
     * A client with an empty session cache: each connection is a full handshake. (The JDK client caches
     * sessions by host and port and, when it resumes one, sends that session's SNI instead of the one set.)
     */
    private static SSLContext fresh() {
        return pki.clientContext();
    }

    private int port() {
        return gateway.boundAddresses().get("r").getPort();
    }

    /** The serial of the certificate an implicit-TLS client asking for {@code sni} gets, after the greeting. */
    private String implicitServes(String sni) throws IOException {
        try (SSLSocket s = (SSLSocket) fresh().getSocketFactory().createSocket("127.0.0.1", port())) {
            s.setSoTimeout(5000);
            withSni(s, sni);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("* OK backend");
            return describe((X509Certificate) s.getSession().getPeerCertificates()[0]);
        }
    }

    private static void withSni(SSLSocket s, String sni) {
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        s.setSSLParameters(p);
    }

    /** SMTP: EHLO, STARTTLS, then the handshake with {@code sni}; the serial of the certificate served. */
    private String starttlsServes(String sni) throws IOException {
        try (Socket plain = new Socket("127.0.0.1", port())) {
            plain.setSoTimeout(5000);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(plain.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = plain.getOutputStream();
            assertThat(in.readLine()).startsWith("220 ");
            out.write("EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII));
            String line;
            List<String> ehlo = new ArrayList<>();
            do {
                line = in.readLine();
                ehlo.add(line);
            } while (line != null && line.startsWith("250-"));
            assertThat(ehlo).anySatisfy(l -> assertThat(l).contains("STARTTLS"));
            out.write("STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).startsWith("220 ");
            try (SSLSocket s =
                    (SSLSocket) fresh().getSocketFactory().createSocket(plain, "127.0.0.1", plain.getPort(), true)) {
                withSni(s, sni);
                s.startHandshake();
                return describe((X509Certificate) s.getSession().getPeerCertificates()[0]);
            }
        }
    }

    private String serial(Credential c) {
        return describe(c.certificate());
    }

    /** The serial and names of a certificate, for readable failures. */
    private static String describe(X509Certificate c) {
        try {
            return c.getSerialNumber() + " " + c.getSubjectAlternativeNames();
        } catch (java.security.cert.CertificateParsingException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void implicitTlsClientsGetTheCertificateForTheirServerName() throws Exception {
        gateway = Gateway.start(config("imap", "implicit", backend("* OK backend", "* BAD"), ""), events);

        assertThat(implicitServes("mail.example.test")).isEqualTo(serial(mailCert));
        assertThat(implicitServes("IMAP.example.test")).isEqualTo(serial(mailCert));
        assertThat(implicitServes("x.chat.example.test")).isEqualTo(serial(chatCert));
        // RFC 9525 §6.3: the wildcard covers one label only; other names and no SNI get the default.
        assertThat(implicitServes("a.b.chat.example.test")).isEqualTo(serial(defaultCert));
        assertThat(implicitServes("elsewhere.test")).isEqualTo(serial(defaultCert));
        assertThat(implicitServes(null)).isEqualTo(serial(defaultCert));
    }

    @Test
    void starttlsClientsGetTheCertificateForTheirServerNameAfterTheUpgrade() throws Exception {
        gateway = Gateway.start(config("smtp", "starttls", backend("220 backend ESMTP", "250 backend"), ""), events);

        assertThat(starttlsServes("mail.example.test")).isEqualTo(serial(mailCert));
        assertThat(starttlsServes("smtp.chat.example.test")).isEqualTo(serial(chatCert));
        assertThat(starttlsServes(null)).isEqualTo(serial(defaultCert));
    }

    @Test
    void aReloadReReadsEveryCertificateOfTheList() throws Exception {
        gateway = Gateway.start(
                config(
                        "imap",
                        "implicit",
                        backend("* OK backend", "* BAD"),
                        "\n[gateway]\ncertificate-check = \"10m\"\n"),
                events);
        assertThat(implicitServes("mail.example.test")).isEqualTo(serial(mailCert));
        Credential renewedChat = pki.issue("*.chat.example.test");
        renewedChat.writePem(dir, "chat");

        gateway.reloadCertificates();

        assertThat(log).contains("reloaded default.crt");
        assertThat(implicitServes("x.chat.example.test")).isEqualTo(serial(renewedChat));
        assertThat(implicitServes("mail.example.test")).isEqualTo(serial(mailCert));
        assertThat(implicitServes(null)).isEqualTo(serial(defaultCert));

        // A renewed certificate that takes another's name: the whole set is refused, the old one stays.
        pki.issue("mail.example.test").writePem(dir, "chat");
        gateway.reloadCertificates();
        assertThat(log)
                .anySatisfy(l -> assertThat(l)
                        .startsWith("reload-failed")
                        .contains("chat.crt")
                        .contains("mail.example.test"));
        assertThat(implicitServes("x.chat.example.test")).isEqualTo(serial(renewedChat));
    }

    /** The ticket key file is watched with the certificates: a change reloads them all, a bad file is refused. */
    @Test
    void aChangedTicketKeyFileIsReAppliedAndABadOneKeepsTheOldSet() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "ticket keys need BoringSSL (netty-tcnative)");
        Path keys = dir.resolve("tickets.keys");
        Files.writeString(keys, Base64.getEncoder().encodeToString(new byte[48]) + "\n");
        gateway = Gateway.start(
                config(
                        "imap",
                        "implicit",
                        backend("* OK backend", "* BAD"),
                        "engine = \"boringssl\"\nticket-keys = \"tickets.keys\"\n"
                                + "[gateway]\ncertificate-check = \"50ms\"\n"),
                events);
        assertThat(implicitServes("mail.example.test")).isEqualTo(serial(mailCert));

        byte[] rotated = new byte[48];
        rotated[0] = 1;
        Files.writeString(
                keys,
                Base64.getEncoder().encodeToString(rotated) + "\n"
                        + Base64.getEncoder().encodeToString(new byte[48]) + "\n");
        await(() -> log.contains("reloaded default.crt"));
        assertThat(implicitServes("x.chat.example.test")).isEqualTo(serial(chatCert));

        Files.writeString(keys, "not a key\n");
        await(() -> log.stream().anyMatch(l -> l.startsWith("reload-failed")));
        assertThat(log)
                .filteredOn(l -> l.startsWith("reload-failed"))
                .singleElement()
                .satisfies(l -> assertThat(l).contains("tickets.keys line 1"));
        assertThat(implicitServes("mail.example.test")).isEqualTo(serial(mailCert));
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(10);
        }
    }
}
