package dev.optls.policy.postfix;

import java.util.Locale;
import java.util.Optional;

/**
 * A key of Postfix's TLS policy table (postconf(5) {@code smtp_tls_policy_maps}): the next-hop domain ({@code
 * example.com}, looked up through its MX records), or a next hop that names its host ({@code [mx.example.com]} or
 * {@code [mx.example.com]:587}: a relay host or a transport next hop, no MX lookup).
 *
 * @param name the domain or host name: lower case, no trailing dot
 * @param port the TCP port the next hop names (25 when the key has none): for a domain, the port of its MX hosts
 * @param bracketed whether the key named the host itself
 */
public record NextHop(String name, int port, boolean bracketed) {

    /** The longest domain name (RFC 1035 §2.3.4, without the trailing dot). */
    public static final int MAX_NAME = 253;

    /**
     * The next hop {@code key} names, or empty when it gets {@code NOTFOUND } without a lookup: parent-domain keys
     * ({@code .example.com}, asked after a {@code NOTFOUND }), address literals ({@code [192.0.2.1]}: DANE needs a
     * name), ports that are neither numbers nor {@code smtp}, {@code submission} or {@code smtps}, and anything that
     * is not a domain name. A domain with a port ({@code example.com:2525}) is the domain's MX hosts on that port.
     */
    public static Optional<NextHop> parse(String key) {
        String k = key.strip().toLowerCase(Locale.ROOT);
        if (k.isEmpty() || k.startsWith(".")) {
            return Optional.empty();
        }
        if (k.startsWith("[")) {
            int close = k.indexOf(']');
            if (close < 0) {
                return Optional.empty();
            }
            String rest = k.substring(close + 1);
            Optional<Integer> port = rest.isEmpty()
                    ? Optional.of(25)
                    : rest.startsWith(":") ? port(rest.substring(1)) : Optional.empty();
            Optional<String> host = domainName(k.substring(1, close)).filter(h -> !isAddressLiteral(h));
            return host.isPresent() && port.isPresent()
                    ? Optional.of(new NextHop(host.get(), port.get(), true))
                    : Optional.empty();
        }
        int colon = k.indexOf(':');
        Optional<Integer> port = colon < 0 ? Optional.of(25) : port(k.substring(colon + 1));
        Optional<String> domain = domainName(colon < 0 ? k : k.substring(0, colon));
        return domain.isPresent() && port.isPresent()
                ? Optional.of(new NextHop(domain.get(), port.get(), false))
                : Optional.empty();
    }

    /** The key answers are cached under: {@code example.com}, {@code example.com:2525} or {@code [mx.example.com]:587}. */
    public String key() {
        return bracketed ? "[" + name + "]:" + port : port == 25 ? name : name + ":" + port;
    }

    /** A port number, or the Postfix service names a mail next hop uses. */
    private static Optional<Integer> port(String text) {
        switch (text) {
            case "smtp" -> {
                return Optional.of(25);
            }
            case "submission" -> {
                return Optional.of(587);
            }
            case "smtps", "submissions" -> {
                return Optional.of(465);
            }
            default -> {
                if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    return Optional.empty();
                }
                int port = Integer.parseInt(text);
                return port >= 1 && port <= 65535 ? Optional.of(port) : Optional.empty();
            }
        }
    }

    private static boolean isAddressLiteral(String name) {
        // IPv4 literals are all digits and dots; IPv6 ones contain ':' and were refused as names already.
        return name.chars().allMatch(c -> c >= '0' && c <= '9' || c == '.');
    }

    private static Optional<String> domainName(String text) {
        String name = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
        if (name.isEmpty() || name.length() > MAX_NAME) {
            return Optional.empty();
        }
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return Optional.empty();
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                    return Optional.empty();
                }
            }
        }
        return Optional.of(name);
    }
}
