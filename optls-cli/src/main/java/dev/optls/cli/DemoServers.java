package dev.optls.cli;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Limits;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.ftp.FtpFiles;
import dev.optls.tls.ftp.FtpReadOnlyServer;
import dev.optls.tls.ftp.FtpServerPolicy;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The demo's optls servers on loopback, with a throwaway CA. */
public final class DemoServers implements Closeable {

    /** How a demo server treats TLS. */
    public enum Kind {
        /** Offers STARTTLS. */
        STARTTLS,
        /** Never offers STARTTLS (no certificate). */
        NO_STARTTLS,
        /** Implicit TLS (smtps/submissions, imaps, pop3s). */
        IMPLICIT
    }

    /** One running server. */
    public record Server(Protocol protocol, Kind kind, int port) {
        /** The URI a client would use. */
        public String uri() {
            String scheme = kind == Kind.IMPLICIT ? protocol.implicitScheme().orElseThrow() : protocol.scheme();
            return scheme + "://127.0.0.1:" + port;
        }
    }

    /** The name the demo certificate is issued for. */
    public static final String SERVER_NAME = "localhost";

    private final TestPki pki;
    private final Credential credential;
    private final List<ServerSocket> sockets = new ArrayList<>();
    private final List<Server> servers = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "optls-demo");
        t.setDaemon(true);
        return t;
    });

    private DemoServers(TestPki pki) {
        this.pki = pki;
        this.credential = pki.leaf(SERVER_NAME).ipAddresses("127.0.0.1").issue();
    }

    /** Starts one server of each kind for each mail protocol. */
    public static DemoServers start() throws IOException {
        DemoServers demo = new DemoServers(TestPki.create("optls demo CA", dev.optls.testkit.KeyType.EC_P256));
        for (Protocol p : Protocol.values()) {
            demo.add(p, Kind.STARTTLS);
            demo.add(p, Kind.NO_STARTTLS);
            if (p.implicitScheme().isPresent()) {
                demo.add(p, Kind.IMPLICIT);
            }
        }
        return demo;
    }

    /** The running servers. */
    public List<Server> servers() {
        return List.copyOf(servers);
    }

    /** Writes the throwaway CA certificate (for {@code optls probe --ca}) and returns its path. */
    public Path writeCa(Path file) {
        return pki.writeCaPem(file);
    }

    /** Trust anchors holding the throwaway CA. */
    public java.security.KeyStore trustStore() {
        return pki.trustStore();
    }

    private void add(Protocol protocol, Kind kind) throws IOException {
        ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        sockets.add(listener);
        Server server = new Server(protocol, kind, listener.getLocalPort());
        servers.add(server);
        Optional<ServerTls> tls = kind == Kind.NO_STARTTLS
                ? Optional.empty()
                : Optional.of(ServerTls.create(
                        credential.chain(), credential.privateKey(), protocol.alpn(), TlsProfile.modern()));
        ServerOptions options = options(protocol, kind);
        if (protocol == Protocol.FTP) {
            addFtp(listener, kind, tls, options);
            return;
        }
        StartTlsServer startTls = new StartTlsServer(
                protocol,
                options,
                tls,
                new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(10)));
        CommandHandler handler = handler(protocol);
        pool.execute(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket accepted = listener.accept();
                    pool.execute(() -> {
                        ServerSession session = kind == Kind.IMPLICIT
                                ? startTls.serveImplicit(accepted, handler)
                                : startTls.serve(accepted, handler);
                        try {
                            session.close();
                        } catch (IOException ignored) {
                            // Closing a finished connection: nothing to report.
                        }
                    });
                } catch (IOException e) {
                    return; // listener closed
                }
            }
        });
    }

    /** FTP: a read-only server with protected, session-resuming data channels, so {@code --list} works. */
    private void addFtp(ServerSocket listener, Kind kind, Optional<ServerTls> tls, ServerOptions options) {
        FtpReadOnlyServer ftp = new FtpReadOnlyServer(
                options,
                tls,
                new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(10)),
                FtpFiles.of(java.util.Map.of(
                        "/pub/hello.txt",
                                "hello from the optls demo\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        "/pub/README",
                                "a read-only demo FTP server\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))),
                FtpServerPolicy.SECURE,
                data -> {});
        pool.execute(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket accepted = listener.accept();
                    pool.execute(() -> {
                        if (kind == Kind.IMPLICIT) {
                            ftp.serveImplicit(accepted);
                        } else {
                            ftp.serve(accepted);
                        }
                    });
                } catch (IOException e) {
                    return; // listener closed
                }
            }
        });
    }

    static ServerOptions options(Protocol protocol, Kind kind) {
        Capabilities plain;
        Capabilities tls;
        switch (protocol) {
            case IMAP -> {
                plain = Capabilities.of("IMAP4rev1", "IMAP4rev2", "SASL-IR", "ID");
                tls = Capabilities.of("IMAP4rev1", "IMAP4rev2", "SASL-IR", "ID", "AUTH=PLAIN");
            }
            case POP3 -> {
                plain = Capabilities.of("TOP", "UIDL", "RESP-CODES", "PIPELINING");
                tls = Capabilities.of("TOP", "UIDL", "RESP-CODES", "PIPELINING", "USER", "SASL PLAIN");
            }
            case POSTGRES, LDAP, MYSQL -> {
                // No capability list: SSLRequest / the StartTLS request is the only question asked; MySQL's
                // greeting flags (CLIENT_SSL) are added by the dialect.
                plain = Capabilities.NONE;
                tls = Capabilities.NONE;
            }
            case IRC -> {
                // The dialect adds "tls" while the upgrade is offered.
                plain = Capabilities.of("multi-prefix", "sasl");
                tls = Capabilities.of("multi-prefix", "sasl", "message-tags");
            }
            case XMPP, XMPP_SERVER -> {
                // Stream features (RFC 6120 §4.3); the dialect adds <starttls/> while the upgrade is offered.
                plain = Capabilities.of("dialback");
                tls = Capabilities.of("mechanisms PLAIN SCRAM-SHA-1", "dialback");
            }
            case NNTP -> {
                // The dialect lists VERSION 2 first and STARTTLS while it is offered.
                plain = Capabilities.of("READER", "LIST ACTIVE NEWSGROUPS");
                tls = Capabilities.of("READER", "LIST ACTIVE NEWSGROUPS", "AUTHINFO USER");
            }
            case FTP -> {
                // The dialect adds AUTH TLS (while offered), PBSZ and PROT.
                plain = Capabilities.of("EPSV", "PASV", "SIZE", "UTF8");
                tls = Capabilities.of("EPSV", "PASV", "SIZE", "UTF8");
            }
            case SIEVE -> {
                plain = Capabilities.of("IMPLEMENTATION optls demo", "SIEVE fileinto reject envelope", "VERSION 1.0");
                tls = Capabilities.of(
                        "IMPLEMENTATION optls demo", "SIEVE fileinto reject envelope", "VERSION 1.0", "SASL PLAIN");
            }
            default -> {
                plain = Capabilities.of("PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES");
                tls = Capabilities.of("PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES", "AUTH PLAIN");
            }
        }
        boolean offers = kind != Kind.NO_STARTTLS;
        ServerOptions options =
                new ServerOptions(SERVER_NAME, "optls demo", plain, tls, offers, false, false, true, Limits.DEFAULT);
        return kind == Kind.IMPLICIT ? options.implicitTls() : options;
    }

    /** Answers what the dialects hand to the application: NOOP works, the rest is not part of the demo. */
    static CommandHandler handler(Protocol protocol) {
        return (Command c) -> switch (protocol) {
            case IMAP ->
                c.verb().equals("NOOP")
                        ? c.tag() + " OK NOOP completed"
                        : c.tag() + " NO " + c.verb() + " is not part of the optls demo";
            case POP3 -> c.verb().equals("NOOP") ? "+OK" : "-ERR " + c.verb() + " is not part of the optls demo";
            case SIEVE -> "NO \"" + c.verb() + " is not part of the optls demo\"";
            case NNTP -> "502 " + c.verb() + " is not part of the optls demo";
            case IRC -> ":" + SERVER_NAME + " 421 * " + c.verb() + " :Not part of the optls demo";
            case FTP -> "502 " + c.verb() + " is not part of the optls demo";
            // Binary replies: the demo takes the connection over and closes it.
            case POSTGRES, LDAP, MYSQL -> CommandHandler.HAND_OVER;
            // RFC 6120 §4.9.3.21: a stream error ends the demo stream politely.
            case XMPP, XMPP_SERVER ->
                "<stream:error><unsupported-stanza-type xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                        + "</stream:error></stream:stream>";
            default ->
                c.verb().equals("NOOP") || c.verb().equals("RSET")
                        ? "250 2.0.0 Ok"
                        : "502 5.5.1 " + c.verb() + " is not part of the optls demo";
        };
    }

    @Override
    public void close() {
        for (ServerSocket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // Shutting down.
            }
        }
        pool.shutdownNow();
    }
}
