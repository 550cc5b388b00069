package dev.optls.interop.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.interop.peers.Peers;
import dev.optls.policy.postfix.Netstrings;
import dev.optls.testkit.TestPki;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The correctness table of issue 5: {@code optls policy serve} and Debian's {@code postfix-mta-sts-resolver} ({@code
 * mta-sts-daemon}) asked the same socketmap keys (map {@code postfix}) about the same {@link MailPolicyWorld}. optls's
 * answer is asserted for every case; the resolver's answer is recorded with whether it is right, and the table is
 * written to {@code target/mta-sts-resolver-comparison.md} and printed (the copy in {@code docs/policy-comparison.md}
 * comes from it).
 *
 * <p>The resolver cannot be pointed at another DNS server or HTTPS port: it runs in a private mount namespace whose
 * {@code /etc/resolv.conf} names the world's validating resolver on 127.0.0.1:53, and fetches every policy from the
 * world's single HTTPS server on 127.0.0.1:443 ({@link MailPolicyWorld.Builder#sharedHttpsOn443()}), trusting the
 * world's CA through {@code SSL_CERT_FILE}. optls is given the same server: it resolves {@code mta-sts.<domain>}
 * through the world's resolver ({@code --dns}) and fetches from port 443 too. Needs root, {@code bind9}, {@code util-linux} and {@code
 * postfix-mta-sts-resolver}; ports 53 and 443 of 127.0.0.1 must be free (one world at a time: failsafe runs the ITs
 * of this module one after another).
 */
class MtaStsResolverComparisonIT {

    private static final Path TABLE = Path.of("target", "mta-sts-resolver-comparison.md");

    private static Peers.PeerDirectory files;
    private static MailPolicyWorld world;
    private static PolicyServeProcess optls;
    private static Process resolver;
    private static int resolverPort;

    /** How the resolver's answer compares with the expected one. */
    enum Verdict {
        RIGHT("yes"),
        RIGHT_IF_DEFAULT_DANE("only with `smtp_tls_security_level = dane` (Postfix then does DANE itself)"),
        RIGHT_POSTFIX_DEFERS("yes (Postfix's own MX lookup fails and defers)"),
        DROPS_POLICY("no: drops the policy, mail goes without MTA-STS (the RFC gives the maximum, not a rejection)"),
        WRONG("**no**");

        final String text;

        Verdict(String text) {
            this.text = text;
        }
    }

    /**
     * A case: its domain (named after it), the answer optls must give ({@code TEMP} stands for any {@code TEMP …}),
     * the RFC reason, and a judge of the resolver's answer.
     */
    record Case(String domain, String expected, String reason, java.util.function.Function<String, Verdict> judge) {}

    private static final String ENFORCE = "version: STSv1\nmode: enforce\nmx: %s\nmax_age: 86400\n";

    private static String enforce(String mx) {
        return ENFORCE.formatted(mx);
    }

    private static String secure(String match) {
        return "OK secure match=" + match + " servername=hostname";
    }

    private static Verdict same(String expected, String answer) {
        return answer.equals(expected) ? Verdict.RIGHT : Verdict.WRONG;
    }

