package dev.optls.interop.ldap;

import static org.assertj.core.api.Assertions.assertThat;

import com.unboundid.ldap.sdk.BindResult;
import com.unboundid.ldap.sdk.ExtendedResult;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.Version;
import com.unboundid.ldap.sdk.extensions.StartTLSExtendedRequest;
import dev.optls.core.Capabilities;
import dev.optls.core.FailureKind;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ldapsearch, openssl s_client and the UnboundID LDAP SDK against optls's LDAP server ({@link
 * StartTlsServer#upgrade}), with a tiny LDAP responder on the handed-over TLS socket; and command
 * injection over a real socket.
 */
class RealClientsAgainstOurLdapServerIT {
    private static final Timeouts TIMEOUTS = Timeouts.all(Duration.ofSeconds(10));
    private static TestPki pki;
    private static Credential credential;
    private static Peers.PeerDirectory dir;
    private static Path caPem;

    private ServerSocket listener;

    /** What one served connection produced: the negotiation's session and the requests seen over TLS. */
    record Served(ServerSession session, List<LdapPdu.Message> overTls) {}

    @BeforeAll
    static void pki() {
        pki = TestPki.create();
        // libldap checks "localhost" against the reverse name of the address, so clients use 127.0.0.1,
        // which the certificate names as an iPAddress SAN.
        credential = pki.leaf("localhost").ipAddresses(Peers.LOOPBACK).issue();
        dir = Peers.tempDir("ldap-ourserver");
        caPem = pki.writeCaPem(dir.resolve("ca.pem"));
    }

    @AfterAll
    static void cleanUp() {
        if (dir != null) {
            dir.close();
        }
    }

    @AfterEach
    void close() throws IOException {
        if (listener != null) {
            listener.close();
        }
    }

    private static ServerOptions options() {
        return ServerOptions.offering("localhost", Capabilities.NONE);
    }

