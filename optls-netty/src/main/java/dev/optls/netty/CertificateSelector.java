package dev.optls.netty;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Picks the server certificate for a ClientHello's SNI host name (RFC 6066 §3): an exact DNS name of a
 * certificate first, then a certificate whose left-most wildcard label covers it (RFC 9525 §6.3), else the
 * first certificate (the default, also for clients that send no SNI).
 */
public final class CertificateSelector {
    private static final int SAN_DNS = 2;

    private record Entry(String name, ServerEngines engines) {}

    private final ServerEngines fallback;
    private final List<Entry> exact;
    private final List<Entry> wildcard;

    private CertificateSelector(ServerEngines fallback, List<Entry> exact, List<Entry> wildcard) {
        this.fallback = fallback;
        this.exact = List.copyOf(exact);
        this.wildcard = List.copyOf(wildcard);
    }

    /** One certificate for every client. */
    public static CertificateSelector single(ServerEngines engines) {
        return of(List.of(engines));
    }

    /**
     * Several certificates, chosen by the DNS names of each leaf; a leaf without DNS names is only used as
     * the default.
     *
     * @param certificates at least one; the first is the default
     */
    public static CertificateSelector of(List<ServerEngines> certificates) {
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("at least one certificate is needed");
        }
        List<Entry> exact = new ArrayList<>();
        List<Entry> wildcard = new ArrayList<>();
        for (ServerEngines engines : certificates) {
            for (String n : dnsNames(engines)) {
                if (n.startsWith("*.")) {
                    wildcard.add(new Entry(n.substring(1), engines));
                } else {
                    exact.add(new Entry(n, engines));
                }
            }
        }
        return new CertificateSelector(certificates.get(0), exact, wildcard);
    }

    /** The engines for {@code serverName} (already lower-cased by {@code ClientHelloInfo}). */
    public ServerEngines select(Optional<String> serverName) {
        if (serverName.isEmpty()) {
            return fallback;
        }
        String name = serverName.get().toLowerCase(Locale.ROOT);
        for (Entry e : exact) {
            if (e.name().equals(name)) {
                return e.engines();
            }
        }
        int dot = name.indexOf('.');
        if (dot > 0) {
            String suffix = name.substring(dot);
            for (Entry e : wildcard) {
                if (e.name().equals(suffix)) {
                    return e.engines();
                }
            }
        }
        return fallback;
    }

    /** The default certificate's engines. */
    public ServerEngines fallback() {
        return fallback;
    }

    /** The SAN dNSNames of {@code engines}' leaf certificate, lower-cased: the names SNI selects by. */
    public static List<String> dnsNames(ServerEngines engines) {
        X509Certificate leaf = engines.chain().get(0);
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Objects.equals(san.get(0), SAN_DNS)) {
                        names.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return List.of();
        }
        return names;
    }
}