    private static final List<Case> CASES = List.of(
            new Case(
                    "sts-enforce.test",
                    secure("mx.sts-enforce.test"),
                    "RFC 8461 §5: enforce, the MX is listed: verified TLS to a listed name",
                    a -> same(secure("mx.sts-enforce.test"), a)),
            new Case(
                    "sts-wildcard.test",
                    secure(".mx.sts-wildcard.test"),
                    "RFC 8461 §4.1: `*.mx.d` matches one label; Postfix's `.mx.d` matches any depth (slightly"
                            + " wider)",
                    a -> same(secure(".mx.sts-wildcard.test"), a)),
            new Case(
                    "sts-testing.test",
                    "NOTFOUND",
                    "RFC 8461 §5: testing mode reports, does not enforce",
                    a -> same("NOTFOUND", a)),
            new Case(
                    "no-sts.test",
                    "NOTFOUND",
                    "RFC 8461 §3.1: no `_mta-sts` record, no policy",
                    a -> same("NOTFOUND", a)),
            new Case(
                    "dane-only.test",
                    "OK dane-only",
                    "RFC 7672 §2.2: secure TLSA records for the MX, DANE applies",
                    a -> a.equals("NOTFOUND") ? Verdict.RIGHT_IF_DEFAULT_DANE : same("OK dane-only", a)),
            new Case(
                    "dane-and-sts.test",
                    "OK dane-only",
                    "RFC 8461 §2: \"DANE takes precedence\" over MTA-STS (the policy's mx list names another host)",
                    a -> a.equals("NOTFOUND") ? Verdict.RIGHT_IF_DEFAULT_DANE : same("OK dane-only", a)),
            new Case(
                    "dane-bogus.test",
                    "TEMP",
                    "RFC 7672 §2.1.2: a bogus TLSA answer: MUST NOT deliver to that MX; defer",
                    a -> a.startsWith("TEMP")
                            ? Verdict.RIGHT
                            : a.equals("NOTFOUND") ? Verdict.RIGHT_IF_DEFAULT_DANE : Verdict.WRONG),
            new Case(
                    "sts-invalid.test",
                    "NOTFOUND",
                    "RFC 8461 §3.2, §3.3: a policy that does not parse is no policy",
                    a -> same("NOTFOUND", a)),
            new Case(
                    "sts-redirect.test",
                    "NOTFOUND",
                    "RFC 8461 §3.3: HTTP 3xx redirects MUST NOT be followed",
                    a -> same("NOTFOUND", a)),
            new Case(
                    "sts-content-type.test",
                    "NOTFOUND",
                    "RFC 8461 §3.2: the policy's media type is `text/plain` (here `text/html`)",
                    a -> same("NOTFOUND", a)),
            new Case(
                    "sts-404.test",
                    "NOTFOUND",
                    "RFC 8461 §3.3: only a 200 response is a policy",
                    a -> same("NOTFOUND", a)),
            new Case(
                    "sts-two-records.test",
                    "NOTFOUND",
                    "RFC 8461 §3.1: more than one `v=STSv1` record: no policy",
                    a -> same("NOTFOUND", a)),
            new Case(
                    "mx-servfail.test",
                    "TEMP",
                    "RFC 5321 §5.1, RFC 7672 §2.2.1: the MX lookup fails (SERVFAIL: a bogus signature): defer, retry later",
                    a -> a.startsWith("TEMP")
                            ? Verdict.RIGHT
                            : a.equals("NOTFOUND") ? Verdict.RIGHT_POSTFIX_DEFERS : Verdict.WRONG),
            new Case(
                    "null-mx.test",
                    "NOTFOUND",
                    "RFC 7505 §3: null MX, the domain takes no mail (Postfix bounces it itself)",
                    a -> same("NOTFOUND", a)),
            new Case(
                    "nxdomain.test",
                    "NOTFOUND",
                    "no such domain (Postfix bounces it itself)",
                    a -> same("NOTFOUND", a)),
            new Case("sts-mode-none.test", "NOTFOUND", "RFC 8461 §5: mode `none`: no policy", a -> same("NOTFOUND", a)),
            new Case(
                    "sts-max-age.test",
                    secure("mx.sts-max-age.test"),
                    "RFC 8461 §3.2: `max_age` above 31557600 (here 31557601): optls caps it and keeps the policy",
                    a -> a.equals("NOTFOUND") ? Verdict.DROPS_POLICY : same(secure("mx.sts-max-age.test"), a)));