    private CompletableFuture<Served> serveOnce(ServerOptions options) throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK));
        ServerTls tls = ServerTls.create(
                credential.chain(), credential.privateKey(), Protocol.LDAP.alpn(), TlsProfile.modern());
        StartTlsServer server = new StartTlsServer(Protocol.LDAP, options, Optional.of(tls), TIMEOUTS);
        return CompletableFuture.supplyAsync(() -> {
            try (Socket accepted = listener.accept()) {
                // LDAP answers are BER: any request before StartTLS is taken over (none is expected here).
                ServerSession session = server.upgrade(accepted, c -> CommandHandler.HAND_OVER);
                List<LdapPdu.Message> seen = new ArrayList<>();
                if (session.socket().isPresent()
                        && session.result().map(Result::ending).orElse(null) == Result.Ending.UPGRADED) {
                    respond(session.socket().get(), seen);
                }
                session.close();
                return new Served(session, seen);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A tiny LDAP responder over TLS: Bind and Search succeed (no entries), Unbind ends, the rest fails. */
    private static void respond(Socket tls, List<LdapPdu.Message> seen) throws IOException {
        tls.setSoTimeout(10_000);
        InputStream in = tls.getInputStream();
        while (true) {
            LdapPdu.Message request;
            try {
                request = LdapPdu.read(in);
            } catch (IOException e) {
                return;
            }
            seen.add(request);
            byte[] answer = switch (request.opTag()) {
                case 0x60 -> LdapPdu.result(request.messageId(), 0x61, 0, "");
                case 0x63 -> LdapPdu.result(request.messageId(), 0x65, 0, "");
                case 0x42 -> null;
                default -> LdapPdu.result(request.messageId(), 0x78, 2, "not supported by the optls test responder");
            };
            if (answer == null) {
                return;
            }
            tls.getOutputStream().write(answer);
            tls.getOutputStream().flush();
        }
    }

    private static List<Integer> tags(Served served) {
        return served.overTls().stream().map(LdapPdu.Message::opTag).toList();
    }

    @Test
    void ldapsearchWithStartTlsRequired() throws Exception {
        Peers.requireCommand("ldapsearch", "ldap-utils");
        String version =
                Peers.run(Duration.ofSeconds(10), "ldapsearch", "-VV").output().strip();
        CompletableFuture<Served> served = serveOnce(options());
        Peers.CommandResult search = Peers.run(
                Duration.ofSeconds(20),
                null,
                List.of(
                        "env",
                        "LDAPTLS_CACERT=" + caPem,
                        "ldapsearch",
                        "-ZZ",
                        "-H",
                        "ldap://" + Peers.LOOPBACK + ":" + listener.getLocalPort(),
                        "-x",
                        "-b",
                        "",
                        "-s",
                        "base"));
        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(search.exitCode()).as(version + "\n" + search.output()).isZero();
        assertThat(search.output()).contains("result: 0 Success");
        assertThat(s.session().tls()).isPresent();
        assertThat(s.session().socket()).get().isInstanceOf(SSLSocket.class);
        // ldapsearch -x: anonymous Bind, then the Search, then Unbind, all over TLS.
        assertThat(tags(s)).as(version).containsSubsequence(0x60, 0x63);
    }

    @Test
    void ldapsearchBindIsRefusedInPlaintextWhenTlsIsRequired() throws Exception {
        Peers.requireCommand("ldapsearch", "ldap-utils");
        CompletableFuture<Served> served = serveOnce(options().withTlsRequired(true));
        Peers.CommandResult search = Peers.run(
                Duration.ofSeconds(20),
                null,
                List.of(
                        "ldapsearch",
                        "-H",
                        "ldap://" + Peers.LOOPBACK + ":" + listener.getLocalPort(),
                        "-x",
                        "-D",
                        "cn=admin,dc=example,dc=org",
                        "-w",
                        "secret",
                        "-b",
                        "",
                        "-s",
                        "base"));
        // RFC 4513 §6.2: confidentialityRequired (13), no credential checked; ldapsearch exits with it.
        assertThat(search.exitCode()).as(search.output()).isEqualTo(13);
        assertThat(search.output()).contains("Confidentiality required");
        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(s.session().tls()).isEmpty();
    }

    @Test
    void opensslStartTlsLdapVerifies() throws Exception {
        Peers.requireCommand("openssl");
        String version =
                Peers.run(Duration.ofSeconds(10), "openssl", "version").output().strip();
        CompletableFuture<Served> served = serveOnce(options());
        Peers.CommandResult openssl = Peers.run(
                Duration.ofSeconds(20),
                "",
                List.of(
                        "openssl",
                        "s_client",
                        "-starttls",
                        "ldap",
                        "-connect",
                        Peers.LOOPBACK + ":" + listener.getLocalPort(),
                        "-CAfile",
                        caPem.toString(),
                        "-verify_return_error",
                        "-verify_hostname",
                        "localhost",
                        "-brief"));
        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(openssl.exitCode()).as(version + "\n" + openssl.output()).isZero();
        assertThat(openssl.output()).contains("Verification: OK", "Protocol version: TLSv1.3");
        assertThat(s.session().tls()).isPresent();
    }

    @Test
    void unboundIdStartTlsThenBindAndSearch() throws Exception {
        CompletableFuture<Served> served = serveOnce(options());
        try (LDAPConnection connection = new LDAPConnection(Peers.LOOPBACK, listener.getLocalPort())) {
            ExtendedResult startTls =
                    connection.processExtendedOperation(new StartTLSExtendedRequest(pki.clientContext()));
            assertThat(startTls.getResultCode()).as(Version.FULL_VERSION_STRING).isEqualTo(ResultCode.SUCCESS);
            assertThat(startTls.getOID()).isEqualTo("1.3.6.1.4.1.1466.20037");
            BindResult bind = connection.bind("cn=admin,dc=example,dc=org", "secret");
            assertThat(bind.getResultCode()).isEqualTo(ResultCode.SUCCESS);
            SearchResult search = connection.search("", SearchScope.BASE, "(objectClass=*)");
            assertThat(search.getResultCode()).isEqualTo(ResultCode.SUCCESS);
        }
        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(s.session().tls()).isPresent();
        assertThat(tags(s)).as(Version.FULL_VERSION_STRING).startsWith(0x60, 0x63);
    }

    /**
     * security.md §5 A.12 over a real socket: StartTLS and a Bind (messageID 2) in one write. The Bind goes
     * to TLS as the start of a "ClientHello" and is never answered in plaintext.
     */
    @Test
    void aBindInjectedWithStartTlsIsNeverAnswered() throws Exception {
        CompletableFuture<Served> served = serveOnce(options());
        try (Socket socket = new Socket(Peers.LOOPBACK, listener.getLocalPort())) {
            socket.setSoTimeout(10_000);
            byte[] start = LdapPdu.startTls(1);
            byte[] bind = LdapPdu.simpleBind(2, "cn=admin,dc=example,dc=org", "secret");
            byte[] attack = java.util.Arrays.copyOf(start, start.length + bind.length);
            System.arraycopy(bind, 0, attack, start.length, bind.length);
            socket.getOutputStream().write(attack);
            socket.getOutputStream().flush();
            LdapPdu.Message response = LdapPdu.read(socket.getInputStream());
            assertThat(response.messageId()).isEqualTo(1);
            assertThat(response.opTag()).isEqualTo(0x78);
            assertThat(response.resultCode()).isZero();
            byte[] rest;
            try {
                rest = socket.getInputStream().readAllBytes();
            } catch (SocketTimeoutException | java.net.SocketException e) {
                rest = new byte[0];
            }
            // Whatever follows is TLS (an alert record, 0x15) or nothing: never an LDAPMessage (0x30).
            assertThat(rest.length == 0 || rest[0] != 0x30)
                    .as("plaintext after the StartTLS response: " + LdapPdu.hex(rest))
                    .isTrue();
        }
        Served s = served.get(20, TimeUnit.SECONDS);
        assertThat(s.session().tls()).isEmpty();
        assertThat(s.session().failure().orElseThrow().kind()).isEqualTo(FailureKind.HANDSHAKE_FAILED);
        assertThat(s.overTls()).isEmpty();
    }
}
