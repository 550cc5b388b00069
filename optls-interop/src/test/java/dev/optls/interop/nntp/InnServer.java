package dev.optls.interop.nntp;

import dev.optls.interop.peers.Peers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * A private INN {@code nnrpd} (Debian {@code inn2}) in standalone daemon mode ({@code nnrpd -D -f -b
 * 127.0.0.1 -p PORT}) with its own inn.conf (via {@code INNCONF}), active file, overview and
 * readers.conf in a temporary directory; no innd. With a certificate it offers STARTTLS (RFC 4642),
 * without one it does not. Runs as root (nnrpd drops to {@code news}); {@link #close()} kills it.
 */
final class InnServer implements AutoCloseable {
    private static final Path BIN = Path.of("/usr/lib/news/bin");
    private static String version;

    private final Peers.PeerDirectory dir = Peers.tempDir("inn");
    private final int port = Peers.freePort();
    private Process process;

    private InnServer() {}

    /** Starts nnrpd; with {@code pem} it offers STARTTLS with that certificate. */
    static InnServer start(Peers.PemFiles pem) {
        Peers.requireRoot();
        Peers.require(Files.isExecutable(BIN.resolve("nnrpd")), "INN nnrpd", "inn2");
        InnServer s = new InnServer();
        try {
            s.configure(pem);
            s.launch();
            return s;
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
    }

    private void configure(Peers.PemFiles pem) {
        Path d = dir.path();
        for (String sub : new String[] {"etc", "db", "run", "log", "spool", "overview", "tmp"}) {
            dir.mkdir(sub);
        }
        StringBuilder c = new StringBuilder("# written by optls-interop InnServer\n");
        c.append("domain: localdomain\npathhost: optls.test\nserver: 127.0.0.1\n");
        c.append("ovmethod: tradindexed\nhismethod: hisv6\nnnrpdcheckart: false\n");
        c.append("readerswhenstopped: true\nnoreader: false\nmta: \"/usr/sbin/sendmail -oi -oem %s\"\n");
        c.append("pathnews: /usr/lib/news\npathbin: ").append(BIN).append('\n');
        c.append("pathcontrol: ").append(BIN.resolve("control")).append('\n');
        c.append("pathfilter: /etc/news/filter\n");
        for (String[] p : new String[][] {
            {"patharchive", "spool"}, {"patharticles", "spool"}, {"pathdb", "db"}, {"pathetc", "etc"},
            {"pathhttp", "log"}, {"pathincoming", "spool"}, {"pathlog", "log"}, {"pathoutgoing", "spool"},
            {"pathoverview", "overview"}, {"pathrun", "run"}, {"pathspool", "spool"}, {"pathtmp", "tmp"}
        }) {
            c.append(p[0]).append(": ").append(d.resolve(p[1])).append('\n');
        }
        if (pem != null) {
            // INN inn.conf(5): tlscertfile/tlskeyfile enable STARTTLS in nnrpd (RFC 4642).
            c.append("tlscertfile: ")
                    .append(copy(pem.chain(), d.resolve("etc/cert.pem")))
                    .append('\n');
            c.append("tlskeyfile: ")
                    .append(copy(pem.key(), d.resolve("etc/key.pem")))
                    .append('\n');
        }
        dir.write("etc/inn.conf", c.toString());
        dir.write(
                "etc/readers.conf",
                "auth \"all\" {\n  hosts: \"*\"\n  default: \"<all>\"\n}\n"
                        + "access \"all\" {\n  users: \"*\"\n  newsgroups: \"*\"\n  access: R\n}\n");
        dir.write("etc/storage.conf", "method tradspool {\n  newsgroups: *\n  class: 0\n}\n");
        dir.write(
                "db/active",
                "control 0000000000 0000000001 n\njunk 0000000000 0000000001 n\nmisc.test 0000000000 0000000001 y\n");
        dir.write("db/active.times", "");
        dir.write("db/newsgroups", "misc.test\tTest group\n");
        Peers.run(Duration.ofSeconds(10), "chown", "-R", "news:news", d.toString())
                .orThrow();
        if (pem != null) {
            // nnrpd answers STARTTLS with "580 Error initializing TLS" when the key is world-readable.
            Peers.run(
                            Duration.ofSeconds(10),
                            "chmod",
                            "600",
                            d.resolve("etc/key.pem").toString())
                    .orThrow();
        }
        // Build the (empty) tradindexed overview and tradspool map, as news. makehistory exits 1 after
        // complaining that tradspool.map is missing, which it then creates; the overview index decides.
        Peers.CommandResult built = Peers.run(
                Duration.ofSeconds(30),
                "",
                java.util.List.of(
                        "su",
                        "news",
                        "-s",
                        "/bin/sh",
                        "-c",
                        "INNCONF=" + d.resolve("etc/inn.conf") + " " + BIN.resolve("makehistory") + " -O -x -F"));
        if (!Files.exists(d.resolve("overview/group.index"))) {
            throw new IllegalStateException("makehistory did not build the overview: " + built.output());
        }
    }

    private static Path copy(Path from, Path to) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            return to;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
        }
    }

    private void launch() {
        Path out = dir.resolve("log/nnrpd.out");
        try {
            ProcessBuilder b = new ProcessBuilder(
                            "setsid",
                            BIN.resolve("nnrpd").toString(),
                            "-D",
                            "-f",
                            "-b",
                            Peers.LOOPBACK,
                            "-p",
                            Integer.toString(port))
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile());
            b.environment().put("INNCONF", dir.resolve("etc/inn.conf").toString());
            process = b.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start nnrpd: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!Peers.accepts(Peers.LOOPBACK, port)) {
            if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("nnrpd did not start on port " + port + "\n" + Peers.readIfExists(out)
                        + Peers.readIfExists(dir.resolve("etc/inn.conf")));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting nnrpd", e);
            }
        }
    }

    int port() {
        return port;
    }

    /** The inn2 package version, for assertion messages. */
    static synchronized String version() {
        if (version == null) {
            version = "INN nnrpd "
                    + Peers.run(Duration.ofSeconds(20), "dpkg-query", "-W", "-f=${Version}", "inn2")
                            .output()
                            .trim();
        }
        return version;
    }

    @Override
    public void close() {
        try {
            if (process != null) {
                Peers.killProcessGroup(process.pid());
                Peers.killTree(process.toHandle(), Duration.ofMillis(300));
                Peers.awaitPortClosed(Peers.LOOPBACK, port, Duration.ofSeconds(3));
            }
        } finally {
            dir.close();
        }
    }

    @Override
    public String toString() {
        return "InnServer[port " + port + ", " + dir + "]";
    }
}