    @BeforeAll
    static void start() throws IOException {
        Peers.requireRoot();
        Peers.requireCommand("unshare", "util-linux");
        Peers.requireCommand("mta-sts-daemon", "postfix-mta-sts-resolver");
        Path python = Path.of("/usr/bin/python3");
        Peers.require(Files.isExecutable(python), "/usr/bin/python3", "python3");
        TestPki pki = TestPki.create();
        files = Peers.tempDir("mta-sts-compare");
        X509Certificate mx = pki.leaf("mx.dane-only.test").issue().certificate();

        long t0 = System.nanoTime();
        world = MailPolicyWorld.builder(pki)
                .sharedHttpsOn443()
                .mtaSts("sts-enforce.test", enforce("mx.sts-enforce.test"))
                .mtaStsWithMx("sts-wildcard.test", "a.mx.sts-wildcard.test", enforce("*.mx.sts-wildcard.test"))
                .mtaSts("sts-testing.test", enforce("mx.sts-testing.test").replace("enforce", "testing"))
                .plain("no-sts.test")
                .dane("dane-only.test", mx, 25)
                .daneAndMtaSts("dane-and-sts.test", mx, enforce("nowhere.dane-and-sts.test"), 25)
                .daneBogus("dane-bogus.test", mx, 25)
                // "mode enforce" lacks its colon.
                .mtaSts("sts-invalid.test", "version: STSv1\nmode enforce\nmx: mx.sts-invalid.test\nmax_age: 86400\n")
                .mtaSts("sts-redirect.test", enforce("mx.sts-redirect.test"), MailPolicyWorld.PolicyFetch.REDIRECT)
                .mtaSts(
                        "sts-content-type.test",
                        enforce("mx.sts-content-type.test"),
                        MailPolicyWorld.PolicyFetch.WRONG_CONTENT_TYPE)
                .mtaSts("sts-404.test", enforce("mx.sts-404.test"), MailPolicyWorld.PolicyFetch.NOT_FOUND)
                .mtaStsRecords(
                        "sts-two-records.test",
                        enforce("mx.sts-two-records.test"),
                        "v=STSv1; id=20261130T000000;",
                        "v=STSv1; id=20261130T000001;")
                .bogusMx("mx-servfail.test")
                .nullMx("null-mx.test")
                .mtaSts("sts-mode-none.test", enforce("mx.sts-mode-none.test").replace("enforce", "none"))
                .mtaSts("sts-max-age.test", enforce("mx.sts-max-age.test").replace("86400", "31557601"))
                .start();

        long t1 = System.nanoTime();
        optls = PolicyServeProcess.start(world, "memory");
        long t2 = System.nanoTime();
        startResolver(python);
        System.out.printf(
                "started: world %d ms, optls policy serve %d ms, mta-sts-daemon %d ms%n",
                (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (System.nanoTime() - t2) / 1_000_000);
    }

    private static void startResolver(Path python) throws IOException {
        resolverPort = Peers.freePort();
        Path config = files.write(
                "mta-sts-daemon.yml",
                "host: " + Peers.LOOPBACK + "\nport: " + resolverPort + "\n"
                        + "cache:\n  type: internal\n  options:\n    cache_size: 1000\n"
                        + "default_zone:\n  strict_testing: false\n  timeout: 4\n");
        Path log = files.resolve("mta-sts-daemon.log");
        // Its DNS (c-ares) and getaddrinfo read /etc/resolv.conf: a private mount namespace gets the world's.
        ProcessBuilder builder = new ProcessBuilder(Peers.withResolvConf(
                        world.resolvConf(),
                        List.of(python.toString(), "/usr/bin/mta-sts-daemon", "-v", "debug", "-c", config.toString())))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.put("SSL_CERT_FILE", world.caPem().toString());
        env.keySet().removeIf(k -> k.toLowerCase(java.util.Locale.ROOT).endsWith("_proxy"));
        resolver = builder.start();
        try {
            Peers.awaitPort(Peers.LOOPBACK, resolverPort, Duration.ofSeconds(20));
        } catch (RuntimeException | Error e) {
            throw new IllegalStateException("mta-sts-daemon did not listen:\n" + Peers.readIfExists(log), e);
        }
    }

    @AfterAll
    static void stop() {
        if (resolver != null) {
            PolicyServeProcess.stop(resolver);
        }
        Peers.closeAll(optls, world, files);
    }

    @Test
    void optlsIsRightOnEveryCaseAndTheTableRecordsTheResolver() throws IOException {
        List<String[]> rows = new ArrayList<>();
        SoftAssertions softly = new SoftAssertions();
        for (Case c : CASES) {
            long t0 = System.nanoTime();
            String ours = ask(optls.port(), c.domain());
            long t1 = System.nanoTime();
            String theirs = ask(resolverPort, c.domain());
            long t2 = System.nanoTime();
            System.out.printf(
                    "%s: optls %d ms, postfix-mta-sts-resolver %d ms%n",
                    c.domain(), (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
            Verdict verdict = c.judge().apply(theirs);
            rows.add(new String[] {c.domain(), c.expected(), c.reason(), ours, theirs, verdict.text});
            if (c.expected().equals("TEMP")) {
                softly.assertThat(ours).as(c.domain()).startsWith("TEMP ");
            } else {
                softly.assertThat(ours).as(c.domain()).isEqualTo(c.expected());
            }
        }
        String table = table(rows);
        Files.createDirectories(TABLE.getParent());
        Files.writeString(TABLE, table, StandardCharsets.UTF_8);
        System.out.println(table);
        if (!softly.wasSuccess()) {
            System.out.println("optls policy serve log:\n" + String.join("\n", optls.log()));
        }
        softly.assertAll();
        // The resolver's world works (it fetched a policy over HTTPS through the world's DNS) ...
        assertThat(ask(resolverPort, "sts-enforce.test")).isEqualTo(secure("mx.sts-enforce.test"));
        // ... and it lets MTA-STS override DANE, against RFC 8461 §2: with this mx list Postfix would defer good mail.
        assertThat(ask(resolverPort, "dane-and-sts.test")).isEqualTo(secure("nowhere.dane-and-sts.test"));
    }

    private static String table(List<String[]> rows) {
        StringBuilder t = new StringBuilder(
                "| Case (domain) | Expected | Why | optls | postfix-mta-sts-resolver | Resolver right? |\n"
                        + "|---|---|---|---|---|---|\n");
        for (String[] r : rows) {
            t.append("| `")
                    .append(r[0])
                    .append("` | `")
                    .append(r[1])
                    .append("` | ")
                    .append(r[2])
                    .append(" | `")
                    .append(r[3])
                    .append("` | `")
                    .append(r[4])
                    .append("` | ")
                    .append(r[5])
                    .append(" |\n");
        }
        return t.toString();
    }

    /** One socketmap request {@code postfix <key>}; the reply without its netstring framing and trailing space. */
    private static String ask(int port, String key) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(Peers.LOOPBACK, port), 5_000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(Netstrings.encode("postfix " + key));
            out.flush();
            return new String(
                            Netstrings.readRequired(s.getInputStream(), Netstrings.POSTFIX_MAX_REPLY),
                            StandardCharsets.UTF_8)
                    .strip();
        }
    }
}
