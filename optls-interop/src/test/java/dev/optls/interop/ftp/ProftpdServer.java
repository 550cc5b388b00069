package dev.optls.interop.ftp;

import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A private ProFTPD 1.3.8 with mod_tls on 127.0.0.1 and a free high port ({@code proftpd -n}: foreground),
 * anonymous read-only, {@code TLSRequired on} and the default session-reuse requirement (no {@code
 * TLSOptions NoSessionReuseRequired}), config and logs in a temporary directory.
 *
 * <p>Debian's proftpd-core conflicts with vsftpd (both provide ftp-server), so {@code
 * scripts/install-peers.sh} unpacks proftpd-core and proftpd-mod-crypto under {@value #UNPACKED} instead of
 * installing them; an installed {@code proftpd} is used when present.
 */
final class ProftpdServer implements AutoCloseable {
    static final String UNPACKED = "/opt/optls-peers/proftpd";
    static final byte[] HELLO = "hello from proftpd\n".getBytes(StandardCharsets.US_ASCII);

    private final Peers.PeerDirectory dir = Peers.tempDir("proftpd");
    private final int port = Peers.freePort();
    private final Process process;

    ProftpdServer(Credential credential, String tlsProtocols) {
        Path d = dir.path();
        try {
            Path root = dir.mkdir("root");
            Path pub = Files.createDirectories(root.resolve("pub"));
            Files.write(pub.resolve("hello.txt"), HELLO);
            Credential.PemPaths pem = credential.writePem(d, "localhost");
            String conf = String.join(
                    "\n",
                    "ServerName \"optls interop\"",
                    "ServerType standalone",
                    "Port " + port,
                    "DefaultAddress " + Peers.LOOPBACK,
                    "SocketBindTight on",
                    "UseIPv6 off",
                    "User nobody",
                    "Group nogroup",
                    "PidFile " + d.resolve("proftpd.pid"),
                    "ScoreboardFile " + d.resolve("proftpd.scoreboard"),
                    "DelayTable " + d.resolve("proftpd.delay"),
                    "WtmpLog off",
                    "UseReverseDNS off",
                    "SystemLog " + d.resolve("proftpd.log"),
                    "TransferLog " + d.resolve("xfer.log"),
                    "ModulePath " + modulePath(),
                    "LoadModule mod_tls.c",
                    "TLSEngine on",
                    "TLSLog " + d.resolve("tls.log"),
                    "TLSProtocol " + tlsProtocols,
                    "TLSECCertificateFile " + pem.chain(),
                    "TLSECCertificateKeyFile " + pem.privateKey(),
                    "TLSRequired on",
                    "TLSVerifyClient off",
                    "<Anonymous " + root + ">",
                    "  User ftp",
                    "  Group nogroup",
                    "  UserAlias anonymous ftp",
                    "  RequireValidShell off",
                    "  <Limit WRITE>",
                    "    DenyAll",
                    "  </Limit>",
                    "</Anonymous>",
                    "");
            Files.writeString(d.resolve("proftpd.conf"), conf);
            process = new ProcessBuilder(List.of(
                            binary(), "-n", "-c", d.resolve("proftpd.conf").toString()))
                    .directory(d.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(d.resolve("stdout.txt").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start proftpd", e);
        }
        try {
            Peers.awaitPort(Peers.LOOPBACK, port, Duration.ofSeconds(15));
        } catch (RuntimeException e) {
            String output = Peers.readIfExists(d.resolve("stdout.txt"));
            close();
            throw new IllegalStateException("proftpd did not come up: " + output, e);
        }
    }

    /** The unpacked binary, or {@code proftpd} from the PATH (fails under CI=true when neither exists). */
    static String binary() {
        Path unpacked = Path.of(UNPACKED, "usr/sbin/proftpd");
        if (Files.isExecutable(unpacked)) {
            return unpacked.toString();
        }
        return Peers.requireCommand("proftpd", "proftpd-core (unpacked by scripts/install-peers.sh)")
                .toString();
    }

    private static String modulePath() {
        Path unpacked = Path.of(UNPACKED, "usr/lib/proftpd");
        return Files.isDirectory(unpacked) ? unpacked.toString() : "/usr/lib/proftpd";
    }

    int port() {
        return port;
    }

    /** mod_tls's log: "client reused TLS session for data connection" and the like. */
    String tlsLog() {
        return Peers.readIfExists(dir.resolve("tls.log"));
    }

    /** {@code ProFTPD Version 1.3.8}. */
    static String version() {
        return Peers.run(Duration.ofSeconds(10), binary(), "--version").output().strip();
    }

    @Override
    public void close() {
        Peers.killTree(process.toHandle());
        dir.close();
    }
}
