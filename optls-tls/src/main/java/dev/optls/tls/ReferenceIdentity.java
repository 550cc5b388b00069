package dev.optls.tls;

import dev.optls.tls.internal.IpLiterals;
import dev.optls.tls.internal.NameMatcher;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SNIHostName;

/**
 * The name a client expects in the server's certificate (RFC 9525 §3 "reference identity"): the host
 * name it was configured with, or an IP address. For the mail protocols RFC 7817 §3 applies: the
 * reference identity is the host name used to open the connection (after any CNAME, but never a name
 * learned from insecure DNS such as an MX target when the policy is not DANE/MTA-STS).
 */
public final class ReferenceIdentity {
    private final String value;
    private final byte[] address;
    private final String srvService;

    private ReferenceIdentity(String value, byte[] address) {
        this(value, address, null);
    }

    private ReferenceIdentity(String value, byte[] address, String srvService) {
        this.value = value;
        this.address = address;
        this.srvService = srvService;
    }

    /**
     * An XMPP domain (RFC 6120 §13.7.1.2): matched against DNS-IDs, SRV-IDs {@code _xmpp-client.<domain>}
     * (or {@code _xmpp-server.<domain>} for server-to-server) and XmppAddr identifiers that are the bare
     * domain. An IP literal stays an IP reference identity.
     *
     * @param domain the domainpart of the JID, normalised as a DNS name
     * @param serverToServer whether the SRV-ID service is {@code xmpp-server} rather than {@code xmpp-client}
     */
    public static ReferenceIdentity xmpp(String domain, boolean serverToServer) {
        ReferenceIdentity plain = of(domain);
        if (plain.isIpAddress()) {
            return plain;
        }
        return new ReferenceIdentity(plain.value, null, serverToServer ? "xmpp-server" : "xmpp-client");
    }

    /**
     * The reference identity for {@code host} as {@code protocol} defines it: {@link #xmpp} for XMPP (c2s and
     * s2s), {@link #of} for everything else (RFC 7817 §3 for the mail protocols).
     */
    public static ReferenceIdentity forProtocol(dev.optls.core.Protocol protocol, String host) {
        return switch (protocol) {
            case XMPP -> xmpp(host, false);
            case XMPP_SERVER -> xmpp(host, true);
            default -> of(host);
        };
    }

    /**
     * For reports: an otherName subjectAltName (the {@code byte[]} that {@link
     * X509Certificate#getSubjectAlternativeNames()} gives for type 0) as {@code SRV:_xmpp-client.example},
     * {@code XmppAddr:example} or {@code otherName:<oid>}; empty when it does not decode.
     */
    public static Optional<String> describeOtherName(byte[] der) {
        return NameMatcher.describeOtherName(der.clone());
    }

    /** The SRV-ID service this identity also accepts ({@code xmpp-client}, {@code xmpp-server}), if any. */
    public Optional<String> srvService() {
        return Optional.ofNullable(srvService);
    }

    /**
     * A DNS name or an IP literal ({@code 192.0.2.1}, {@code 2001:db8::1}, {@code [2001:db8::1]}). DNS names
     * are normalised: IDNs to A-labels, lower case, trailing dot removed.
     *
     * @throws IllegalArgumentException if {@code host} is empty or not a valid name
     */
    public static ReferenceIdentity of(String host) {
        Objects.requireNonNull(host, "host");
        Optional<byte[]> ip = IpLiterals.parse(host);
        if (ip.isPresent()) {
            String literal = host.strip();
            if (literal.startsWith("[")) {
                literal = literal.substring(1, literal.length() - 1);
            }
            return new ReferenceIdentity(literal, ip.get());
        }
        String normalised;
        try {
            normalised = NameMatcher.normaliseDnsName(host);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a valid host name: '" + host + "' (" + e.getMessage() + ")", e);
        }
        if (normalised.isEmpty() || normalised.contains("..") || normalised.startsWith(".")) {
            throw new IllegalArgumentException("not a valid host name: '" + host + "'");
        }
        return new ReferenceIdentity(normalised, null);
    }

    /**
     * Whether {@code host} may be sent in the TLS server_name extension: a DNS host name, never an IP
     * literal (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName").
     */
    public static boolean isValidSniHostName(String host) {
        if (host == null || IpLiterals.parse(host).isPresent()) {
            return false;
        }
        String ascii;
        try {
            ascii = NameMatcher.normaliseDnsName(host);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (ascii.isEmpty() || ascii.length() > 253) {
            return false;
        }
        String[] labels = ascii.split("\\.", -1);
        for (String label : labels) {
            if (label.isEmpty()
                    || label.length() > 63
                    || label.startsWith("-")
                    || label.endsWith("-")
                    || !label.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                return false;
            }
        }
        // RFC 3696 §2: a top-level label is never all-numeric, so "1.2.3.999" is not a host name either.
        if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
            return false;
        }
        try {
            new SNIHostName(ascii);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether this is an IP address rather than a DNS name. */
    public boolean isIpAddress() {
        return address != null;
    }

    /** The normalised name (A-labels, lower case, no trailing dot) or the IP literal as given. */
    public String value() {
        return value;
    }

    /** The name to send as SNI: the DNS name when it is a valid host name; empty for IP addresses. */
    public Optional<String> sniHostName() {
        return !isIpAddress() && isValidSniHostName(value) ? Optional.of(value) : Optional.empty();
    }

    /** Whether the certificate presents this identity. */
    public boolean matches(X509Certificate certificate) {
        return mismatch(certificate).isEmpty();
    }

    /** Empty if the certificate presents this identity, otherwise a sentence saying why it does not. */
    public Optional<String> mismatch(X509Certificate certificate) {
        if (isIpAddress()) {
            return NameMatcher.checkIpAddress(value, address.clone(), certificate);
        }
        return srvService != null
                ? NameMatcher.checkXmppDomain(value, srvService, certificate)
                : NameMatcher.checkDnsName(value, certificate);
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof ReferenceIdentity that)) {
            return false;
        }
        return isIpAddress()
                ? that.isIpAddress() && java.util.Arrays.equals(address, that.address)
                : !that.isIpAddress()
                        && value.equals(that.value)
                        && java.util.Objects.equals(srvService, that.srvService);
    }

    @Override
    public int hashCode() {
        return isIpAddress() ? java.util.Arrays.hashCode(address) : java.util.Objects.hash(value, srvService);
    }

    @Override
    public String toString() {
        return value;
    }
}
