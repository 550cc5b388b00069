package dev.optls.cli;

import dev.optls.policy.dns.DnsConfig;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.TrustAnchors;
import dev.optls.policy.sts.HttpsPolicyFetcher;
import dev.optls.tls.TlsConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The options every mail-policy command shares: which DNS resolver to ask and how DNSSEC is judged, and how MTA-STS
 * policies are fetched. A picocli mixin.
 */
final class PolicyOptions {

    static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");

    @Option(
            names = "--dns",
            paramLabel = "ADDRESS[:PORT]",
            description = "DNS resolver to ask, repeatable (default: the nameservers of /etc/resolv.conf); IPv6 as"
                    + " [::1]:53")
    List<String> dns = new ArrayList<>();

    @Option(
            names = "--dns-trust-ad",
            description = "believe the resolver's AD bit instead of validating DNSSEC here: only for a validating"
                    + " resolver you trust on a path you trust, such as one on loopback (Postfix's"
                    + " smtp_dns_support_level = dnssec)")
    boolean trustAd;

    @Option(
            names = "--dnssec-anchors",
            paramLabel = "FILE",
            description = "DNSSEC trust anchors (DS or DNSKEY records, e.g. /usr/share/dns/root.ds; default: the IANA"
                    + " root KSKs built in)")
    Path anchors;

    @Option(
            names = "--dns-timeout",
            paramLabel = "SECONDS",
            defaultValue = "10",
            description = "limit for each DNS lookup (default: ${DEFAULT-VALUE})")
    int dnsTimeoutSeconds;

    @Option(
            names = "--mta-sts-ca",
            paramLabel = "FILE",
            description = "PEM file of CA certificates MTA-STS policy hosts are checked against (default: the JDK's)")
    Path mtaStsCa;

    @Option(
            names = "--testing-mta-sts-port",
            paramLabel = "HOST=PORT",
            description = "FOR TESTS ONLY: fetch the MTA-STS policy of HOST (e.g. mta-sts.example.test) from"
                    + " 127.0.0.1:PORT instead of resolving it; the certificate is still checked for HOST. Repeatable.")
    List<String> testingMtaStsPorts = new ArrayList<>();

    /** The resolver these options describe. */
    DnsResolver resolver() {
        if (dnsTimeoutSeconds <= 0 || dnsTimeoutSeconds > 300) {
            throw new Main.UsageException("--dns-timeout must be 1..300 seconds, got " + dnsTimeoutSeconds);
        }
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String server : dns) {
            servers.add(parseServer(server, "--dns"));
        }
        if (servers.isEmpty()) {
            servers.addAll(systemResolvers(RESOLV_CONF));
        }
        DnsConfig config = new DnsConfig(
                servers,
                Duration.ofSeconds(dnsTimeoutSeconds),
                DnsConfig.DEFAULT_MAX_RECORDS,
                DnsConfig.DEFAULT_MAX_CNAME_CHAIN);
        if (trustAd) {
            if (anchors != null) {
                throw new Main.UsageException("--dnssec-anchors and --dns-trust-ad exclude each other: with"
                        + " --dns-trust-ad the resolver validates, with anchors optls does");
            }
            return DnsResolver.trustingAdBitFrom(config);
        }
        TrustAnchors trust;
        try {
            trust = anchors == null ? TrustAnchors.root() : TrustAnchors.fromFile(anchors);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new Main.UsageException("--dnssec-anchors " + anchors + ": " + e.getMessage());
        }
        return DnsResolver.validating(config, trust);
    }

    /** The MTA-STS policy fetcher these options describe, resolving policy hosts through {@code dns}. */
    HttpsPolicyFetcher fetcher(DnsResolver dns) {
        HttpsPolicyFetcher.Builder builder = HttpsPolicyFetcher.builder().resolver(dns);
        if (mtaStsCa != null) {
            try {
                builder.trustAnchors(dev.optls.tls.TrustAnchors.fromPemFile(mtaStsCa));
            } catch (TlsConfigException e) {
                throw new Main.UsageException("--mta-sts-ca: " + e.getMessage());
            }
        }
        for (String mapping : testingMtaStsPorts) {
            int eq = mapping.indexOf('=');
            int port = eq > 0 ? parsePort(mapping.substring(eq + 1)) : -1;
            if (port < 0) {
                throw new Main.UsageException(
                        "--testing-mta-sts-port wants HOST=PORT, e.g. mta-sts.example.test=8443; got '" + mapping
                                + "'");
            }
            builder.connectToLoopback(mapping.substring(0, eq), port);
        }
        return builder.build();
    }

    /** {@code address}, {@code address:port} or {@code [v6]:port}, as a socket address (port 53 by default). */
    static InetSocketAddress parseServer(String text, String option) {
        String host = text;
        int port = 53;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new Main.UsageException(option + " " + text + ": missing ']' after the IPv6 address");
            }
            host = text.substring(1, close);
            if (close + 1 < text.length()) {
                if (text.charAt(close + 1) != ':') {
                    throw new Main.UsageException(option + " " + text + ": expected ':PORT' after ']'");
                }
                port = parsePort(text.substring(close + 2));
            }
        } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
            host = text.substring(0, text.indexOf(':'));
            port = parsePort(text.substring(text.indexOf(':') + 1));
        }
        if (port < 0) {
            throw new Main.UsageException(option + " " + text + ": the port must be 1..65535");
        }
        if (!host.matches("[0-9.]+|[0-9A-Fa-f:.]+")) {
            throw new Main.UsageException(
                    option + " " + text + ": give the resolver's IP address (a name would need a resolver itself)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new Main.UsageException(option + " " + text + ": not an IP address");
        }
    }

    /** The {@code nameserver} lines of {@code resolvConf}. */
    static List<InetSocketAddress> systemResolvers(Path resolvConf) {
        List<String> lines;
        try {
            lines = Files.readAllLines(resolvConf, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new Main.UsageException(
                    "cannot read " + resolvConf + " (" + e.getMessage() + "); name a resolver with --dns ADDRESS");
        }
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String line : lines) {
            String[] words = line.trim().split("\\s+");
            if (words.length >= 2 && words[0].toLowerCase(Locale.ROOT).equals("nameserver")) {
                servers.add(parseServer(words[1].replaceFirst("%.*$", ""), resolvConf.toString()));
            }
        }
        if (servers.isEmpty()) {
            throw new Main.UsageException(resolvConf + " names no nameserver; name a resolver with --dns ADDRESS");
        }
        return servers;
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            return port >= 1 && port <= 65535 ? port : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
