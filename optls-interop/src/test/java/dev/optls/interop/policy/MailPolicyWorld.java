package dev.optls.interop.policy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The DNS and HTTPS world a sending MTA sees, on loopback, for tests of outbound mail TLS policy (DANE, MTA-STS):
 *
 * <ul>
 *   <li>an authoritative BIND 9 on {@code 127.0.0.1:<free port>} serving a test root zone {@code .} and the zone
 *       {@code test.} below it, both signed on the fly with {@code dnssec-keygen}/{@code dnssec-signzone};
 *   <li>a validating, recursive BIND 9 on {@code 127.0.0.1:53} that forwards to the
 *       authoritative one and trusts only the test root key: what a mail server's local resolver is. Port 53 because
 *       the C library resolver (Postfix) cannot use another port; see {@link #resolvConf()};
 *   <li>one JDK {@link HttpsServer} per MTA-STS domain on a free port, serving {@code /.well-known/mta-sts.txt} with a
 *       certificate for {@code mta-sts.<domain>} from the world's test PKI ({@link #httpsPorts()}).
 * </ul>
 *
 * <p>Each domain {@code d} gets {@code d. MX 10 mx.d.} and {@code mx.d. A 127.0.0.1}; a DANE domain also gets {@code
 * 3 1 1} TLSA records (the SHA-256 of the given certificate's public key) at {@code _<port>._tcp.mx.d.} for each given
 * port; an MTA-STS domain gets {@code _mta-sts.d. TXT "v=STSv1; id=…"} and its policy served over HTTPS. Every name is
 * DNSSEC-signed (an MTA-STS domain's TLSA lookup is a secure NODATA, so DANE does not apply to it). For the failure
 * cases a domain may instead have another MX host, a null MX, several {@code _mta-sts} records, a policy server that
 * redirects, answers {@code text/html} or 404 ({@link PolicyFetch}), or TLSA or MX signatures broken after signing
 * (bogus: the validating resolver answers SERVFAIL). With {@link Builder#sharedHttpsOn443()} every policy is also
 * served by one HTTPS server on 127.0.0.1:443, for a resolver that fetches {@code https://mta-sts.<domain>/} as is.
 *
 * <p>Needs root (port 53) and Debian's {@code bind9} and {@code bind9-utils}: without them the test is skipped,
 * under {@code CI=true} it fails. Reused by {@link MtaStsResolverComparisonIT} (the comparison with
 * postfix-mta-sts-resolver).
 */
public final class MailPolicyWorld implements AutoCloseable {

    private static final String ALGORITHM = "ECDSAP256SHA256";

    private final Peers.PeerDirectory dir;
    private final TestPki pki;
    private final Path caPem;
    private final List<Process> named = new ArrayList<>();
    private final List<HttpsServer> https = new ArrayList<>();
    private final Map<String, Integer> httpsPorts = new LinkedHashMap<>();
    /** Whether every policy is also served on 127.0.0.1:443 ({@link Builder#sharedHttpsOn443()}). */
    private boolean sharedHttpsOn443;

    private InetSocketAddress resolver;
    private int authoritativePort;
    private Path resolvConf;

    private MailPolicyWorld(Peers.PeerDirectory dir, TestPki pki) {
        this.dir = dir;
        this.pki = pki;
        this.caPem = pki.writeCaPem(dir.resolve("ca.pem"));
    }

    /** A builder; {@code pki} issues the MTA-STS hosts' certificates (and should issue the MX hosts' too). */
    public static Builder builder(TestPki pki) {
        return new Builder(pki);
    }

    /**
     * How the HTTPS server answers a domain's {@code /.well-known/mta-sts.txt}: the failure cases of RFC 8461 §3.3 next
     * to the good one.
     */
    public enum PolicyFetch {
        /** 200, {@code Content-Type: text/plain}, the policy. */
        OK,
        /** 301 to {@code /moved/mta-sts.txt} on the same host, where the policy is served with 200: RFC 8461 §3.3
         * "HTTP 3xx redirects MUST NOT be followed". */
        REDIRECT,
        /** 200 with the policy but {@code Content-Type: text/html}: RFC 8461 §3.2 requires {@code text/plain}. */
        WRONG_CONTENT_TYPE,
        /** 404. */
        NOT_FOUND
    }

    /** The default {@code _mta-sts} TXT record of an MTA-STS domain. */
    private static final String STS_RECORD = "v=STSv1; id=20261130T000000;";

    /**
     * A domain of the world. {@code mxHost} null is a null MX (RFC 7505); {@code stsTxt} the {@code _mta-sts} TXT
     * records; {@code bogus} the RR types whose signatures are broken after signing (owner {@code d.} for MX,
     * {@code _<port>._tcp.<mxHost>.} for TLSA).
     */
    private record Domain(
            String name,
            String mxHost,
            List<X509Certificate> tlsaFor,
            List<Integer> tlsaPorts,
            String stsPolicy,
            List<String> stsTxt,
            PolicyFetch fetch,
            Set<String> bogus) {

        Domain(String name, List<X509Certificate> tlsaFor, List<Integer> tlsaPorts, String stsPolicy) {
            this(
                    name,
                    "mx." + name,
                    tlsaFor,
                    tlsaPorts,
                    stsPolicy,
                    stsPolicy == null ? List.of() : List.of(STS_RECORD),
                    PolicyFetch.OK,
                    Set.of());
        }

        Domain withMx(String host) {
            return new Domain(name, host, tlsaFor, tlsaPorts, stsPolicy, stsTxt, fetch, bogus);
        }

        Domain withTxt(List<String> txt) {
            return new Domain(name, mxHost, tlsaFor, tlsaPorts, stsPolicy, List.copyOf(txt), fetch, bogus);
        }

        Domain withFetch(PolicyFetch f) {
            return new Domain(name, mxHost, tlsaFor, tlsaPorts, stsPolicy, stsTxt, f, bogus);
        }

        Domain withBogus(String type) {
            Set<String> b = new HashSet<>(bogus);
            b.add(type);
            return new Domain(name, mxHost, tlsaFor, tlsaPorts, stsPolicy, stsTxt, fetch, Set.copyOf(b));
        }
    }

    /** Collects the domains, then {@link #start()}s the world. */
    public static final class Builder {
        private final TestPki pki;
        private final List<Domain> domains = new ArrayList<>();
        private boolean sharedHttps;

        private Builder(TestPki pki) {
            this.pki = Objects.requireNonNull(pki, "pki");
        }

        /**
         * A DANE domain: TLSA {@code 3 1 1} records for {@code certificate}'s key at {@code _<port>._tcp.mx.<name>} for
         * each of {@code ports} (a sender using the policy service looks at port 25; Postfix at the port it connects
         * to).
         */
        public Builder dane(String name, X509Certificate certificate, int... ports) {
            List<Integer> p = new ArrayList<>();
            for (int port : ports) {
                p.add(port);
            }
            domains.add(new Domain(name, List.of(certificate), p, null));
            return this;
        }

        /**
         * A domain with both: DANE records as {@link #dane} and an MTA-STS policy as {@link #mtaSts}. RFC 8461 §2:
         * DANE wins.
         */
        public Builder daneAndMtaSts(String name, X509Certificate certificate, String policy, int... ports) {
            dane(name, certificate, ports);
            Domain d = domains.remove(domains.size() - 1);
            domains.add(new Domain(name, d.tlsaFor(), d.tlsaPorts(), Objects.requireNonNull(policy, "policy")));
            return this;
        }

        /** An MTA-STS domain: the {@code _mta-sts} TXT record and {@code policy} served at {@code mta-sts.<name>}. */
        public Builder mtaSts(String name, String policy) {
            domains.add(new Domain(name, List.of(), List.of(), Objects.requireNonNull(policy, "policy")));
            return this;
        }

        /** A domain with only its MX and address records. */
        public Builder plain(String name) {
            domains.add(new Domain(name, List.of(), List.of(), null));
            return this;
        }

        /**
         * An MTA-STS domain whose policy server answers as {@code fetch} says (a redirect, a wrong content type, a
         * 404).
         */
        public Builder mtaSts(String name, String policy, PolicyFetch fetch) {
            mtaSts(name, policy);
            return replaceLast(d -> d.withFetch(Objects.requireNonNull(fetch, "fetch")));
        }

        /** An MTA-STS domain whose {@code _mta-sts} TXT RRset is {@code txtRecords} (one record each) instead of one. */
        public Builder mtaStsRecords(String name, String policy, String... txtRecords) {
            mtaSts(name, policy);
            return replaceLast(d -> d.withTxt(List.of(txtRecords)));
        }

        /** An MTA-STS domain whose MX host is {@code mxHost} (in {@code test.}) instead of {@code mx.<name>}. */
        public Builder mtaStsWithMx(String name, String mxHost, String policy) {
            mtaSts(name, policy);
            return replaceLast(d -> d.withMx(Objects.requireNonNull(mxHost, "mxHost")));
        }

        /** A domain with a null MX ({@code MX 0 .}, RFC 7505): it accepts no mail. */
        public Builder nullMx(String name) {
            plain(name);
            return replaceLast(d -> d.withMx(null));
        }

        /**
         * A DANE domain as {@link #dane} whose TLSA RRSIGs are broken after signing: the validating resolver finds the
         * answer bogus and answers SERVFAIL (RFC 7672 §2.1.1).
         */
        public Builder daneBogus(String name, X509Certificate certificate, int... ports) {
            dane(name, certificate, ports);
            return replaceLast(d -> d.withBogus("TLSA"));
        }

        /** A domain whose MX RRSIG is broken after signing: the MX lookup through the resolver is a SERVFAIL. */
        public Builder bogusMx(String name) {
            plain(name);
            return replaceLast(d -> d.withBogus("MX"));
        }

        /**
         * Serves every MTA-STS policy from ONE HTTPS server on {@code 127.0.0.1:443}, by {@code Host} header, with a
         * certificate naming every {@code mta-sts.<domain>}: what a resolver that cannot be told another port needs
         * (postfix-mta-sts-resolver). The per-domain servers of {@link #httpsPorts()} still serve the same answers:
         * a client told to connect to 127.0.0.1 (optls's {@code --testing-mta-sts-port}) gets the policy of the host
         * it names in {@code Host}. Needs port 443 free.
         */
        public Builder sharedHttpsOn443() {
            this.sharedHttps = true;
            return this;
        }

        private Builder replaceLast(java.util.function.UnaryOperator<Domain> change) {
            domains.add(change.apply(domains.remove(domains.size() - 1)));
            return this;
        }

        /** Signs the zones, starts both BIND servers and the HTTPS servers. */
        public MailPolicyWorld start() {
            Peers.requireRoot();
            Path namedBinary = Peers.requireCommand("named", "bind9");
            Peers.requireCommand("dnssec-keygen", "bind9-utils");
            Peers.requireCommand("dnssec-signzone", "bind9-utils");
            MailPolicyWorld world = new MailPolicyWorld(Peers.tempDir("mail-world"), pki);
            try {
                world.startDns(namedBinary, domains);
                List<Domain> sts =
                        domains.stream().filter(d -> d.stsPolicy() != null).toList();
                for (Domain d : sts) {
                    world.startHttps(d);
                }
                if (sharedHttps) {
                    world.startSharedHttps(sts);
                    world.sharedHttpsOn443 = true;
                }
                return world;
            } catch (IOException e) {
                world.close();
                throw new UncheckedIOException("cannot start the mail policy world", e);
            } catch (RuntimeException | Error e) {
                world.close();
                throw e;
            }
        }
    }

    /** The validating resolver on port 53 (what resolv.conf names). */
    public InetSocketAddress resolver() {
        return resolver;
    }

    /** The authoritative server of the test root and {@code test.}. */
    public InetSocketAddress authoritative() {
        return new InetSocketAddress(Peers.LOOPBACK, authoritativePort);
    }

    /**
     * A resolv.conf naming {@link #resolver()}, with {@code options trust-ad}: glibc passes the AD bit on only with it,
     * and Postfix's DANE ({@code smtp_dns_support_level = dnssec}) needs the bit.
     */
    public Path resolvConf() {
        return resolvConf;
    }

    /** The CA certificate (PEM) of the test PKI: the MTA-STS hosts' and MX hosts' certificates chain to it. */
    public Path caPem() {
        return caPem;
    }

    /**
     * Whether every policy is served on 127.0.0.1:443, where {@code mta-sts.<domain>} resolves: a fetcher needs no
     * port of {@link #httpsPorts()} then.
     */
    public boolean servesPoliciesOn443() {
        return sharedHttpsOn443;
    }

    /** The HTTPS port of each MTA-STS host ({@code mta-sts.<domain>} → port on 127.0.0.1). */
    public Map<String, Integer> httpsPorts() {
        return Map.copyOf(httpsPorts);
    }

    /** The SHA-256 of {@code certificate}'s SubjectPublicKeyInfo, in hex: the data of a {@code 3 1 1} TLSA record. */
    public static String spkiSha256(X509Certificate certificate) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256")
                            .digest(certificate.getPublicKey().getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private void startDns(Path namedBinary, List<Domain> domains) throws IOException {
        Path zones = dir.mkdir("zones");
        Path keys = dir.mkdir("zones/keys");
        Files.writeString(zones.resolve("test.zone"), testZone(domains), StandardCharsets.US_ASCII);
        keygen(zones, keys, "test.");
        keygen(zones, keys, ".");
        sign(zones, keys, "test.", "test.zone", "test.signed");
        breakSignatures(zones.resolve("test.signed"), domains);
        String root = "$TTL 300\n. SOA ns.root. hostmaster.root. 1 3600 600 86400 300\n. NS ns.root.\n"
                + "ns.root. A 127.0.0.1\ntest. NS ns.test.\nns.test. A 127.0.0.1\n"
                + Files.readString(zones.resolve("dsset-test."), StandardCharsets.US_ASCII);
        Files.writeString(zones.resolve("root.zone"), root, StandardCharsets.US_ASCII);
        sign(zones, keys, ".", "root.zone", "root.signed");
        String rootKey = dnskeyLine(keys);

        authoritativePort = freeTcpAndUdpPort();
        Path authConf = zones.resolve("auth.conf");
        Files.writeString(
                authConf,
                namedConf(
                                zones,
                                Peers.LOOPBACK,
                                authoritativePort,
                                "  recursion no;\n  dnssec-validation no;\n" + "  notify no;\n")
                        + "zone \".\" { type primary; file \"root.signed\"; };\n"
                        + "zone \"test.\" { type primary; file \"test.signed\"; };\n",
                StandardCharsets.US_ASCII);
        named.add(startNamed(namedBinary, zones, authConf, Peers.LOOPBACK, authoritativePort, "auth"));

        String address = freeResolverAddress();
        resolver = new InetSocketAddress(address, 53);
        Path rec = dir.mkdir("resolver");
        String[] f = rootKey.trim().split("\\s+", 7);
        Path recConf = rec.resolve("rec.conf");
        Files.writeString(
                recConf,
                namedConf(
                                rec,
                                address,
                                53,
                                "  recursion yes;\n  allow-recursion { 127.0.0.0/8; };\n  allow-query { 127.0.0.0/8; };\n"
                                        + "  forward only;\n  forwarders { 127.0.0.1 port " + authoritativePort
                                        + "; };\n  dnssec-validation yes;\n  minimal-responses no;\n")
                        + "trust-anchors { . static-key " + f[3] + " " + f[4] + " " + f[5] + " \""
                        + f[6].replace(" ", "") + "\"; };\n",
                StandardCharsets.US_ASCII);
        named.add(startNamed(namedBinary, rec, recConf, address, 53, "resolver"));
        resolvConf = dir.write(
                "resolv.conf",
                "# written by optls-interop MailPolicyWorld\nnameserver " + address
                        + "\noptions trust-ad edns0 timeout:2 attempts:2\n");
    }

    private static String testZone(List<Domain> domains) {
        StringBuilder z = new StringBuilder("$TTL 300\n");
        z.append("test. SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n");
        z.append("test. NS ns.test.\nns.test. A 127.0.0.1\n");
        for (Domain d : domains) {
            String n = d.name() + ".";
            if (d.mxHost() == null) {
                // RFC 7505 §3: the null MX.
                z.append(n).append(" MX 0 .\n");
                continue;
            }
            z.append(n).append(" MX 10 ").append(d.mxHost()).append(".\n");
            z.append(d.mxHost()).append(". A 127.0.0.1\n");
            for (X509Certificate cert : d.tlsaFor()) {
                for (int port : d.tlsaPorts()) {
                    z.append("_")
                            .append(port)
                            .append("._tcp.")
                            .append(d.mxHost())
                            .append('.')
                            .append(" TLSA 3 1 1 ")
                            .append(spkiSha256(cert))
                            .append('\n');
                }
            }
            for (String txt : d.stsTxt()) {
                z.append("_mta-sts.").append(n).append(" TXT \"").append(txt).append("\"\n");
            }
            if (d.stsPolicy() != null) {
                z.append("mta-sts.").append(n).append(" A 127.0.0.1\n");
            }
        }
        return z.toString();
    }

    private void startHttps(Domain d) throws IOException {
        String host = "mta-sts." + d.name();
        Credential credential = pki.leaf(host).issue();
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName(Peers.LOOPBACK), 0), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(credential.serverContext()));
        server.createContext("/", exchange -> servePolicy(exchange, d));
        server.start();
        https.add(server);
        httpsPorts.put(host, server.getAddress().getPort());
    }

    private void startSharedHttps(List<Domain> sts) throws IOException {
        if (sts.isEmpty()) {
            return;
        }
        Map<String, Domain> byHost = new HashMap<>();
        for (Domain d : sts) {
            byHost.put("mta-sts." + d.name(), d);
        }
        Credential credential = pki.leaf(byHost.keySet().toArray(String[]::new)).issue();
        HttpsServer server;
        try {
            server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName(Peers.LOOPBACK), 443), 64);
        } catch (BindException e) {
            throw new IllegalStateException(
                    "port 443 on " + Peers.LOOPBACK + " is taken (" + e.getMessage() + "): the world's MTA-STS"
                            + " server must listen there for resolvers that cannot use another port; stop what uses"
                            + " it, or the other test that started such a MailPolicyWorld",
                    e);
        }
        server.setHttpsConfigurator(new HttpsConfigurator(credential.serverContext()));
        server.createContext("/", exchange -> {
            String host = String.valueOf(exchange.getRequestHeaders().getFirst("Host"))
                    .replaceFirst(":\\d+$", "")
                    .toLowerCase(Locale.ROOT);
            Domain d = byHost.get(host);
            if (d == null) {
                try (exchange) {
                    exchange.sendResponseHeaders(421, -1);
                }
            } else {
                servePolicy(exchange, d);
            }
        });
        server.start();
        https.add(server);
    }

    /** Answers {@code /.well-known/mta-sts.txt} (and the redirect target) for {@code d} as its {@link PolicyFetch}. */
    private static void servePolicy(HttpExchange exchange, Domain d) throws IOException {
        try (exchange) {
            byte[] body = d.stsPolicy().getBytes(StandardCharsets.UTF_8);
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/moved/mta-sts.txt") && d.fetch() == PolicyFetch.REDIRECT) {
                send(exchange, 200, "text/plain", body);
            } else if (!path.equals("/.well-known/mta-sts.txt")) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                switch (d.fetch()) {
                    case OK -> send(exchange, 200, "text/plain", body);
                    case WRONG_CONTENT_TYPE -> send(exchange, 200, "text/html", body);
                    case NOT_FOUND -> exchange.sendResponseHeaders(404, -1);
                    case REDIRECT -> {
                        exchange.getResponseHeaders()
                                .set("Location", "https://mta-sts." + d.name() + "/moved/mta-sts.txt");
                        exchange.sendResponseHeaders(301, -1);
                    }
                }
            }
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /**
     * Breaks (changes one base64 character of) the signature of every RRSIG that covers a type in a domain's {@code
     * bogus} set: the zone still loads, the validating resolver finds the RRset bogus.
     */
    private static void breakSignatures(Path signed, List<Domain> domains) throws IOException {
        Map<String, String> targets = new HashMap<>(); // owner (lower case, with the dot) → type
        for (Domain d : domains) {
            for (String type : d.bogus()) {
                if (type.equals("MX")) {
                    targets.put(d.name().toLowerCase(Locale.ROOT) + ".", "MX");
                } else if (type.equals("TLSA")) {
                    for (int port : d.tlsaPorts()) {
                        targets.put("_" + port + "._tcp." + d.mxHost().toLowerCase(Locale.ROOT) + ".", "TLSA");
                    }
                }
            }
        }
        if (targets.isEmpty()) {
            return;
        }
        List<String> lines = new ArrayList<>(Files.readAllLines(signed, StandardCharsets.US_ASCII));
        Set<String> broken = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String[] t = lines.get(i).trim().split("\\s+");
            String owner = t.length > 0 ? t[0].toLowerCase(Locale.ROOT) : "";
            int rrsig = List.of(t).indexOf("RRSIG");
            if (rrsig > 0 && rrsig + 1 < t.length && t[rrsig + 1].equals(targets.get(owner))) {
                String signature = t[t.length - 1];
                int k = signature.length() / 2;
                char c = signature.charAt(k);
                t[t.length - 1] = signature.substring(0, k) + (c == 'A' ? 'B' : 'A') + signature.substring(k + 1);
                lines.set(i, String.join(" ", t));
                broken.add(owner);
            }
        }
        if (!broken.equals(targets.keySet())) {
            throw new IllegalStateException("found no RRSIG to break for " + targets + " in " + signed);
        }
        Files.write(signed, lines, StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        for (HttpsServer s : https) {
            s.stop(0);
        }
        for (Process p : named) {
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        dir.close();
    }

    /** A named.conf keeping every file in {@code dir}, listening on {@code address} port {@code port} only. */
    private static String namedConf(Path dir, String address, int port, String options) {
        return "options {\n  directory \"" + dir + "\";\n  pid-file none;\n"
                + "  listen-on port " + port + " { " + address + "; };\n  listen-on-v6 { none; };\n"
                + "  session-keyfile \"" + dir.resolve("session.key") + "\";\n"
                + "  managed-keys-directory \"" + dir + "\";\n" + options + "};\n"
                + "controls { };\n";
    }

    private static void keygen(Path dir, Path keys, String zone) {
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

    private static void sign(Path dir, Path keys, String origin, String in, String out) {
        run(
                dir,
                List.of(
                        "dnssec-signzone",
                        "-q",
                        "-K",
                        keys.toString(),
                        "-S",
                        "-z",
                        "-O",
                        "full",
                        "-d",
                        dir.toString(),
                        "-o",
                        origin,
                        "-f",
                        dir.resolve(out).toString(),
                        dir.resolve(in).toString()));
    }

    private static void run(Path dir, List<String> command) {
        List<String> inDir = List.of("sh", "-c", "cd \"$0\" && exec \"$@\"", dir.toString());
        List<String> full = new ArrayList<>(inDir);
        full.addAll(command);
        Peers.run(Duration.ofSeconds(60), null, full).orThrow();
    }

    /** The root KSK as a DNSKEY line ({@code . 300 IN DNSKEY 257 3 13 …}). */
    private static String dnskeyLine(Path keys) throws IOException {
        try (Stream<Path> files = Files.list(keys)) {
            Path key = files.filter(p -> p.getFileName().toString().startsWith("K.+013+")
                            && p.getFileName().toString().endsWith(".key"))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no root key in " + keys));
            return Files.readAllLines(key, StandardCharsets.US_ASCII).stream()
                    .filter(l -> !l.startsWith(";") && l.contains("DNSKEY"))
                    .findFirst()
                    .orElseThrow();
        }
    }

    private static Process startNamed(Path named, Path dir, Path conf, String address, int port, String name)
            throws IOException {
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
                throw new IllegalStateException(
                        "named (" + name + ") exited with " + process.exitValue() + ":\n" + Peers.readIfExists(log));
            }
            if (Peers.readIfExists(log).contains("running") && accepts(address, port)) {
                return process;
            }
            sleep(50);
        }
        process.destroyForcibly();
        throw new IllegalStateException("named (" + name + ") did not start within 20 s:\n" + Peers.readIfExists(log));
    }

    private static boolean accepts(String address, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * 127.0.0.1, if port 53 is free there (TCP and UDP). Not another 127/8 address: named listens only on addresses
     * configured on an interface, and adding one to {@code lo} would change the host. So one world runs at a time.
     */
    private static String freeResolverAddress() {
        String address = Peers.LOOPBACK;
        try (ServerSocket tcp = new ServerSocket(53, 1, InetAddress.getByName(address));
                DatagramSocket udp = new DatagramSocket(new InetSocketAddress(address, 53))) {
            if (tcp.isBound() && udp.isBound()) {
                return address;
            }
        } catch (IOException e) {
            throw new IllegalStateException(
                    "port 53 on " + address + " is taken (" + e.getMessage() + "): the"
                            + " world's resolver must listen there for the C library resolver; stop what uses it, or the"
                            + " other test that started a MailPolicyWorld",
                    e);
        }
        throw new IllegalStateException("port 53 on " + address + " cannot be bound");
    }

    private static int freeTcpAndUdpPort() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getByName(Peers.LOOPBACK))) {
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(Peers.LOOPBACK, port))) {
                    return udp.getLocalPort();
                } catch (IOException e) {
                    // UDP side taken.
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind a port on " + Peers.LOOPBACK, e);
            }
        }
        throw new IllegalStateException("no port free for both TCP and UDP on " + Peers.LOOPBACK);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
