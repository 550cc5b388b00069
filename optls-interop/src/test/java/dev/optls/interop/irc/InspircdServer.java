package dev.optls.interop.irc;

import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A private InspIRCd 3 ({@code inspircd}, Debian) on 127.0.0.1 and a free high port, with its own config,
 * pid and log in a temporary directory, run in the foreground ({@code --nofork --runasroot}) and killed on
 * {@link #close()}. With {@code starttls}, the {@code ssl_gnutls} and {@code starttls} modules are loaded
 * with the given certificate; without, the server has no TLS at all.
 */
final class InspircdServer implements AutoCloseable {
    static final String NAME = "irc.optls.test";

    private final Peers.PeerDirectory dir = Peers.tempDir("inspircd");
    private final int port = Peers.freePort();
    private final Process process;

    InspircdServer(Credential credential, boolean starttls) {
        Peers.requireCommand("inspircd", "inspircd");
        Path d = dir.path();
        StringBuilder conf = new StringBuilder();
        conf.append(
                        "<path configdir=\"%1$s\" datadir=\"%1$s\" logdir=\"%1$s\" runtimedir=\"%1$s\" moduledir=\"/usr/lib/inspircd/modules\">\n"
                                .formatted(d))
                .append("<server name=\"" + NAME + "\" description=\"optls interop\" network=\"optls\">\n")
                .append("<admin name=\"optls\" nick=\"optls\" email=\"optls@example.org\">\n")
                .append("<bind address=\"" + Peers.LOOPBACK + "\" port=\"" + port + "\" type=\"clients\">\n")
                .append(
                        "<connect allow=\"*\" timeout=\"60\" threshold=\"100\" pingfreq=\"120\" hardsendq=\"262144\""
                                + " softsendq=\"8192\" recvq=\"8192\" localmax=\"100\" globalmax=\"100\" resolvehostnames=\"no\">\n")
                .append("<dns server=\"127.0.0.1\" timeout=\"1\">\n")
                .append("<pid file=\"" + d.resolve("inspircd.pid") + "\">\n")
                .append("<log method=\"file\" type=\"* -USERINPUT -USEROUTPUT\" level=\"default\" target=\""
                        + d.resolve("inspircd.log") + "\">\n")
                .append("<module name=\"cap\">\n");
        if (starttls) {
            Credential.PemPaths pem = credential.writePem(d, "localhost");
            conf.append("<module name=\"ssl_gnutls\">\n")
                    .append("<sslprofile name=\"Clients\" provider=\"gnutls\" certfile=\"" + pem.chain()
                            + "\" keyfile=\"" + pem.traditionalPrivateKey()
                            + "\" hash=\"sha256\" requestclientcert=\"no\">\n")
                    .append("<module name=\"starttls\">\n")
                    .append("<starttls provider=\"Clients\">\n");
        }
        try {
            Files.writeString(d.resolve("inspircd.conf"), conf.toString());
            // InspIRCd 3.15 dumps core when killed at shutdown: no core files, and none in the build directory.
            process = new ProcessBuilder(List.of(
                            "sh",
                            "-c",
                            "ulimit -c 0; exec inspircd --nofork --runasroot --config \"$0\"",
                            d.resolve("inspircd.conf").toString()))
                    .directory(d.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(d.resolve("stdout.txt").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start inspircd", e);
        }
        try {
            Peers.awaitPort(Peers.LOOPBACK, port, Duration.ofSeconds(15));
            // Modules load after the listener is bound: a bad TLS setup kills the daemon right after.
            Thread.sleep(500);
            if (!process.isAlive()) {
                throw new IllegalStateException("inspircd exited");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            String output = Peers.readIfExists(d.resolve("stdout.txt")) + Peers.readIfExists(d.resolve("inspircd.log"));
            close();
            throw new IllegalStateException("inspircd did not stay up: " + output, e);
        }
    }

    int port() {
        return port;
    }

    /** {@code InspIRCd-3.15.0-debian}. */
    static String version() {
        return Peers.run(Duration.ofSeconds(10), "inspircd", "--version")
                .output()
                .strip();
    }

    @Override
    public void close() {
        Peers.killTree(process.toHandle());
        dir.close();
    }
}
