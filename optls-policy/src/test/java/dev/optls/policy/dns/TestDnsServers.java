package dev.optls.policy.dns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private DNS world on loopback for the DNSSEC tests: two Debian BIND 9 ({@code named}) processes started from
 * a temporary directory, with zones the test signs on the fly with {@code dnssec-keygen} and
 * {@code dnssec-signzone}. No root privileges, no system configuration, no port 53.
 *
 * <p>Why two processes: dnsjava's {@code ValidatingResolver} (and the trusted-AD-bit mode) need a
 * <em>recursive</em> resolver, one that follows CNAMEs across zones and fetches DS and DNSKEY records for any
 * zone. The simplest way with one package (bind9) is:
 *
 * <ul>
 *   <li>an <b>authoritative</b> {@code named} ({@code recursion no}) serving a test root zone {@code .}, signed
 *       with a test key, and every test TLD below it;
 *   <li>a <b>recursive</b> {@code named} that forwards everything to the authoritative one ({@code forward only;
 *       forwarders { 127.0.0.1 port P; }}) and validates with the test root key as its only trust anchor
 *       ({@code trust-anchors { . static-key … }}).
 * </ul>
 *
 * Our validating resolver talks to the recursive one: it sets the CD bit (RFC 4035 §3.2.2), so BIND hands over
 * even bogus data unvalidated and our side decides, from {@link #trustAnchors()} (the test root key). The
 * trusted-AD-bit mode talks to the same recursive server without CD and believes its AD bit. Unbound was the
 * other option; serving the test root from BIND keeps the tests to one Debian package.
 *
 * <p>The test root delegates to these TLDs:
 *
 * <ul>
 *   <li>{@code good.} — signed, DS in the root: MX, A/AAAA, TLSA, multi-string TXT, CNAME chains (also into
 *       {@code insecure.}), a CNAME loop, a dangling CNAME, and {@code big.good.} with {@value #BIG_RRSET} A
 *       records (more than the default limit; larger than a UDP answer, so dnsjava retries over TCP);
 *   <li>{@code insecure.} — unsigned, no DS in the root: an insecure delegation (signed proof of no DS);
 *   <li>{@code bogus.} — signed with one key while the root's DS names another ("wrong key");
 *   <li>{@code tampered.} — correctly signed, then one byte of the MX RRSIG altered ("signature altered");
 *   <li>{@code expired.} — signed with signatures valid in January 2020 only ("expired signatures");
 *   <li>{@code lame.} — unsigned, delegated to 127.0.0.9, where nothing listens: SERVFAIL that is not DNSSEC.
 * </ul>
 *
 * <p>Tests elsewhere (optls-interop, through this module's test-jar) add their own TLDs with {@link #start(List)}.
 */
public final class TestDnsServers implements AutoCloseable {

    /**
     * An extra TLD served by the authoritative server, signed (with its DS in the root) or not.
     *
     * @param tld the TLD without dots, e.g. {@code probe}
     * @param signed whether to sign it and publish its DS in the root (secure), or delegate it unsigned (insecure)
     * @param records zone file lines relative to the TLD (SOA, NS and the name server's address are added)
     */
    public record Zone(String tld, boolean signed, String records) {}

    /** The TLSA RDATA published at {@code _25._tcp.mx.<tld>} in every zone. */
    static final String TLSA_RDATA = "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6";

    /** How many A records {@code big.good.} has. */
    static final int BIG_RRSET = 70;

    private static final String LOOPBACK = "127.0.0.1";
    private static final String ALGORITHM = "ECDSAP256SHA256";

    private final Path dir;
    private final Process authoritative;
    private final Process recursive;
    private final int authoritativePort;
    private final int recursivePort;
    private final TrustAnchors trustAnchors;
    private final String rootKeyText;

    private TestDnsServers(
            Path dir,
            Process authoritative,
            int authoritativePort,
            Process recursive,
            int recursivePort,
            TrustAnchors trustAnchors,
            String rootKeyText) {
        this.dir = dir;
        this.authoritative = authoritative;
        this.authoritativePort = authoritativePort;
        this.recursive = recursive;
        this.recursivePort = recursivePort;
        this.trustAnchors = trustAnchors;
        this.rootKeyText = rootKeyText;
    }

    /** Signs the zones and starts both servers; skips (fails under CI=true) when bind9 is not installed. */
    static TestDnsServers start() throws IOException, InterruptedException {
        return start(List.of());
    }

    /** As {@link #start()}, with {@code extra} TLDs besides the built-in ones. */
    public static TestDnsServers start(List<Zone> extra) throws IOException, InterruptedException {
        Path named = Peer.requireCommand("named", "bind9");
        Peer.requireCommand("dnssec-keygen", "bind9-utils");
        Peer.requireCommand("dnssec-signzone", "bind9-utils");
        Path dir = Files.createTempDirectory("optls-dns-");
        Path keys = Files.createDirectories(dir.resolve("keys"));
        Path otherKeys = Files.createDirectories(dir.resolve("other-keys"));

        for (String tld : List.of("good", "insecure", "bogus", "tampered", "expired")) {
            Files.writeString(dir.resolve(tld + ".zone"), zone(tld), StandardCharsets.US_ASCII);
        }
        Files.writeString(dir.resolve("lame.zone"), zone("lame"), StandardCharsets.US_ASCII);
        for (Zone z : extra) {
            Files.writeString(dir.resolve(z.tld() + ".zone"), extraZone(z), StandardCharsets.US_ASCII);
            if (z.signed()) {
                keygen(dir, keys, z.tld() + ".");
                sign(dir, keys, z.tld() + ".", z.tld() + ".zone", z.tld() + ".signed");
            }
        }

        for (String zone : List.of("good.", "bogus.", "tampered.", "expired.", ".")) {
            keygen(dir, keys, zone);
        }
        sign(dir, keys, "good.", "good.zone", "good.signed");
        sign(dir, keys, "tampered.", "tampered.zone", "tampered.signed");
        tamperMxSignature(dir.resolve("tampered.signed"));
        // Expired: valid from 2020-01-01 to 2020-02-01. -P: dnssec-signzone would refuse to verify it.
        sign(
                dir,
                keys,
                "expired.",
                "expired.zone",
                "expired.signed",
                "-P",
                "-s",
                "20200101000000",
                "-e",
                "20200201000000");
        // Wrong key: the DS (dsset-bogus.) comes from the key in keys/, the zone is signed with another key.
        sign(dir, keys, "bogus.", "bogus.zone", "bogus.unused");
        keygen(dir, otherKeys, "bogus.");
        Path ds = dir.resolve("dsset-bogus.");
        Path keptDs = dir.resolve("dsset-bogus.keep");
        Files.move(ds, keptDs);
        sign(dir, otherKeys, "bogus.", "bogus.zone", "bogus.signed");
        Files.move(keptDs, ds, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        Files.writeString(dir.resolve("root.zone"), rootZone(dir, extra), StandardCharsets.US_ASCII);
        sign(dir, keys, ".", "root.zone", "root.signed");

        String rootKey = dnskeyLine(keys, "K.+013+");
        TrustAnchors anchors = TrustAnchors.parse(rootKey);

        int authPort = freePort();
        Path authConf = dir.resolve("auth.conf");
        Files.writeString(authConf, authoritativeConf(dir, authPort, extra), StandardCharsets.US_ASCII);
        Process auth = startNamed(named, dir, authConf, authPort, "auth");

        int recPort = freePort();
        Path recDir = Files.createDirectories(dir.resolve("rec"));
        Path recConf = recDir.resolve("rec.conf");
        Files.writeString(recConf, recursiveConf(recDir, recPort, authPort, rootKey), StandardCharsets.US_ASCII);
        Process rec;
        try {
            rec = startNamed(named, recDir, recConf, recPort, "rec");
        } catch (RuntimeException | IOException e) {
            auth.destroyForcibly();
            throw e;
        }
        return new TestDnsServers(dir, auth, authPort, rec, recPort, anchors, rootKey);
    }

    /** The recursive, validating server (forwarding to the authoritative one). */
    public InetSocketAddress recursive() {
        return new InetSocketAddress(LOOPBACK, recursivePort);
    }

    /** The authoritative server for the test root and every test zone. */
    InetSocketAddress authoritative() {
        return new InetSocketAddress(LOOPBACK, authoritativePort);
    }

    /** The test root's key-signing key as a DNSKEY trust anchor. */
    public TrustAnchors trustAnchors() {
        return trustAnchors;
    }

    /** A configuration asking the recursive server, with a short timeout. */
    public DnsConfig config() {
        return DnsConfig.of(recursive()).withTimeout(Duration.ofSeconds(5));
    }

    @Override
    public void close() throws IOException {
        for (Process process : List.of(recursive, authoritative)) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (!Boolean.getBoolean("optls.dns.keep")) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    private static String zone(String tld) {
        StringBuilder z = new StringBuilder();
        z.append("$TTL 300\n");
        z.append("@ SOA ns.").append(tld).append(". hostmaster.").append(tld).append(". 1 3600 600 86400 300\n");
        z.append("@ NS ns.").append(tld).append(".\n");
        z.append("ns A 127.0.0.1\n");
        z.append("@ MX 10 mx.").append(tld).append(".\n");
        z.append("mx A 127.0.0.1\n");
        z.append("mx AAAA ::1\n");
        z.append("_25._tcp.mx TLSA ").append(TLSA_RDATA).append('\n');
        z.append("@ TXT \"v=STSv1; \" \"id=20240101T000000;\"\n");
        if (tld.equals("good")) {
            z.append("@ MX 20 mx2.good.\n");
            z.append("mx2 A 127.0.0.2\n");
            z.append("alias CNAME mx\n");
            z.append("chain CNAME alias\n");
            z.append("toinsecure CNAME mx.insecure.\n");
            z.append("dangling CNAME nothere.good.\n");
            z.append("loop1 CNAME loop2\n");
            z.append("loop2 CNAME loop1\n");
            for (int i = 1; i <= BIG_RRSET; i++) {
                z.append("big A 127.0.1.").append(i).append('\n');
            }
        }
        return z.toString();
    }

    /** The test root's trust anchor as zone-file text ({@code . IN DNSKEY 257 3 13 …}), e.g. for a file. */
    public String trustAnchorText() {
        return rootKeyText;
    }

    private static String extraZone(Zone z) {
        String tld = z.tld();
        return "$TTL 300\n" + "@ SOA ns." + tld + ". hostmaster." + tld + ". 1 3600 600 86400 300\n" + "@ NS ns." + tld
                + ".\n" + "ns A 127.0.0.1\n" + z.records() + "\n";
    }

    private static String rootZone(Path dir, List<Zone> extra) throws IOException {
        StringBuilder z = new StringBuilder();
        z.append("$TTL 300\n");
        z.append(". SOA ns.root. hostmaster.root. 1 3600 600 86400 300\n");
        z.append(". NS ns.root.\n");
        z.append("ns.root. A 127.0.0.1\n");
        for (String tld : List.of("good", "insecure", "bogus", "tampered", "expired")) {
            z.append(tld).append(". NS ns.").append(tld).append(".\n");
            z.append("ns.").append(tld).append(". A 127.0.0.1\n");
        }
        // lame.: delegated to an address where nothing listens.
        z.append("lame. NS ns.lame.\n");
        z.append("ns.lame. A 127.0.0.9\n");
        for (String tld : List.of("good", "bogus", "tampered", "expired")) {
            z.append(Files.readString(dir.resolve("dsset-" + tld + "."), StandardCharsets.US_ASCII));
        }
        for (Zone extraZone : extra) {
            z.append(extraZone.tld()).append(". NS ns.").append(extraZone.tld()).append(".\n");
            z.append("ns.").append(extraZone.tld()).append(". A 127.0.0.1\n");
            if (extraZone.signed()) {
                z.append(Files.readString(dir.resolve("dsset-" + extraZone.tld() + "."), StandardCharsets.US_ASCII));
            }
        }
        return z.toString();
    }

    private static String authoritativeConf(Path dir, int port, List<Zone> extra) {
        StringBuilder c =
                new StringBuilder(namedConf(dir, port, "  recursion no;\n  dnssec-validation no;\n  notify no;\n"));
        c.append("zone \".\" { type primary; file \"root.signed\"; };\n");
        for (String tld : List.of("good", "tampered", "expired", "bogus")) {
            c.append("zone \"")
                    .append(tld)
                    .append(".\" { type primary; file \"")
                    .append(tld)
                    .append(".signed\"; };\n");
        }
        c.append("zone \"insecure.\" { type primary; file \"insecure.zone\"; };\n");
        for (Zone z : extra) {
            c.append("zone \"")
                    .append(z.tld())
                    .append(".\" { type primary; file \"")
                    .append(z.tld())
                    .append(z.signed() ? ".signed" : ".zone")
                    .append("\"; };\n");
        }
        return c.toString();
    }

    private static String recursiveConf(Path dir, int port, int authPort, String rootKey) {
        // rootKey: ". IN DNSKEY 257 3 13 BASE64..."
        String[] f = rootKey.trim().split("\\s+", 7);
        String key = f[6].replace(" ", "");
        return namedConf(
                        dir,
                        port,
                        "  recursion yes;\n  allow-recursion { 127.0.0.1; };\n  forward only;\n"
                                + "  forwarders { 127.0.0.1 port " + authPort + "; };\n  dnssec-validation yes;\n")
                + "trust-anchors { . static-key " + f[3] + " " + f[4] + " " + f[5] + " \"" + key + "\"; };\n";
    }

    /** A named.conf that keeps every file in {@code dir}, listens on loopback only and has no control channel. */
    private static String namedConf(Path dir, int port, String options) {
        return "options {\n  directory \"" + dir + "\";\n  pid-file none;\n"
                + "  listen-on port " + port + " { 127.0.0.1; };\n  listen-on-v6 { none; };\n"
                + "  session-keyfile \"" + dir.resolve("session.key") + "\";\n"
                + "  managed-keys-directory \"" + dir + "\";\n" + options + "};\n"
                + "controls { };\n";
    }

    private static void keygen(Path dir, Path keys, String zone) throws IOException, InterruptedException {
        run(
                dir,
                List.of(
                        "dnssec-keygen",
                        "-q",
                        "-K",
                        keys.toString(),
                        "-a",
                        ALGORITHM,
                        "-f",
                        "KSK",
                        "-n",
                        "ZONE",
                        zone));
    }

    private static void sign(Path dir, Path keys, String origin, String in, String out, String... extra)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                "dnssec-signzone", "-q", "-K", keys.toString(), "-S", "-z", "-O", "full", "-d", dir.toString()));
        command.addAll(List.of(extra));
        command.addAll(List.of(
                "-o", origin, "-f", dir.resolve(out).toString(), dir.resolve(in).toString()));
        run(dir, command);
    }

    /** Flips one character of the base64 signature of the MX RRset's RRSIG (dnssec-signzone -O full: one line). */
    private static void tamperMxSignature(Path signed) throws IOException {
        List<String> out = new ArrayList<>();
        boolean done = false;
        for (String line : Files.readAllLines(signed, StandardCharsets.US_ASCII)) {
            String[] f = line.trim().split("\\s+");
            if (!done && f.length > 5 && f[3].equals("RRSIG") && f[4].equals("MX")) {
                String sig = f[f.length - 1];
                char flipped = sig.charAt(10) == 'A' ? 'B' : 'A';
                String tampered = sig.substring(0, 10) + flipped + sig.substring(11);
                line = line.substring(0, line.lastIndexOf(sig)) + tampered;
                done = true;
            }
            out.add(line);
        }
        if (!done) {
            throw new IllegalStateException("no MX RRSIG found in " + signed);
        }
        Files.write(signed, out, StandardCharsets.US_ASCII);
    }

    private static String dnskeyLine(Path keys, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(keys)) {
            Path key = files.filter(p -> p.getFileName().toString().startsWith(prefix)
                            && p.getFileName().toString().endsWith(".key"))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no root key in " + keys));
            return Files.readAllLines(key, StandardCharsets.US_ASCII).stream()
                            .filter(l -> !l.startsWith(";") && l.contains("DNSKEY"))
                            .findFirst()
                            .orElseThrow()
                    + "\n";
        }
    }

    private static void run(Path dir, List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
    }

    private static Process startNamed(Path named, Path dir, Path conf, int port, String name)
            throws IOException, InterruptedException {
        Path log = dir.resolve(name + ".log");
        Process process = new ProcessBuilder(
                        named.toString(), "-g", "-c", conf.toString(), "-p", Integer.toString(port), "-n", "1")
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("named (" + name + ") exited with " + process.exitValue() + ":\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            if (Files.readString(log, StandardCharsets.UTF_8).contains("running") && accepts(port)) {
                return process;
            }
            Thread.sleep(50);
        }
        process.destroyForcibly();
        throw new IllegalStateException(
                "named (" + name + ") did not start within 20 s:\n" + Files.readString(log, StandardCharsets.UTF_8));
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A port free on 127.0.0.1 for both TCP and UDP a moment ago (named listens on both). */
    static int freePort() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(LOOPBACK, port))) {
                    return udp.getLocalPort();
                } catch (IOException e) {
                    // UDP side taken: try another.
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind a port on " + LOOPBACK, e);
            }
        }
        throw new IllegalStateException("no port free for both TCP and UDP on " + LOOPBACK);
    }
}
