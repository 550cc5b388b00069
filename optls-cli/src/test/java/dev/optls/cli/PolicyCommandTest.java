package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code optls policy query} and {@code optls policy serve}: option checking, the answers when DNS cannot be reached
 * (fail closed: TEMP), and serve as a real process answering socketmap requests and stopping on SIGTERM.
 */
class PolicyCommandTest {

    @TempDir
    Path dir;

    private Process process;

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A UDP port on 127.0.0.1 where nothing answers: every DNS query fails. */
    private static String deadDns() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    @Test
    void mistakesAreUsageErrorsThatSayWhatToDo() throws IOException {
        CliRun run = CliRun.of("policy", "query", "not a domain", "--dns", deadDns());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("'not a domain' is not a domain name");
        run = CliRun.of("policy", "query", "[192.0.2.1]:25", "--dns", deadDns());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("or a [host]:port next hop").contains("[relay.example.com]:587");

        run = CliRun.of("policy", "query", "example.test", "--dns", deadDns(), "--mta-sts-cache", "redis://:pw@h:1");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err())
                .contains("do not put the Redis password in the URI")
                .contains("--redis-password-file");

        run = CliRun.of("policy", "query", "example.test", "--dns", deadDns(), "--mta-sts-cache", "mysql:x");
        assertThat(run.err()).contains("--mta-sts-cache wants sqlite:PATH, redis://HOST[:PORT][/DB] or memory");

        run = CliRun.of(
                "policy",
                "query",
                "example.test",
                "--dns",
                deadDns(),
                "--mta-sts-cache",
                "sqlite:" + dir.resolve("missing/dir/cache.sqlite"));
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("does not exist");

        Path rules = Files.writeString(dir.resolve("rules"), "example.test secure\n");
        run = CliRun.of("policy", "query", "example.test", "--dns", deadDns(), "--local-policies", rules.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("--local-policies: " + rules + ":1: unknown level 'secure'");

        run = CliRun.of("policy", "query", "example.test", "--dns", deadDns(), "--default-level", "verify");
        assertThat(run.err()).contains("--default-level: the default level must be one of");

        run = CliRun.of("policy", "serve", "--listen", "localhost", "--dns", deadDns());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("--listen wants ADDRESS:PORT");

        run = CliRun.of("policy", "serve", "--map-name", "a b", "--dns", deadDns());
        assertThat(run.err()).contains("--map-name 'a b'");

        Path password = Files.writeString(dir.resolve("redis-password"), "secret\n");
        run = CliRun.of(
                "policy",
                "query",
                "example.test",
                "--dns",
                deadDns(),
                "--mta-sts-cache",
                "redis://127.0.0.1:1/3",
                "--redis-password-file",
                password.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err())
                .contains("--mta-sts-cache redis://127.0.0.1:1/3")
                .contains("database 3")
                .contains("check that Redis runs there")
                .doesNotContain("secret");
    }

