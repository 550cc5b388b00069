package dev.optls.interop.ourclient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.optls.cli.Main;
import dev.optls.core.ClientOptions;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.interop.peers.DovecotServer;
import dev.optls.interop.peers.PeerTls;
import dev.optls.interop.peers.Peers;
import dev.optls.interop.peers.PostfixServer;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Shared fixtures for the tests of the optls client against real daemons: a test PKI whose CA the client
 * trusts, clients for each level, connecting from a chosen loopback address, and the CLI.
 */
final class OurClient {

    /** The reference identity every client checks; the peers' certificates are issued for it. */
    static final String SERVER_NAME = "localhost";

    /** Generous for loopback, short enough that a hang fails the test quickly. */
    static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));

    private OurClient() {}

    /** A test CA, its PEM file, and a server certificate and key issued by it, in one peer directory. */
    static final class Pki implements AutoCloseable {
        private final Peers.PeerDirectory dir;
        private final TestPki pki;
        private final Path caFile;

        private Pki() {
            this.dir = Peers.tempDir("ourclient-pki");
            this.pki = TestPki.create();
            this.caFile = pki.writeCaPem(dir.resolve("ca.pem"));
        }

        /** A fresh CA in a fresh directory. */
        static Pki create() {
            return new Pki();
        }

        /** PEM files of a leaf for {@code localhost} and {@code 127.0.0.1}, issued by this CA. */
        Peers.PemFiles localhost() {
            return write(pki.leaf(SERVER_NAME).ipAddresses(Peers.LOOPBACK).issue(), "localhost");
        }

        /** PEM files of a leaf issued by this CA for {@code dnsName} only. */
        Peers.PemFiles leafFor(String dnsName) {
            return write(pki.leaf(dnsName).issue(), dnsName);
        }

        private Peers.PemFiles write(Credential credential, String name) {
            Credential.PemPaths paths = credential.writePem(dir.path(), name);
            return new Peers.PemFiles(paths.chain(), paths.privateKey());
        }

        /** The CA certificate as a PEM file (for {@code optls probe --ca}). */
        Path caFile() {
            return caFile;
        }

        /** Trust anchors holding exactly this CA. */
        TrustAnchors trust() {
            return TrustAnchors.of(pki.trustStore());
        }

        @Override
        public void close() {
            dir.close();
        }
    }

    /**
     * A client for {@code protocol} at {@code level}, trusting {@code trust}, checking {@link #SERVER_NAME},
     * offering the protocol's ALPN id.
     */
    static StartTlsClient client(Protocol protocol, SecurityLevel level, TrustAnchors trust, boolean implicitTls) {
        // NONE never starts TLS; StartTlsClient still wants a ClientTls, and the CLI passes a MAY one too.
        ClientTls tls = ClientTls.create(
                level == SecurityLevel.NONE ? SecurityLevel.MAY : level,
                trust,
                ReferenceIdentity.of(SERVER_NAME),
                protocol.alpn(),
                TlsProfile.modern());
        return new StartTlsClient(protocol, ClientOptions.of(level).withImplicitTls(implicitTls), tls, TIMEOUTS);
    }

    /** A negotiation and the local port it ran from (to find the connection in a daemon's log). */
    record Attempt(ClientSession session, int localPort) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            session.close();
        }
    }

    /**
     * Connects to {@code 127.0.0.1:port} from {@code localAddress} and runs {@code client}'s negotiation on
     * the socket.
     */
    static Attempt negotiate(StartTlsClient client, String localAddress, int port) {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.bind(new InetSocketAddress(localAddress, 0));
            socket.connect(new InetSocketAddress(Peers.LOOPBACK, port), 5000);
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("cannot connect to " + Peers.LOOPBACK + ":" + port, e);
        }
        int localPort = socket.getLocalPort();
        return new Attempt(client.negotiate(socket, Peers.LOOPBACK, port), localPort);
    }

    /** {@link #negotiate(StartTlsClient, String, int)} from {@value Peers#LOOPBACK}. */
    static Attempt negotiate(StartTlsClient client, int port) {
        return negotiate(client, Peers.LOOPBACK, port);
    }

    /** A one-line summary of a session for the test log: status, ending, TLS parameters, failure. */
    static String describe(ClientSession session) {
        return session.protocol() + " " + session.status()
                + session.result().map(r -> " ending=" + r.ending()).orElse("")
                + session.tls()
                        .map(t -> " " + t.protocolVersion() + " " + t.cipherSuite() + " alpn='"
                                + t.applicationProtocol() + "'")
                        .orElse("")
                + session.verification().map(v -> " verification=" + v).orElse("")
                + session.failure().map(f -> " failure=" + f).orElse("")
                + session.result()
                        .map(r -> " before=" + r.before().entries() + " after="
                                + r.after().entries())
                        .orElse("");
    }

    /** One run of {@code optls} through {@link Main#run(PrintWriter, PrintWriter, String...)}. */
    record CliRun(int exitCode, String out, String err) {
        /** The standard output parsed as JSON. */
        JsonNode json() {
            try {
                return new ObjectMapper().readTree(out);
            } catch (IOException e) {
                throw new AssertionError("optls did not print JSON (exit " + exitCode + "): " + out + err, e);
            }
        }
    }

    /** Runs {@code optls probe <uri> --level <level> --ca <ca> --servername localhost --json}. */
    static CliRun probe(String uri, SecurityLevel level, Path caFile) {
        List<String> args = new ArrayList<>(Arrays.asList(
                "probe",
                uri,
                "--level",
                level.name().toLowerCase(java.util.Locale.ROOT),
                "--ca",
                caFile.toString(),
                "--servername",
                SERVER_NAME,
                "--timeout",
                "10",
                "--json"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true);
                PrintWriter e = new PrintWriter(err, true)) {
            code = Main.run(o, e, args.toArray(String[]::new));
        }
        return new CliRun(code, out.toString(), err.toString());
    }

    /**
     * Postfix's {@code disconnect from ...} line for the connection from {@code localPort}, with its command
     * counts ({@code ehlo=2 starttls=1 mail=1 quit=1 commands=5}). Needs {@code smtpd_client_port_logging}.
     *
     * @throws AssertionError if it is not logged within 5 s; the message holds the log
     */
    static String postfixDisconnect(PostfixServer postfix, int localPort) {
        String client = "[" + Peers.LOOPBACK + "]:" + localPort + " ";
        return awaitLine(
                postfix::log, l -> l.contains("disconnect from ") && l.contains(client), "Postfix", client.strip());
    }

    /** A Postfix builder that logs client ports, so each test finds its own connection in the log. */
    static PostfixServer.Builder postfix(PeerTls tls, Peers.PemFiles pem) {
        PostfixServer.Builder builder = PostfixServer.builder().tls(tls).mainCf("smtpd_client_port_logging", "yes");
        if (pem != null) {
            builder.certificate(pem.chain(), pem.key());
        }
        return builder;
    }

    /**
     * A Dovecot builder whose login process logs the client port ({@code rport=}), so each test finds its own
     * connection in the log.
     */
    static DovecotServer.Builder dovecot(PeerTls tls, Peers.PemFiles pem) {
        DovecotServer.Builder builder = DovecotServer.builder()
                .tls(tls)
                .config("login_log_format_elements = user=<%u> method=%m rip=%r rport=%{rport} lip=%l mpid=%e %c"
                        + " session=<%{session}>");
        if (pem != null) {
            builder.certificate(pem.chain(), pem.key());
        }
        return builder;
    }

    /**
     * Dovecot's login-process line for the connection from {@code localPort} ({@code Login: ...} or
     * {@code Disconnected: ...}).
     *
     * @throws AssertionError if it is not logged within 5 s; the message holds the log
     */
    static String dovecotLoginLine(DovecotServer dovecot, int localPort) {
        String client = "rport=" + localPort + ",";
        return awaitLine(dovecot::log, l -> l.contains("-login: ") && l.contains(client), "Dovecot", client);
    }

    private static String awaitLine(Supplier<String> log, Predicate<String> wanted, String peer, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            String text = log.get();
            Optional<String> line = text.lines().filter(wanted).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(peer + " logged nothing for " + what + " within 5 s:\n" + text);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for the log of " + peer, e);
            }
        }
    }
}
