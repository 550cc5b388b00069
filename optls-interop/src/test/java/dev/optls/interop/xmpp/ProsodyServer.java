package dev.optls.interop.xmpp;

import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A private Prosody 0.12 ({@code prosody}, Debian) on 127.0.0.1 and free high ports, with its own config,
 * data, pid and log in a temporary directory, run in the foreground ({@code -F}, {@code run_as_root}) and
 * killed on {@link #close()}. It serves one virtual host, {@link #DOMAIN}, with c2s and s2s listeners;
 * with a certificate it offers STARTTLS ({@code <required/>} on both, as Prosody's defaults) and direct TLS
 * on {@code c2s_direct_tls_ports} (XEP-0368, new in 0.12); without one it has no TLS at all.
 */
final class ProsodyServer implements AutoCloseable {
    static final String DOMAIN = "xmpp.test";

    private final Peers.PeerDirectory dir = Peers.tempDir("prosody");
    private final int c2sPort = Peers.freePort();
    private final int s2sPort = Peers.freePort();
    private final int directTlsPort = Peers.freePort();
    private final boolean tls;
    private final Process process;

    /** @param credential the server certificate, or null for a server without TLS */
    ProsodyServer(Credential credential) {
        Peers.requireCommand("prosody", "prosody");
        this.tls = credential != null;
        Path d = dir.path();
        StringBuilder conf = new StringBuilder()
                .append("run_as_root = true\n")
                .append("pidfile = \"" + d.resolve("prosody.pid") + "\"\n")
                .append("data_path = \"" + d.resolve("data") + "\"\n")
                .append("log = { { levels = { min = \"debug\" }, to = \"file\", filename = \""
                        + d.resolve("prosody.log") + "\" } }\n")
                // Without a certificate mod_tls stays out: it would otherwise look for certificates on its own.
                .append("modules_enabled = { " + (tls ? "\"tls\"; " : "")
                        + "\"dialback\"; \"saslauth\"; \"disco\"; \"ping\" }\n")
                .append(tls ? "" : "modules_disabled = { \"tls\" }\n")
                .append("local_interfaces = { \"" + Peers.LOOPBACK + "\" }\n")
                .append("interfaces = { \"" + Peers.LOOPBACK + "\" }\n")
                .append("c2s_ports = { " + c2sPort + " }\n")
                .append("s2s_ports = { " + s2sPort + " }\n")
                .append("authentication = \"internal_hashed\"\n")
                .append("s2s_secure_auth = false\n");
        try {
            Files.createDirectories(d.resolve("data"));
            if (tls) {
                Credential.PemPaths pem = credential.writePem(d, "server");
                conf.append("c2s_direct_tls_ports = { " + directTlsPort + " }\n")
                        .append("c2s_require_encryption = true\n")
                        .append("s2s_require_encryption = true\n")
                        .append("ssl = { certificate = \"" + pem.chain() + "\"; key = \"" + pem.traditionalPrivateKey()
                                + "\"; }\n");
            } else {
                conf.append("c2s_require_encryption = false\n").append("s2s_require_encryption = false\n");
            }
            conf.append("VirtualHost \"" + DOMAIN + "\"\n");
            Files.writeString(d.resolve("prosody.cfg.lua"), conf.toString());
            process = new ProcessBuilder(List.of(
                            "prosody", "--config", d.resolve("prosody.cfg.lua").toString(), "-F"))
                    .directory(d.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(d.resolve("stdout.txt").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start prosody", e);
        }
        try {
            Peers.awaitPort(Peers.LOOPBACK, c2sPort, Duration.ofSeconds(15));
            Peers.awaitPort(Peers.LOOPBACK, s2sPort, Duration.ofSeconds(15));
            if (tls) {
                Peers.awaitPort(Peers.LOOPBACK, directTlsPort, Duration.ofSeconds(15));
            }
        } catch (RuntimeException e) {
            String output = Peers.readIfExists(d.resolve("stdout.txt")) + Peers.readIfExists(d.resolve("prosody.log"));
            close();
            throw new IllegalStateException("prosody did not come up: " + output, e);
        }
    }

    int c2sPort() {
        return c2sPort;
    }

    int s2sPort() {
        return s2sPort;
    }

    /** The XEP-0368 direct-TLS c2s port (only with a certificate). */
    int directTlsPort() {
        if (!tls) {
            throw new IllegalStateException("no direct TLS without a certificate");
        }
        return directTlsPort;
    }

    String log() {
        return Peers.readIfExists(dir.path().resolve("prosody.log"));
    }

    /** The Debian package version, e.g. {@code prosody 0.12.3-1+deb12u1}. */
    static String version() {
        return "prosody "
                + Peers.run(Duration.ofSeconds(10), "dpkg-query", "-W", "-f=${Version}", "prosody")
                        .output()
                        .strip();
    }

    @Override
    public void close() {
        Peers.killTree(process.toHandle());
        dir.close();
    }
}