    @Test
    void serveWithoutTheDefaultCacheDirectorySaysSo() throws IOException {
        Assumptions.assumeFalse(
                Files.exists(Path.of("/var/lib/optls")), "/var/lib/optls exists here: serve would start and block");
        CliRun run = CliRun.of("policy", "serve", "--listen", "127.0.0.1:0", "--dns", deadDns());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err())
                .contains("--mta-sts-cache sqlite:/var/lib/optls/mta-sts.sqlite")
                .contains("the directory /var/lib/optls does not exist; create it or choose another path");
    }

    @Test
    void queryWithAnUnreachableResolverShowsTheTemporaryFailureAndTheTempAnswer() throws IOException {
        CliRun run = CliRun.of(
                "policy", "query", "example.test", "--dns", deadDns(), "--dns-timeout", "1", "--dns-trust-ad");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        assertThat(run.out())
                .contains("example.test: temporary-failure, decided by none")
                .contains("the MX lookup of example.test failed")
                .contains("Postfix answer: TEMP the MX lookup of example.test failed");
    }

    @Test
    void queryTakesARelayHostAsPostfixAsksIt() throws IOException {
        CliRun run = CliRun.of(
                "policy",
                "query",
                "[Relay.Example.Test]:submission",
                "--dns",
                deadDns(),
                "--dns-timeout",
                "1",
                "--dns-trust-ad");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        // No MX lookup: the host's own address records (and then its TLSA records at _587._tcp) decide.
        assertThat(run.out())
                .contains("[relay.example.test]:587: no-usable-host")
                .contains("the address lookup of relay.example.test failed")
                .contains("Postfix answer: TEMP")
                .doesNotContain("MX lookup");
    }

    @Test
    void queryJsonHasThePlanAndTheAnswer() throws IOException {
        CliRun run = CliRun.of(
                "policy",
                "query",
                "a.test",
                "b.test",
                "--json",
                "--dns",
                deadDns(),
                "--dns-timeout",
                "1",
                "--dns-trust-ad");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertThat(json.isArray()).isTrue();
        assertThat(json).hasSize(2);
        assertThat(json.get(1).get("domain").asText()).isEqualTo("b.test");
        assertThat(json.get(0).get("status").asText()).isEqualTo("temporary-failure");
        assertThat(json.get(0).get("hosts")).isEmpty();
        assertThat(json.get(0).get("postfix").get("status").asText()).isEqualTo("TEMP");
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void serveAnswersSocketmapRequestsAndStopsOnSigterm() throws Exception {
        List<String> stdout = new CopyOnWriteArrayList<>();
        List<String> stderr = new CopyOnWriteArrayList<>();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(
                        java,
                        "-Xmx128m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "policy",
                        "serve",
                        "--listen",
                        "127.0.0.1:0",
                        "--map-name",
                        "tls",
                        "--dns",
                        deadDns(),
                        "--dns-timeout",
                        "1",
                        "--dns-trust-ad",
                        "--mta-sts-cache",
                        "memory",
                        "--log-level",
                        "debug")
                .start();
        pump(process.getInputStream(), stdout);
        pump(process.getErrorStream(), stderr);
        String listening = await(stdout, "listening: socketmap on 127.0.0.1:");
        int port = Integer.parseInt(listening.replaceAll(".*127\\.0\\.0\\.1:(\\d+).*", "$1"));
        assertThat(await(stdout, "main.cf:"))
                .isEqualTo("main.cf: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:" + port + ":tls");

        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            assertThat(ask(s, "tls .test")).isEqualTo("NOTFOUND ");
            assertThat(ask(s, "tls example.test")).startsWith("TEMP the MX lookup of example.test failed");
            // The TEMP answer is cached for --negative-ttl: the second costs no lookup.
            assertThat(ask(s, "tls Example.test:25")).startsWith("TEMP the MX lookup of example.test failed");
            assertThat(ask(s, "postfix example.test")).startsWith("PERM unknown map name 'postfix'");
        }
        await(stderr, "event=answer");
        assertThat(stderr).anySatisfy(l -> assertThat(l).contains("key=\".test\" reply=\"NOTFOUND \""));

        new ProcessBuilder("kill", "-TERM", Long.toString(process.pid()))
                .start()
                .waitFor(10, TimeUnit.SECONDS);
        assertThat(process.waitFor(15, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
        String stopped = await(stderr, "event=stopped");
        assertThat(stopped).contains("requests=4").contains("cache_hits=1").contains("lookups=1");
    }

    private static String ask(Socket s, String request) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write((request.length() + ":" + request + ",").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return new String(
                dev.optls.policy.postfix.Netstrings.readRequired(s.getInputStream(), 100_000),
                StandardCharsets.US_ASCII);
    }

    private static void pump(InputStream in, List<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // The process ended.
            }
        });
        t.setDaemon(true);
        t.start();
    }

    private static String await(List<String> lines, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                if (line.contains(text)) {
                    return line;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no line with '" + text + "' in " + lines);
    }
}
