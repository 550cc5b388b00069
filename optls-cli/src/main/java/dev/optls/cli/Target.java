package dev.optls.cli;

import dev.optls.core.Protocol;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A probe target from a URI such as {@code smtp://mx.example.org:25} or {@code imaps://[::1]:993}.
 *
 * @param uri the target as given
 * @param protocol the protocol the scheme names
 * @param implicitTls whether the scheme names the implicit-TLS service
 * @param host the host name or IP literal (without brackets)
 * @param port the port, defaulted from the scheme
 */
public record Target(String uri, Protocol protocol, boolean implicitTls, String host, int port) {

    /** Parses a target URI; the message of the exception says what to write instead. */
    public static Target parse(String text) {
        URI uri;
        try {
            uri = new URI(text.contains("://") ? text : "invalid://" + text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: " + text + " (" + e.getReason()
                    + "): write scheme://host[:port], e.g. smtp://mx.example.org:25 or imaps://[::1]:993");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        Protocol protocol = Protocol.forScheme(scheme)
                .orElseThrow(() -> new IllegalArgumentException("unknown scheme in '" + text + "': use one of "
                        + String.join(", ", schemes()) + ", e.g. smtp://mx.example.org:25"));
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("no host in '" + text + "': write " + scheme + "://host[:port]");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        boolean implicit = Protocol.isImplicitScheme(scheme);
        int port = uri.getPort() >= 0
                ? uri.getPort()
                : implicit ? protocol.implicitPort().orElseThrow() : protocol.defaultPort();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range in '" + text + "': use 1 to 65535");
        }
        if ((uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/"))
                || uri.getQuery() != null
                || uri.getUserInfo() != null) {
            throw new IllegalArgumentException(
                    "only scheme://host[:port] is supported, without user, path or query: " + text);
        }
        return new Target(text, protocol, implicit, host, port);
    }

    /** Every scheme {@link #parse} accepts, plaintext ones first. */
    static java.util.List<String> schemes() {
        java.util.List<String> all = new java.util.ArrayList<>();
        for (Protocol p : Protocol.values()) {
            all.add(p.scheme());
        }
        all.add("smtps");
        for (Protocol p : Protocol.values()) {
            p.implicitScheme().ifPresent(all::add);
        }
        return all;
    }

    /** The scheme as a protocol label: {@code smtp}, {@code imaps}... */
    public String scheme() {
        return implicitTls ? protocol.implicitScheme().orElse(protocol.scheme() + "s") : protocol.scheme();
    }
}
