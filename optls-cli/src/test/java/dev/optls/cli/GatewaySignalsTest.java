package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code optls gateway} as a real process: SIGHUP reloads the certificate for new connections while an open
 * one keeps working; SIGTERM stops accepting and lets the open session finish before the process exits.
 */
@EnabledOnOs(OS.LINUX)
class GatewaySignalsTest {
    @TempDir
    Path dir;

    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private Process process;
    private ServerSocket backend;

    @AfterEach
    void stop() throws Exception {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (backend != null) {
            backend.close();
        }
    }

    /** Greets, then echoes lines; one thread per connection. */
    private int echoBackend() throws IOException {
        backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket s = backend.accept();
                    Thread t = new Thread(() -> {
                        try (s) {
                            BufferedReader in = new BufferedReader(
                                    new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                            OutputStream out = s.getOutputStream();
                            out.write("* OK echo\r\n".getBytes(StandardCharsets.US_ASCII));
                            String line;
                            while ((line = in.readLine()) != null) {
                                out.write(("echo " + line + "\r\n").getBytes(StandardCharsets.UTF_8));
                            }
                        } catch (IOException e) {
                            // closed
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        return backend.getLocalPort();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void pump(java.io.InputStream stream, List<String> into) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    into.add(line);
                }
            } catch (IOException e) {
                // process ended
            }
        });
        t.setDaemon(true);
        t.start();
    }

    private void await(List<String> lines, String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (lines.stream().noneMatch(l -> l.contains(fragment))) {
            if (System.nanoTime() > deadline) {
                String status;
                try {
                    status = Files.readAllLines(Path.of("/proc/" + process.pid() + "/status")).stream()
                            .filter(l -> l.startsWith("Sig") || l.startsWith("State"))
                            .toList()
                            .toString();
                } catch (IOException e) {
                    status = "gone";
                }
                throw new AssertionError("no line with '" + fragment + "'; stdout " + stdout + " stderr " + stderr
                        + " process " + status);
            }
            Thread.sleep(20);
        }
    }

    private record Client(SSLSocket socket, BufferedReader in) implements AutoCloseable {
        static Client connect(SSLContext context, int port) throws IOException {
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(5000);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("* OK echo");
            return new Client(socket, in);
        }

        String say(String line) throws IOException {
            socket.getOutputStream().write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return in.readLine();
        }

        BigInteger serial() throws IOException {
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void sighupReloadsAndSigtermDrains() throws Exception {
        TestPki pki = TestPki.create();
        SSLContext trusting = pki.clientContext();
        Credential first = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        first.writePem(dir, "gateway");
        int port = freePort();
        Path config = Files.writeString(dir.resolve("gateway.toml"), """
                [gateway]
                drain-timeout = "20s"
                certificate-check = "10m"

                [[route]]
                name = "imaps"
                protocol = "imap"
                listen-tls = "implicit"
                listen = "127.0.0.1:%d"
                connect = "127.0.0.1:%d"
                certificate = "gateway.crt"
                key = "gateway.key"
                engine = "jdk"
                """.formatted(port, echoBackend()));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(
                        java,
                        "-Xmx128m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "gateway",
                        "--config",
                        config.toString())
                .start();
        pump(process.getInputStream(), stdout);
        pump(process.getErrorStream(), stderr);
        await(stdout, "listening: route imaps on");

        Client old = Client.connect(trusting, port);
        assertThat(old.serial()).isEqualTo(first.certificate().getSerialNumber());
        Credential second = pki.leaf("localhost").ipAddresses("127.0.0.1").issue();
        second.writePem(dir, "gateway");

        new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start().waitFor(10, TimeUnit.SECONDS);
        await(stderr, "event=reloaded route=imaps");
        try (Client fresh = Client.connect(trusting, port)) {
            assertThat(fresh.serial()).isEqualTo(second.certificate().getSerialNumber());
        }
        assertThat(old.say("after the reload")).isEqualTo("echo after the reload");
        assertThat(old.serial()).isEqualTo(first.certificate().getSerialNumber());
        await(stderr, "event=closed route=imaps");

        // kill(1), as an operator or systemd would; Process.destroy() checks the process start time and
        // silently sends nothing where that check fails (seen in containers).
        new ProcessBuilder("kill", "-TERM", Long.toString(process.pid()))
                .start()
                .waitFor(10, TimeUnit.SECONDS);
        await(stderr, "event=draining open=1");
        assertThat(old.say("during the drain")).isEqualTo("echo during the drain");
        old.close();
        assertThat(process.waitFor(15, TimeUnit.SECONDS))
                .as("exits once the session finished")
                .isTrue();
        await(stderr, "event=stopped finished=1 cut=0");
        assertThat(stderr)
                .anySatisfy(l -> assertThat(l)
                        .contains("event=closed route=imaps")
                        .contains("bytes_from_client=" + "after the reload\r\nduring the drain\r\n".length())
                        .doesNotContain("reason="));
    }
}
