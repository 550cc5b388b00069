package dev.optls.interop.ftp;

import dev.optls.core.Capabilities;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.ftp.FtpFiles;
import dev.optls.tls.ftp.FtpReadOnlyServer;
import dev.optls.tls.ftp.FtpServerPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** OUR read-only FTP server ({@link FtpReadOnlyServer}) on 127.0.0.1 and an ephemeral port, TLS required. */
final class OurFtpServer implements AutoCloseable {
    static final byte[] HELLO = "hello from optls\n".getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket listener;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final BlockingQueue<ServerSession> sessions = new LinkedBlockingQueue<>();
    private final List<FtpReadOnlyServer.DataConnection> data = new CopyOnWriteArrayList<>();

    OurFtpServer(Credential credential, FtpServerPolicy policy, boolean implicit) {
        ServerTls tls =
                ServerTls.create(credential.chain(), credential.privateKey(), Protocol.FTP.alpn(), TlsProfile.modern());
        ServerOptions options = ServerOptions.offering("localhost", Capabilities.of("EPSV", "PASV", "SIZE", "UTF8"))
                .withTlsRequired(true);
        FtpReadOnlyServer server = new FtpReadOnlyServer(
                options,
                Optional.of(tls),
                Timeouts.all(Duration.ofSeconds(10)),
                FtpFiles.of(Map.of("/pub/hello.txt", HELLO, "/pub/docs/readme.txt", new byte[] {'r', '\n'})),
                policy,
                data::add);
        try {
            listener = new ServerSocket(0, 10, InetAddress.getByName(Peers.LOOPBACK));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pool.submit(() -> {
            while (!listener.isClosed()) {
                Socket s;
                try {
                    s = listener.accept();
                } catch (IOException e) {
                    return;
                }
                pool.submit(() -> sessions.add(implicit ? server.serveImplicit(s) : server.serve(s)));
            }
        });
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Data connections so far. */
    List<FtpReadOnlyServer.DataConnection> data() {
        return List.copyOf(data);
    }

    /** The next finished control session. */
    ServerSession next() throws InterruptedException {
        ServerSession s = sessions.poll(15, TimeUnit.SECONDS);
        if (s == null) {
            throw new AssertionError("no FTP session ended within 15 s");
        }
        return s;
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // Closing at the end of the tests.
        }
        pool.shutdownNow();
    }
}
