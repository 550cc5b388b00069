package dev.optls.interop.sieve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.FailureKind;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.OpenSsl;
import dev.optls.interop.peers.Peers;
import dev.optls.tls.blocking.ClientSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real ManageSieve clients against OUR server ({@link SieveResponder}): {@code openssl s_client -starttls
 * sieve} and {@code sieve-connect}; and the CVE-2011-0411 injection both ways over real sockets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OurSieveServerIT {
    private SieveInterop.Pki pki;
    private SieveResponder responder;
    private SieveResponder required;

    @BeforeAll
    void start() throws IOException {
        pki = new SieveInterop.Pki();
        responder = new SieveResponder(pki.credential(), false);
        required = new SieveResponder(pki.credential(), true);
    }

    @AfterAll
    void stop() {
        if (responder != null) {
            responder.close();
        }
        if (required != null) {
            required.close();
        }
        if (pki != null) {
            pki.close();
        }
    }

    @Test
    void opensslStartTlsSieveVerifies() throws Exception {
        Peers.requireCommand("openssl", "openssl");
        String version = OpenSsl.version();
        Peers.CommandResult run = Peers.run(
                Duration.ofSeconds(20),
                "",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        "sieve",
                        "-connect",
                        Peers.LOOPBACK + ":" + responder.port(),
                        "-CAfile",
                        pki.caFile().toString(),
                        "-verify_return_error",
                        "-verify_hostname",
                        "localhost",
                        "-brief"));
        System.out.println(version + ": " + run.output());
        assertThat(run.exitCode()).as(version + ": " + run.output()).isZero();
        assertThat(run.output()).as(version).contains("Verification: OK");
        SieveResponder.Connection c = responder.next();
        assertThat(c.tls()).as(version + ": " + c).isTrue();
        // s_client sends nothing but STARTTLS: the application never saw a command.
        assertThat(c.commands()).as(version).isEmpty();
    }

    @Test
    void sieveConnectUploadsListsAndDownloadsOverTls() throws Exception {
        Peers.requireCommand("sieve-connect", "sieve-connect");
        String version = Peers.run(Duration.ofSeconds(10), "sieve-connect", "--version")
                .output()
                .strip();
        Path script = pki.caFile().resolveSibling("upload.sieve");
        Files.writeString(script, "require \"fileinto\";\r\nfileinto \"optls\";\r\n");
        List<String> base = List.of(
                "sieve-connect",
                "--server",
                "localhost",
                "--port",
                Integer.toString(responder.port()),
                "--user",
                SieveResponder.USER,
                "--passwordfd",
                "0",
                "--tlscafile",
                pki.caFile().toString(),
                "--noclearauth",
                "--authmech",
                "PLAIN");
        Peers.CommandResult upload = Peers.run(
                Duration.ofSeconds(20),
                SieveResponder.PASSWORD + "\n",
                concat(base, "--localsieve", script.toString(), "--remotesieve", "main", "--upload"));
        System.out.println(version + " upload: " + upload.output());
        assertThat(upload.exitCode()).as(version + ": " + upload.output()).isZero();
        SieveResponder.Connection c = responder.next();
        assertThat(c.tls()).as(version + ": " + c).isTrue();
        assertThat(c.verbs()).as(version).containsExactly("AUTHENTICATE", "PUTSCRIPT");
        assertThat(c.commands()).allSatisfy(cmd -> assertThat(cmd.tlsActive()).isTrue());
        assertThat(responder.stored()).containsExactly(Files.readString(script));

        Peers.CommandResult list =
                Peers.run(Duration.ofSeconds(20), SieveResponder.PASSWORD + "\n", concat(base, "--list"));
        System.out.println(version + " list: " + list.output());
        assertThat(list.exitCode()).as(version + ": " + list.output()).isZero();
        assertThat(list.output()).as(version).contains("main");
        assertThat(responder.next().verbs()).containsExactly("AUTHENTICATE", "LISTSCRIPTS");
    }

    @Test
    void requiredTlsRefusesPlaintextAuthenticate() throws Exception {
        try (Socket raw = new Socket(Peers.LOOPBACK, required.port())) {
            SieveInterop.Lines lines = new SieveInterop.Lines(raw);
            List<String> greeting = lines.readResponse();
            assertThat(greeting).contains("\"SASL\" \"\"", "\"STARTTLS\"");
            assertThat(lines.send(SieveInterop.authenticatePlain(SieveResponder.USER, SieveResponder.PASSWORD))
                            .readLine())
                    .startsWith("NO (ENCRYPT-NEEDED)");
            assertThat(lines.send("LOGOUT").readLine()).startsWith("OK");
        }
        assertThat(required.next().commands()).isEmpty();
    }

    /** CVE-2011-0411: AUTHENTICATE pipelined after STARTTLS in one write goes to TLS, never to the application. */
    @Test
    void serverNeverAnswersCommandsInjectedWithStartTls() throws Exception {
        try (Socket raw = new Socket(Peers.LOOPBACK, responder.port())) {
            raw.setSoTimeout(5000);
            SieveInterop.Lines lines = new SieveInterop.Lines(raw);
            lines.readResponse();
            OutputStream out = raw.getOutputStream();
            out.write(("STARTTLS\r\n" + SieveInterop.authenticatePlain(SieveResponder.USER, SieveResponder.PASSWORD)
                            + "\r\nLISTSCRIPTS\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(lines.readLine()).startsWith("OK");
            Thread.sleep(300);
            InputStream in = raw.getInputStream();
            byte[] after = in.readNBytes(in.available());
            if (after.length > 0) {
                // Only a TLS alert record may follow, never a plaintext answer to AUTHENTICATE.
                assertThat(after[0]).as("a TLS alert record, not plaintext").isEqualTo((byte) 21);
            }
            SSLSocket tls = (SSLSocket) pki.clientContext().getSocketFactory().createSocket(raw, "localhost", 0, true);
            tls.setSoTimeout(5000);
            assertThatThrownBy(tls::startHandshake).isInstanceOf(IOException.class);
        }
        SieveResponder.Connection c = responder.next();
        assertThat(c.commands())
                .as("the injected commands reached the application: " + c)
                .isEmpty();
        assertThat(c.tls()).isFalse();
        assertThat(c.failure()).get().asString().contains(FailureKind.HANDSHAKE_FAILED.wireName());
    }

    /** Response injection: a forged capability list right after the go-ahead, in the same write. */
    @Test
    void ourClientRejectsBytesAfterTheGoAhead() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
            CompletableFuture<String> attacker = CompletableFuture.supplyAsync(() -> {
                try (Socket s = fake.accept()) {
                    SieveInterop.Lines lines = new SieveInterop.Lines(s);
                    OutputStream out = s.getOutputStream();
                    out.write("\"IMPLEMENTATION\" \"fake\"\r\n\"SASL\" \"\"\r\n\"STARTTLS\"\r\nOK\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    String upgrade = lines.readLine();
                    out.write("OK\r\n\"IMPLEMENTATION\" \"evil\"\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    byte[] rest = s.getInputStream().readNBytes(64);
                    return upgrade + "|after:" + new String(rest, StandardCharsets.ISO_8859_1);
                } catch (IOException e) {
                    return "io: " + e;
                }
            });
            try (ClientSession session = SieveInterop.negotiate(
                    SieveInterop.client(SecurityLevel.VERIFY, pki.trust()), Peers.LOOPBACK, fake.getLocalPort())) {
                assertThat(session.status()).isEqualTo(ClientSession.Status.FAILED);
                assertThat(session.socket()).isEmpty();
                assertThat(session.failure().orElseThrow().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
            }
            // The client sent STARTTLS, then nothing: no ClientHello, no plaintext command.
            assertThat(attacker.get(10, TimeUnit.SECONDS)).isEqualTo("STARTTLS|after:");
        }
    }

    private static List<String> concat(List<String> base, String... more) {
        List<String> all = new java.util.ArrayList<>(base);
        all.addAll(List.of(more));
        return all;
    }
}
