package dev.optls.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.gateway.Route.ConnectTls;
import dev.optls.gateway.Route.HostPort;
import dev.optls.gateway.Route.ListenTls;
import dev.optls.netty.CertificateSelector;
import dev.optls.netty.ServerEngines;
import dev.optls.netty.TicketKeys;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConfigException;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a gateway configuration from TOML and checks all of it before anything starts: every problem is
 * reported at once, with the file, the key and the fix.
 *
 * <pre>
 * [[route]]
 * name = "submission"
 * protocol = "submission"      # smtp, submission, lmtp, imap, pop3, nntp, sieve, irc, ldap, postgres,
 *                              # xmpp, xmpp-server
 * listen = "0.0.0.0:587"
 * listen-tls = "starttls"      # starttls (default) | implicit | none (plaintext clients: origination)
 * connect = "127.0.0.1:10587"  # the backend / upstream
 * connect-tls = "none"         # none (default: a plaintext backend) | starttls | implicit (the gateway
 *                              # originates TLS: smtp, submission, lmtp, imap, pop3, nntp)
 * certificate = "chain.pem"    # PEM, leaf first; relative paths are relative to this file
 * key = "key.pem"              # certificate and key: not with listen-tls = "none"
 * level = "verify"             # with connect-tls: may | encrypt | verify (default); encrypt and verify
 *                              # close the client's connection when the upstream's TLS fails
 * ca = "ca.pem"                # with connect-tls: trust anchors (default: the JDK's)
 * server-name = "mx.example"   # with connect-tls: the name checked in the upstream's certificate
 *                              # (default: the connect host)
 * hostname = "mail.example.org"    # optional: greeting and EHLO name, the XMPP domain (default: localhost)
 * engine = "auto"                  # optional: boringssl | jdk | auto (BoringSSL where it loads)
 * reply-timeout = "60s"            # optional
 * handshake-timeout = "10s"        # optional
 * max-connections = 20000          # optional: open connections on this route; more are closed at accept
 * max-connections-per-client = 1000    # optional: open connections from one client address
 * certificates = [             # optional: more certificates, chosen by the client's SNI (RFC 6066 §3) by
 *   { certificate = "mail.pem", key = "mail.key" },   # the DNS names of each leaf (exact, then *.one-label);
 * ]                            # certificate/key above stay the default (no SNI, or no name matches)
 * ticket-keys = "tickets.keys" # optional: session ticket keys shared with other instances (BoringSSL
 *                              # engine; one base64 48-byte key a line, the first encrypts)
 *
 * [gateway]                        # optional: global settings
 * drain-timeout = "30s"            # on shutdown, how long open sessions may finish before they are cut
 * metrics = "127.0.0.1:9187"       # Prometheus text exposition on http://HOST:PORT/metrics
 * certificate-check = "5s"         # how often certificate and key files are checked for changes
 * ticket-keys = "tickets.keys"     # ticket key file for every route with TLS clients (a route's own wins)
 * </pre>
 */
public final class ConfigLoader {
    /** Keys a route may have. */
    static final List<String> ROUTE_KEYS = List.of(
            "name",
            "protocol",
            "listen",
            "listen-tls",
            "connect",
            "connect-tls",
            "level",
            "ca",
            "server-name",
            "certificate",
            "key",
            "hostname",
            "engine",
            "reply-timeout",
            "handshake-timeout",
            "max-connections",
            "max-connections-per-client",
            "accept-proxy-protocol",
            "proxy-protocol",
            "certificates",
            "ticket-keys");

    /** Keys the {@code [gateway]} table may have. */
    static final List<String> GATEWAY_KEYS = List.of("drain-timeout", "metrics", "certificate-check", "ticket-keys");

    /** Keys of one entry of a route's {@code certificates}. */
    static final List<String> CERTIFICATE_KEYS = List.of("certificate", "key");

