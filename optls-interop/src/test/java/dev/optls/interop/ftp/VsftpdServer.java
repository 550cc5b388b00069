package dev.optls.interop.ftp;

import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * A private vsftpd 3 on 127.0.0.1 and a free high port, with its own config, anonymous root (read-only but for
 * {@code /incoming}, where anonymous uploads go), secure_chroot_dir and log in a temporary directory, run in the foreground ({@code background=NO}) and
 * killed (with its per-connection children) on {@link #close()}.
 *
 * <p>With TLS: {@code ssl_enable=YES}, anonymous logins and data forced over TLS ({@code
 * force_anon_logins_ssl}, {@code force_anon_data_ssl}) and {@code require_ssl_reuse=YES}. {@code
 * maxTls12} caps OpenSSL at TLS 1.2 through {@code OPENSSL_CONF} (vsftpd 3.0.3 has no option for it).
 */
public final class VsftpdServer implements AutoCloseable {
    /** The content of {@code /pub/hello.txt}. */
    public static final byte[] HELLO = "hello from vsftpd\n".getBytes(StandardCharsets.US_ASCII);

    /** The content of {@code /pub/big.bin}: 2 MiB and a few bytes, not a multiple of any buffer size. */
    public static final byte[] BIG = big();

    /**
     * The size of {@code /pub/huge.bin} (zeros, a sparse file): more than the socket buffers between a client
     * and vsftpd hold, so a client that abandons its download does it while vsftpd is still sending.
     */
    public static final long HUGE_SIZE = 256L * 1024 * 1024;

    private final Peers.PeerDirectory dir = Peers.tempDir("vsftpd");
    private final int port = Peers.freePort();
    private final Process process;

    /**
     * Starts vsftpd.
     *
     * @param credential its certificate, when {@code tls}
     * @param tls {@code ssl_enable=YES} (else vsftpd has no TLS at all and answers AUTH with 530)
     * @param maxTls12 cap OpenSSL at TLS 1.2
     */
    public VsftpdServer(Credential credential, boolean tls, boolean maxTls12) {
        Peers.requireCommand("vsftpd", "vsftpd");
        Path d = dir.path();
        try {
            Path root = dir.mkdir("root");
            Path pub = Files.createDirectories(root.resolve("pub"));
            Files.write(pub.resolve("hello.txt"), HELLO);
            Files.write(pub.resolve("big.bin"), BIG);
            try (RandomAccessFile huge =
                    new RandomAccessFile(pub.resolve("huge.bin").toFile(), "rw")) {
                huge.setLength(HUGE_SIZE);
            }
            // vsftpd refuses a writable anon_root; uploads go to a subdirectory the anonymous user ("ftp") can write.
            Files.setPosixFilePermissions(
                    Files.createDirectories(root.resolve("incoming")), PosixFilePermissions.fromString("rwxrwxrwx"));
            Path empty = dir.mkdir("empty");
            StringBuilder conf = new StringBuilder()
                    .append("listen=YES\nlisten_ipv6=NO\nbackground=NO\n")
                    .append("listen_address=" + Peers.LOOPBACK + "\nlisten_port=" + port + "\n")
                    .append("anonymous_enable=YES\nno_anon_password=YES\nanon_root=" + root + "\n")
                    .append("local_enable=NO\nwrite_enable=YES\nanon_upload_enable=YES\nanon_umask=022\n")
                    .append("pasv_enable=YES\npasv_address=" + Peers.LOOPBACK + "\n")
                    .append("seccomp_sandbox=NO\nsecure_chroot_dir=" + empty + "\n")
                    .append("vsftpd_log_file=" + d.resolve("vsftpd.log") + "\nxferlog_enable=YES\n")
                    .append("log_ftp_protocol=YES\ndebug_ssl=YES\n");
            if (tls) {
                Credential.PemPaths pem = credential.writePem(d, "localhost");
                conf.append("ssl_enable=YES\nallow_anon_ssl=YES\n")
                        .append("force_anon_logins_ssl=YES\nforce_anon_data_ssl=YES\n")
                        .append("force_local_logins_ssl=YES\nforce_local_data_ssl=YES\n")
                        .append("require_ssl_reuse=YES\nssl_tlsv1=YES\nssl_sslv2=NO\nssl_sslv3=NO\n")
                        // vsftpd 3.0.3's default ssl_ciphers is DES-CBC3-SHA: no TLS 1.2 suite in common.
                        .append("ssl_ciphers=HIGH\n")
                        .append("rsa_cert_file=" + pem.chain() + "\nrsa_private_key_file=" + pem.privateKey() + "\n");
            } else {
                conf.append("ssl_enable=NO\n");
            }
            Files.writeString(d.resolve("vsftpd.conf"), conf.toString());
            Files.writeString(
                    d.resolve("openssl.cnf"),
                    "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\n"
                            + "system_default = system_default_sect\n[system_default_sect]\nMaxProtocol = TLSv1.2\n");
            ProcessBuilder builder = new ProcessBuilder(
                            List.of("vsftpd", d.resolve("vsftpd.conf").toString()))
                    .directory(d.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(d.resolve("stdout.txt").toFile());
            if (maxTls12) {
                builder.environment()
                        .put("OPENSSL_CONF", d.resolve("openssl.cnf").toString());
            }
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start vsftpd", e);
        }
        try {
            Peers.awaitPort(Peers.LOOPBACK, port, Duration.ofSeconds(15));
        } catch (RuntimeException e) {
            String output = Peers.readIfExists(d.resolve("stdout.txt")) + Peers.readIfExists(d.resolve("vsftpd.log"));
            close();
            throw new IllegalStateException("vsftpd did not come up: " + output, e);
        }
    }

    private static byte[] big() {
        byte[] b = new byte[2 * 1024 * 1024 + 7];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + (i >> 13));
        }
        return b;
    }

    /** The control port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The content of {@code /incoming/NAME}, uploaded by a client. */
    public byte[] uploaded(String name) {
        try {
            return Files.readAllBytes(dir.resolve("root").resolve("incoming").resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException("nothing was uploaded as /incoming/" + name, e);
        }
    }

    /** The server's protocol log (commands, replies, {@code SSL ... reused} lines). */
    public String log() {
        return Peers.readIfExists(dir.resolve("vsftpd.log"));
    }

    /** {@code vsftpd 3.0.3-13+b2} (vsftpd -v needs a terminal, so the Debian package version is used). */
    public static String version() {
        return "vsftpd "
                + Peers.run(Duration.ofSeconds(10), "dpkg-query", "-W", "-f=${Version}", "vsftpd")
                        .output()
                        .strip();
    }

    @Override
    public void close() {
        Peers.killTree(process.toHandle());
        dir.close();
    }
}