    private static final int MAX_LIMIT = 1_000_000;

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m)");
    private static final Duration DEFAULT_REPLY = Duration.ofSeconds(60);
    private static final Duration DEFAULT_HANDSHAKE = Duration.ofSeconds(10);

    private final String file;
    private final Path base;
    private final List<ConfigException.Problem> problems = new ArrayList<>();
    /** The {@code [gateway]} table's ticket key file, for routes without their own. */
    private Optional<String> gatewayTicketKeys = Optional.empty();

    private ConfigLoader(String file, Path base) {
        this.file = file;
        this.base = base;
    }

    /** Loads and checks {@code path}. */
    public static GatewayConfig load(Path path) throws ConfigException {
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigException.Problem(
                    path.toString(),
                    "(file)",
                    "cannot read the configuration: " + e.getMessage(),
                    "check the path given to --config and that the file is readable")));
        }
        Path parent = path.toAbsolutePath().getParent();
        return parse(text, path.toString(), parent == null ? Path.of(".") : parent);
    }

    /**
     * Parses configuration text.
     *
     * @param file the name used in messages
     * @param base the directory that relative certificate and key paths are relative to
     */
    public static GatewayConfig parse(String text, String file, Path base) throws ConfigException {
        return new ConfigLoader(file, base).read(text);
    }

    private GatewayConfig read(String text) throws ConfigException {
        JsonNode root;
        try {
            root = new TomlMapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(List.of(new ConfigException.Problem(
                    file,
                    "line " + e.getLocation().getLineNr(),
                    "not valid TOML: " + e.getOriginalMessage(),
                    "fix the syntax; see the example in `optls gateway --help`")));
        }
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("route") && !name.equals("gateway")) {
                problem(name, "unknown top-level key", "the file holds [[route]] tables and one [gateway] table");
            }
        }
        GatewayConfig.Settings settings = settings(root.get("gateway"));
        JsonNode routes = root.path("route");
        if (!routes.isArray() || routes.isEmpty()) {
            problem(
                    "route",
                    "no routes",
                    "add at least one [[route]] table with name, protocol, listen, connect, " + "certificate and key");
            throw new ConfigException(problems);
        }
        List<Route> result = new ArrayList<>();
        Map<String, GatewayConfig.Operations> operations = new HashMap<>();
        Set<String> names = new HashSet<>();
        Set<String> listens = new HashSet<>();
        for (int i = 0; i < routes.size(); i++) {
            JsonNode node = routes.get(i);
            route(node, i + 1).ifPresent(r -> {
                operations(node, r).ifPresent(o -> operations.put(r.name(), o));
                if (!names.add(r.name())) {
                    problem(
                            where(r.name(), "name"),
                            "the name is used by another route",
                            "give each route its own name");
                }
                if (!listens.add(r.listen().toString())) {
                    problem(
                            where(r.name(), "listen"),
                            r.listen() + " is also the listen address of another route",
                            "give each route its own port");
                }
                result.add(r);
            });
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new GatewayConfig(file, result, settings, operations);
    }

    private GatewayConfig.Settings settings(JsonNode node) {
        GatewayConfig.Settings defaults = GatewayConfig.Settings.DEFAULT;
        if (node == null) {
            return defaults;
        }
        if (!node.isObject()) {
            problem("gateway", "not a table", "write the global settings as a [gateway] table");
            return defaults;
        }
        for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!GATEWAY_KEYS.contains(key)) {
                problem("[gateway] " + key, "unknown key", "known keys: " + String.join(", ", GATEWAY_KEYS));
            }
        }
        Duration drain =
                duration(node, "[gateway] drain-timeout", "drain-timeout", true).orElse(defaults.drainTimeout());
        Duration check = duration(node, "[gateway] certificate-check", "certificate-check", false)
                .orElse(defaults.certificateCheck());
        Optional<HostPort> metrics = Optional.empty();
        if (node.has("metrics")) {
            JsonNode value = node.get("metrics");
            if (!value.isTextual() || value.asText().isBlank()) {
                problem("[gateway] metrics", "must be a non-empty string", "write metrics = \"127.0.0.1:9187\"");
            } else {
                metrics = hostPortAt("[gateway] metrics", value.asText());
            }
        }
        if (node.has("ticket-keys")) {
            JsonNode value = node.get("ticket-keys");
            if (!value.isTextual() || value.asText().isBlank()) {
                problem(
                        "[gateway] ticket-keys",
                        "must be a non-empty string",
                        "write ticket-keys = \"/etc/optls/tickets.keys\"");
            } else {
                gatewayTicketKeys = Optional.of(value.asText());
            }
        }
        return new GatewayConfig.Settings(drain, metrics, check);
    }

    private Optional<GatewayConfig.Operations> operations(JsonNode node, Route route) {
        int max = limit(node, route.name(), "max-connections", GatewayConfig.Operations.DEFAULT_MAX_CONNECTIONS);
        int perClient = limit(
                node,
                route.name(),
                "max-connections-per-client",
                GatewayConfig.Operations.DEFAULT_MAX_CONNECTIONS_PER_CLIENT);
        if (max < 1 || perClient < 1) {
            return Optional.empty();
        }
        if (node.has("max-connections-per-client") && perClient > max) {
            problem(
                    where(route.name(), "max-connections-per-client"),
                    perClient + " is more than the route's max-connections (" + max + ")",
                    "make max-connections-per-client at most max-connections");
        }
        // Routes with plaintext clients (listen-tls = "none") have no certificate to watch.
        Optional<GatewayConfig.CertificateFiles> files = node.has("certificate") && node.has("key")
                ? Optional.of(new GatewayConfig.CertificateFiles(
                        base.resolve(node.get("certificate").asText()),
                        base.resolve(node.get("key").asText())))
                : Optional.empty();
        boolean acceptProxy = false;
        if (node.has("accept-proxy-protocol")) {
            if (node.get("accept-proxy-protocol").isBoolean()) {
                acceptProxy = node.get("accept-proxy-protocol").asBoolean();
            } else {
                problem(
                        where(route.name(), "accept-proxy-protocol"),
                        "must be true or false",
                        "write accept-proxy-protocol = true when a load balancer sends PROXY protocol headers");
            }
        }
        Optional<GatewayConfig.ProxyHeader> proxy = Optional.empty();
        if (node.has("proxy-protocol")) {
            String v = node.get("proxy-protocol").asText().toLowerCase(Locale.ROOT);
            if (v.equals("v1") || v.equals("v2")) {
                proxy = Optional.of(v.equals("v1") ? GatewayConfig.ProxyHeader.V1 : GatewayConfig.ProxyHeader.V2);
            } else {
                problem(
                        where(route.name(), "proxy-protocol"),
                        "unknown value '" + node.get("proxy-protocol").asText() + "'",
                        "use \"v1\" or \"v2\" (the header the backend expects, e.g. Postfix "
                                + "smtpd_upstream_proxy_protocol = haproxy)");
            }
        }
        List<GatewayConfig.CertificateFiles> sniFiles = new ArrayList<>();
        if (files.isPresent() && node.path("certificates").isArray()) {
            for (JsonNode entry : node.get("certificates")) {
                sniFiles.add(new GatewayConfig.CertificateFiles(
                        base.resolve(entry.path("certificate").asText()),
                        base.resolve(entry.path("key").asText())));
            }
        }
        Optional<Path> tickets = route.listenTls() == ListenTls.NONE
                ? Optional.empty()
                : ticketKeys(node).map(base::resolve);
        return Optional.of(new GatewayConfig.Operations(max, perClient, files, acceptProxy, proxy, sniFiles, tickets));
    }

    /** The route's ticket key file, else the {@code [gateway]} one. */
    private Optional<String> ticketKeys(JsonNode node) {
        return node.path("ticket-keys").isTextual()
                ? Optional.of(node.get("ticket-keys").asText())
                : gatewayTicketKeys;
    }

    /** A positive whole number of connections; 0 when it is not one (a problem is recorded). */
    private int limit(JsonNode node, String name, String key, int defaultValue) {
        if (!node.has(key)) {
            return defaultValue;
        }
        JsonNode value = node.get(key);
        if (!value.isIntegralNumber() || value.asLong() < 1 || value.asLong() > MAX_LIMIT) {
            problem(
                    where(name, key),
                    "'" + value.asText() + "' is not a number of connections",
                    "write a whole number from 1 to " + MAX_LIMIT + " without quotes, e.g. " + key + " = 500");
            return 0;
        }
        return value.asInt();
    }

    private Optional<Route> route(JsonNode node, int index) {
        String label = "route[" + index + "]";
        if (!node.isObject()) {
            problem(label, "not a table", "write each route as a [[route]] table");
            return Optional.empty();
        }
        String name = node.path("name").isTextual() ? node.get("name").asText() : label;
        int before = problems.size();
        for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!ROUTE_KEYS.contains(key)) {
                problem(where(name, key), "unknown key", "known keys: " + String.join(", ", ROUTE_KEYS));
            }
        }
        Optional<String> nameText = text(node, name, "name", true);
        Optional<Protocol> protocol = text(node, name, "protocol", true).flatMap(p -> protocol(name, p));
        Optional<HostPort> listen = text(node, name, "listen", true).flatMap(a -> hostPort(name, "listen", a));
        ListenTls listenTls = text(node, name, "listen-tls", false)
                .flatMap(t -> listenTls(name, t))
                .orElse(ListenTls.STARTTLS);
        Optional<HostPort> connect = text(node, name, "connect", true).flatMap(a -> hostPort(name, "connect", a));
        Optional<ConnectTls> connectTls = text(node, name, "connect-tls", false)
                .map(t -> connectTls(name, t))
                .orElse(Optional.of(ConnectTls.NONE));
        String hostname = text(node, name, "hostname", false).orElse("localhost");
        if (hostname.isBlank() || hostname.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            problem(
                    where(name, "hostname"),
                    "'" + hostname + "' is not a host name",
                    "give a DNS name such as " + "mail.example.org");
        }
        text(node, name, "ticket-keys", false);
        Duration reply = duration(node, name, "reply-timeout").orElse(DEFAULT_REPLY);
        Duration handshake = duration(node, name, "handshake-timeout").orElse(DEFAULT_HANDSHAKE);
        protocol.ifPresent(p -> connectTls.ifPresent(c -> supported(name, p, listenTls, c)));
        if (protocol.orElse(null) == Protocol.FTP) {
            ftp(node, name);
        }
        Optional<CertificateSelector> tls =
                listenTls == ListenTls.NONE ? Optional.empty() : certificates(node, name, protocol);
        if (listenTls == ListenTls.NONE) {
            for (String key : List.of("certificate", "key", "engine", "certificates", "ticket-keys")) {
                if (node.has(key)) {
                    problem(
                            where(name, key),
                            "a route with listen-tls = \"none\" has plaintext clients and no certificate",
                            "remove " + key + ", or set listen-tls = \"starttls\" or \"implicit\"");
                }
            }
        }
        Optional<Route.Upstream> upstream =
                connectTls.flatMap(c -> upstream(node, name, c, protocol, connect.map(HostPort::host)));
        if (problems.size() > before
                || nameText.isEmpty()
                || protocol.isEmpty()
                || listen.isEmpty()
                || connect.isEmpty()
                || (listenTls != ListenTls.NONE && tls.isEmpty())
                || upstream.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Route(
                nameText.get(),
                protocol.get(),
                listen.get(),
                listenTls,
                connect.get(),
                tls.map(CertificateSelector::fallback).orElse(null),
                hostname,
                reply,
                handshake,
                upstream.get(),
                tls.orElse(null)));
    }

    /**
     * FTP routes carry data connections besides the control connection: the client connects to the gateway's
     * own passive ports (the 227/229 replies name the gateway's address), and the gateway to the backend's.
     */
    private void ftp(JsonNode node, String name) {
        if (node.path("accept-proxy-protocol").asBoolean(false)) {
            problem(
                    where(name, "accept-proxy-protocol"),
                    "an ftp route cannot sit behind a PROXY-protocol load balancer: the client's data connections "
                            + "go to the gateway's own passive ports, not through the load balancer",
                    "remove accept-proxy-protocol from the ftp route (let the load balancer pass TCP through)");
        }
        if (node.has("proxy-protocol")) {
            problem(
                    where(name, "proxy-protocol"),
                    "an FTP backend would compare the client address in the header with its data connections, "
                            + "which come from the gateway, and refuse them",
                    "remove proxy-protocol from the ftp route");
        }
    }

    private void supported(String name, Protocol protocol, ListenTls listenTls, ConnectTls connectTls) {
        for (Route.Unsupported u : Route.unsupported(protocol, listenTls, connectTls)) {
            String reason = u.reason(protocol);
            switch (u) {
                case NO_TLS ->
                    problem(
                            where(name, "connect-tls"),
                            reason,
                            "set connect-tls = \"starttls\" or \"implicit\" to originate TLS towards the upstream, or "
                                    + "listen-tls = \"starttls\" or \"implicit\" to terminate TLS from clients");
                case TERMINATION ->
                    problem(
                            where(name, "protocol"),
                            reason,
                            "route it with stunnel-style plain TLS forwarding instead, or leave the route out");
                case ORIGINATION ->
                    problem(
                            where(name, "connect-tls"),
                            reason,
                            "use connect-tls = \"none\" with a plaintext backend, or leave the route out");
                case IMPLICIT_LISTEN ->
                    problem(
                            where(name, "listen-tls"),
                            reason,
                            protocol == Protocol.SMTP
                                    ? "implicit TLS for mail is submissions (RFC 8314): use protocol = \"submission\""
                                    : "use listen-tls = \"starttls\"");
                case IMPLICIT_CONNECT ->
                    problem(
                            where(name, "connect-tls"),
                            reason,
                            protocol == Protocol.SMTP
                                    ? "implicit TLS for mail is submissions (RFC 8314): use protocol = \"submission\", "
                                            + "or connect-tls = \"starttls\""
                                    : "use connect-tls = \"starttls\"");
            }
        }
    }

    /** The upstream side: connect-tls with its level, trust anchors and reference identity. */
    private Optional<Route.Upstream> upstream(
            JsonNode node, String name, ConnectTls mode, Optional<Protocol> protocol, Optional<String> host) {
        if (mode == ConnectTls.NONE) {
            for (String key : List.of("level", "ca", "server-name")) {
                if (node.has(key)) {
                    problem(
                            where(name, key),
                            "only used when the gateway connects with TLS",
                            "set connect-tls = \"starttls\" or \"implicit\", or remove " + key);
                }
            }
            return Optional.of(Route.Upstream.PLAINTEXT);
        }
        Optional<SecurityLevel> level = text(node, name, "level", false)
                .map(l -> switch (l) {
                    case "may" -> Optional.of(SecurityLevel.MAY);
                    case "encrypt" -> Optional.of(SecurityLevel.ENCRYPT);
                    case "verify" -> Optional.of(SecurityLevel.VERIFY);
                    default -> {
                        problem(
                                where(name, "level"),
                                "unknown level '" + l + "'",
                                "use \"verify\" (the certificate must be valid for server-name), \"encrypt\" "
                                        + "(TLS required, certificate not checked) or \"may\" (plaintext if the "
                                        + "upstream offers no TLS)");
                        yield Optional.<SecurityLevel>empty();
                    }
                })
                .orElse(Optional.of(SecurityLevel.VERIFY));
        Optional<TrustAnchors> trust = text(node, name, "ca", false)
                .map(ca -> {
                    Path caPath = base.resolve(ca);
                    try {
                        return Optional.of(TrustAnchors.fromPemFile(caPath));
                    } catch (TlsConfigException e) {
                        problem(
                                where(name, "ca"),
                                "cannot use " + caPath + ": " + e.getMessage(),
                                "give a PEM file of the CA certificates the upstream's chain leads to");
                        return Optional.<TrustAnchors>empty();
                    }
                })
                .orElseGet(() -> Optional.of(TrustAnchors.jdkDefault()));
        Optional<String> serverName = text(node, name, "server-name", false).or(() -> host);
        serverName.ifPresent(n -> {
            if (n.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
                problem(
                        where(name, "server-name"),
                        "'" + n + "' is not a host name",
                        "give the DNS name the upstream's certificate is issued for, e.g. mail.example.org");
            }
        });
        if (level.isEmpty() || trust.isEmpty() || serverName.isEmpty() || protocol.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Route.Upstream.tls(
                mode,
                ClientTls.create(
                        level.get(),
                        trust.get(),
                        ReferenceIdentity.forProtocol(protocol.get(), serverName.get()),
                        protocol.get().alpn(),
                        TlsProfile.modern())));
    }

    private Optional<ConnectTls> connectTls(String name, String value) {
        try {
            return Optional.of(ConnectTls.valueOf(value.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            problem(
                    where(name, "connect-tls"),
                    "unknown value '" + value + "'",
                    "use \"none\", \"starttls\" or \"implicit\"");
            return Optional.empty();
        }
    }

    /**
     * The default certificate, those chosen by SNI, and the ticket keys applied to all of them: one problem
     * per file that cannot be used, per name two certificates claim, and for ticket keys the JDK engine
     * cannot take.
     */
    private Optional<CertificateSelector> certificates(JsonNode node, String name, Optional<Protocol> protocol) {
        int before = problems.size();
        Optional<ServerEngines> fallback = certificate(node, name, protocol);
        List<ServerEngines> all = new ArrayList<>();
        fallback.ifPresent(all::add);
        Map<String, String> owners = new HashMap<>();
        fallback.ifPresent(f -> CertificateSelector.dnsNames(f).forEach(n -> owners.put(n, "certificate")));
        JsonNode list = node.get("certificates");
        if (list != null && (!list.isArray() || list.isEmpty())) {
            problem(
                    where(name, "certificates"),
                    "must be a list of tables",
                    "write certificates = [ { certificate = \"mail.pem\", key = \"mail.key\" } ], one table per "
                            + "certificate chosen by SNI");
        } else if (list != null) {
            for (int i = 0; i < list.size(); i++) {
                String label = "certificates[" + (i + 1) + "]";
                sniCertificate(list.get(i), name, label, protocol, fallback).ifPresent(e -> {
                    List<String> names = CertificateSelector.dnsNames(e);
                    if (names.isEmpty()) {
                        problem(
                                where(name, label + " certificate"),
                                "the certificate has no DNS names (subjectAltName dNSName), so no client's SNI "
                                        + "can select it",
                                "give a certificate issued for the host names clients ask for");
                    }
                    for (String n : names) {
                        String other = owners.putIfAbsent(n, label);
                        if (other != null && !other.equals(label)) {
                            problem(
                                    where(name, label + " certificate"),
                                    "the name " + n + " is also in the certificate of " + other
                                            + ": SNI could not tell them apart",
                                    "give each host name to one certificate (leave it out of one of them, or drop "
                                            + "the entry)");
                        }
                    }
                    all.add(e);
                });
            }
        }
        if (fallback.isEmpty() || problems.size() > before) {
            return Optional.empty();
        }
        Optional<String> tickets = ticketKeys(node);
        if (tickets.isPresent()) {
            String key = node.has("ticket-keys") ? where(name, "ticket-keys") : "[gateway] ticket-keys";
            Path file = base.resolve(tickets.get());
            try {
                TicketKeys keys = TicketKeys.read(file);
                all.forEach(e -> e.withTicketKeys(keys));
            } catch (TlsConfigException e) {
                problem(
                        key,
                        (node.has("ticket-keys") ? "" : "for route \"" + name + "\": ") + e.getMessage(),
                        all.get(0).provider() == ServerEngines.Provider.JDK
                                ? "set engine = \"boringssl\" in the route (or \"auto\" where BoringSSL loads), "
                                        + "or leave ticket-keys out (sessions then resume on this instance only)"
                                : "give a file of base64 48-byte keys, one a line (head -c 48 /dev/urandom | base64)");
                return Optional.empty();
            }
        }
        return Optional.of(CertificateSelector.of(all));
    }

    private Optional<ServerEngines> sniCertificate(
            JsonNode entry, String name, String label, Optional<Protocol> protocol, Optional<ServerEngines> fallback) {
        if (!entry.isObject()) {
            problem(
                    where(name, label),
                    "not a table",
                    "write each entry as { certificate = \"mail.pem\", key = \"mail.key\" }");
            return Optional.empty();
        }
        for (Iterator<String> keys = entry.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!CERTIFICATE_KEYS.contains(key)) {
                problem(
                        where(name, label + " " + key),
                        "unknown key",
                        "an entry has certificate and key (the route's engine applies to all)");
            }
        }
        Optional<String> chain = text(entry, name, label + " certificate", "certificate", true);
        Optional<String> key = text(entry, name, label + " key", "key", true);
        if (chain.isEmpty() || key.isEmpty() || protocol.isEmpty() || fallback.isEmpty()) {
            return Optional.empty();
        }
        Path chainPath = base.resolve(chain.get());
        Path keyPath = base.resolve(key.get());
        try {
            return Optional.of(RouteCertificates.engines(
                    chainPath, keyPath, protocol.get(), fallback.get().provider()));
        } catch (TlsConfigException e) {
            problem(
                    where(name, label + " certificate"),
                    "cannot use " + chainPath + " with " + keyPath + ": " + e.getMessage(),
                    "give the PEM certificate chain (leaf first) and its private key");
            return Optional.empty();
        }
    }

    private Optional<ServerEngines> certificate(JsonNode node, String name, Optional<Protocol> protocol) {
        Optional<ServerEngines.Provider> provider = text(node, name, "engine", false)
                .map(e -> ServerEngines.Provider.named(e).or(() -> {
                    problem(
                            where(name, "engine"),
                            "unknown engine '" + e + "'",
                            "use \"auto\", \"boringssl\" or \"jdk\"");
                    return Optional.empty();
                }))
                .orElse(Optional.of(ServerEngines.Provider.AUTO));
        Optional<String> chain = text(node, name, "certificate", true);
        Optional<String> key = text(node, name, "key", true);
        if (chain.isEmpty() || key.isEmpty() || protocol.isEmpty() || provider.isEmpty()) {
            return Optional.empty();
        }
        Path chainPath = base.resolve(chain.get());
        Path keyPath = base.resolve(key.get());
        try {
            return Optional.of(ServerEngines.of(
                    ServerTls.fromPemFiles(chainPath, keyPath, protocol.get().alpn(), TlsProfile.modern()),
                    provider.get()));
        } catch (TlsConfigException e) {
            problem(
                    where(name, "certificate"),
                    "cannot use " + chainPath + " with " + keyPath + ": " + e.getMessage(),
                    "give the PEM certificate chain (leaf first) and its private key");
            return Optional.empty();
        }
    }

    private Optional<Protocol> protocol(String name, String scheme) {
        Optional<Protocol> p = Protocol.forScheme(scheme).filter(x -> !Protocol.isImplicitScheme(scheme));
        if (p.isEmpty()) {
            problem(
                    where(name, "protocol"),
                    "unknown protocol '" + scheme + "'",
                    "one of " + String.join(", ", Relaying.supportedSchemes())
                            + " (for implicit TLS give the plaintext name and listen-tls = \"implicit\")");
        }
        return p;
    }

    private Optional<ListenTls> listenTls(String name, String value) {
        try {
            return Optional.of(ListenTls.valueOf(value.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            problem(
                    where(name, "listen-tls"),
                    "unknown value '" + value + "'",
                    "use \"starttls\", \"implicit\" or \"none\"");
            return Optional.empty();
        }
    }

    private Optional<HostPort> hostPort(String name, String key, String value) {
        return hostPortAt(where(name, key), value);
    }

    private Optional<HostPort> hostPortAt(String label, String value) {
        String host;
        String port;
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            host = close < 0 ? "" : value.substring(1, close);
            port = close < 0 || close + 1 >= value.length() || value.charAt(close + 1) != ':'
                    ? ""
                    : value.substring(close + 2);
        } else {
            int colon = value.lastIndexOf(':');
            host = colon < 0 ? "" : value.substring(0, colon);
            port = colon < 0 ? "" : value.substring(colon + 1);
        }
        if (host.isEmpty() || host.indexOf(':') >= 0 && !value.startsWith("[") || !port.matches("\\d{1,5}")) {
            problem(label, "'" + value + "' is not HOST:PORT", "write e.g. \"127.0.0.1:2525\" or " + "\"[::1]:2525\"");
            return Optional.empty();
        }
        int number = Integer.parseInt(port);
        if (number < 1 || number > 65535) {
            problem(label, "port " + number + " is out of range", "use a port from 1 to 65535");
            return Optional.empty();
        }
        return Optional.of(new HostPort(host, number));
    }

    private Optional<Duration> duration(JsonNode node, String name, String key) {
        return duration(node, where(name, key), key, false);
    }

    /** A duration such as "500ms", "10s", "2m"; zero only where {@code zeroAllowed}. */
    private Optional<Duration> duration(JsonNode node, String label, String key, boolean zeroAllowed) {
        if (!node.has(key)) {
            return Optional.empty();
        }
        JsonNode value = node.get(key);
        Matcher m = DURATION.matcher(value.asText().trim());
        if (!value.isTextual() || !m.matches() || !zeroAllowed && Long.parseLong(m.group(1)) == 0) {
            problem(
                    label,
                    "'" + value.asText() + "' is not a duration",
                    "write e.g. \"500ms\", " + "\"10s\" or \"2m\""
                            + (zeroAllowed ? " (\"0s\" allowed)" : ", more than 0"));
            return Optional.empty();
        }
        long amount = Long.parseLong(m.group(1));
        return Optional.of(
                switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    default -> Duration.ofMinutes(amount);
                });
    }

    private Optional<String> text(JsonNode node, String name, String key, boolean required) {
        return text(node, name, key, key, required);
    }

    /** A string at {@code key} of {@code node}, reported as {@code label} of route {@code name}. */
    private Optional<String> text(JsonNode node, String name, String label, String key, boolean required) {
        JsonNode value = node.get(key);
        if (value == null) {
            if (required) {
                problem(
                        where(name, label),
                        "missing",
                        "add " + key + " = \"…\"" + (label.equals(key) ? " to the route" : ""));
            }
            return Optional.empty();
        }
        if (!value.isTextual() || value.asText().isBlank()) {
            problem(where(name, label), "must be a non-empty string", "write " + key + " = \"…\"");
            return Optional.empty();
        }
        return Optional.of(value.asText());
    }

    private static String where(String route, String key) {
        return "route \"" + route + "\" " + key;
    }

    private void problem(String key, String problem, String fix) {
        problems.add(new ConfigException.Problem(file, key, problem, fix));
    }
}
