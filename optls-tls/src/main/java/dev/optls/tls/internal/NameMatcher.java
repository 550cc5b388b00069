package dev.optls.tls.internal;

import java.net.IDN;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Matches a reference identity against the identifiers a certificate presents, per RFC 9525 (which
 * obsoletes RFC 6125) and RFC 7817 §3 for the mail protocols.
 */
public final class NameMatcher {
    private static final int SAN_OTHER_NAME = 0;
    private static final int SAN_DNS = 2;
    private static final int SAN_IP = 7;

    /** RFC 4985 id-on-dnsSRV: an SRV-ID ({@code _service.domain}) as IA5String. */
    public static final String ID_ON_DNS_SRV = "1.3.6.1.5.5.7.8.7";

    /** RFC 6120 §13.7.1.4 id-on-xmppAddr: a JID as UTF8String. */
    public static final String ID_ON_XMPP_ADDR = "1.3.6.1.5.5.7.8.5";

    private NameMatcher() {}

    /**
     * Normalises a DNS name for comparison: U-labels to A-labels (java.net.IDN), lower case, without
     * the trailing dot.
     *
     * @throws IllegalArgumentException if the name cannot be converted to A-labels
     */
    public static String normaliseDnsName(String name) {
        String s = name.strip();
        // RFC 9525 §6.3: a trailing dot (absolute name) is not significant for the comparison.
        if (s.endsWith(".")) {
            s = s.substring(0, s.length() - 1);
        }
        // RFC 9525 §6.3: U-labels are converted to A-labels before comparing; comparison is case-insensitive.
        return IDN.toASCII(s).toLowerCase(Locale.ROOT);
    }

    /** Empty if {@code dnsName} (normalised) matches the certificate, else why not. */
    public static Optional<String> checkDnsName(String dnsName, X509Certificate certificate) {
        List<String> dnsIds = subjectAltNames(certificate, SAN_DNS);
        if (!dnsIds.isEmpty()) {
            for (String presented : dnsIds) {
                if (dnsIdMatches(dnsName, presented)) {
                    return Optional.empty();
                }
            }
            return Optional.of("name " + dnsName + " does not match the certificate's DNS names " + dnsIds);
        }
        // RFC 7817 §3 / RFC 6125 §6.4.4: the CN-ID is used only when the certificate has no DNS-ID.
        // (RFC 9525 drops CN-IDs altogether; mail servers still present CN-only certificates.)
        List<String> commonNames = commonNames(certificate);
        for (String cn : commonNames) {
            if (dnsIdMatches(dnsName, cn)) {
                return Optional.empty();
            }
        }
        return Optional.of("name " + dnsName + " does not match: the certificate has no DNS names"
                + (commonNames.isEmpty() ? " and no subject CN" : " and its subject CN " + commonNames + " differs"));
    }

    /**
     * Empty if the XMPP domain matches the certificate, else why not. RFC 6120 §13.7.1.2 (with RFC 6125 /
     * RFC 9525): the presented identifiers are DNS-IDs (wildcards as for any DNS-ID), SRV-IDs for {@code
     * _<service>.<domain>} (RFC 4985; {@code _xmpp-client} for c2s, {@code _xmpp-server} for s2s; no
     * wildcard) and XmppAddrs that are exactly the domain (RFC 6120 §13.7.1.4; a JID with a localpart or
     * resource names a client, not the service). The CN-ID counts only when the certificate has none of
     * them (RFC 6125 §6.4.4).
     *
     * @param domain the normalised domain
     * @param service {@code xmpp-client} or {@code xmpp-server}
     */
    public static Optional<String> checkXmppDomain(String domain, String service, X509Certificate certificate) {
        List<String> dnsIds = subjectAltNames(certificate, SAN_DNS);
        List<String> srvIds = otherNames(certificate, ID_ON_DNS_SRV);
        List<String> xmppAddrs = otherNames(certificate, ID_ON_XMPP_ADDR);
        if (dnsIds.isEmpty() && srvIds.isEmpty() && xmppAddrs.isEmpty()) {
            return checkDnsName(domain, certificate);
        }
        for (String presented : dnsIds) {
            if (dnsIdMatches(domain, presented)) {
                return Optional.empty();
            }
        }
        String label = "_" + service + ".";
        for (String presented : srvIds) {
            // RFC 4985 §2 / RFC 6125 §6.5.1: the service label matches exactly (case-insensitively), the rest
            // as a DNS name; wildcards are not accepted in an SRV-ID here.
            if (presented.regionMatches(true, 0, label, 0, label.length())
                    && presented.indexOf('*') < 0
                    && sameDnsName(domain, presented.substring(label.length()))) {
                return Optional.empty();
            }
        }
        for (String presented : xmppAddrs) {
            if (presented.indexOf('@') < 0
                    && presented.indexOf('/') < 0
                    && presented.indexOf('*') < 0
                    && sameDnsName(domain, presented)) {
                return Optional.empty();
            }
        }
        List<String> all = new ArrayList<>();
        dnsIds.forEach(d -> all.add("DNS:" + d));
        srvIds.forEach(d -> all.add("SRV:" + d));
        xmppAddrs.forEach(d -> all.add("XmppAddr:" + d));
        return Optional.of("XMPP domain " + domain + " (" + label + domain + ") does not match the certificate's"
                + " identifiers " + all);
    }

    private static boolean sameDnsName(String reference, String presented) {
        try {
            String p = normaliseDnsName(presented);
            return !p.isEmpty() && p.equals(reference);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The string values of the otherName subjectAltNames with this type-id (RFC 5280 §4.2.1.6). */
    static List<String> otherNames(X509Certificate certificate, String oid) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of();
        }
        List<String> result = new ArrayList<>();
        if (names == null) {
            return result;
        }
        for (List<?> entry : names) {
            if (entry.size() >= 2
                    && entry.get(0) instanceof Integer t
                    && t == SAN_OTHER_NAME
                    && entry.get(1) instanceof byte[] der) {
                otherNameValue(der, oid).ifPresent(result::add);
            }
        }
        return result;
    }

    /**
     * A report label for an otherName subjectAltName as the JDK returns it: {@code SRV:_xmpp-client.example},
     * {@code XmppAddr:example}, or {@code otherName:<oid>} for other types; empty when it does not decode.
     */
    public static Optional<String> describeOtherName(byte[] der) {
        Optional<String> srv = otherNameValue(der, ID_ON_DNS_SRV);
        if (srv.isPresent()) {
            return srv.map(v -> "SRV:" + v);
        }
        Optional<String> xmpp = otherNameValue(der, ID_ON_XMPP_ADDR);
        if (xmpp.isPresent()) {
            return xmpp.map(v -> "XmppAddr:" + v);
        }
        try {
            org.bouncycastle.asn1.ASN1Primitive p = org.bouncycastle.asn1.ASN1Primitive.fromByteArray(der);
            if (p instanceof org.bouncycastle.asn1.ASN1TaggedObject tagged) {
                p = tagged.getBaseObject().toASN1Primitive();
            }
            return Optional.of("otherName:"
                    + org.bouncycastle.asn1.x509.OtherName.getInstance(p)
                            .getTypeID()
                            .getId());
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Decodes {@code OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }} (the JDK hands it
     * over as DER, sometimes still wrapped in the GeneralName's {@code [0]} tag) with Bouncy Castle; the
     * value must be a string type. Anything else is ignored, never trusted.
     */
    private static Optional<String> otherNameValue(byte[] der, String oid) {
        try {
            org.bouncycastle.asn1.ASN1Primitive p = org.bouncycastle.asn1.ASN1Primitive.fromByteArray(der);
            if (p instanceof org.bouncycastle.asn1.ASN1TaggedObject tagged) {
                p = tagged.getBaseObject().toASN1Primitive();
            }
            org.bouncycastle.asn1.x509.OtherName name = org.bouncycastle.asn1.x509.OtherName.getInstance(p);
            if (!name.getTypeID().getId().equals(oid)) {
                return Optional.empty();
            }
            org.bouncycastle.asn1.ASN1Encodable value = name.getValue();
            if (value instanceof org.bouncycastle.asn1.ASN1TaggedObject inner) {
                value = inner.getBaseObject();
            }
            return value instanceof org.bouncycastle.asn1.ASN1String str
                    ? Optional.of(str.getString())
                    : Optional.empty();
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Empty if the address matches an iPAddress subjectAltName, else why not. */
    public static Optional<String> checkIpAddress(String literal, byte[] address, X509Certificate certificate) {
        // RFC 9525 §6.4.1 (RFC 6125 §6.2): an IP reference identity matches only iPAddress SANs, never a
        // dNSName or the CN.
        List<String> ipIds = subjectAltNames(certificate, SAN_IP);
        for (String presented : ipIds) {
            Optional<byte[]> bytes = IpLiterals.parse(presented);
            if (bytes.isPresent() && Arrays.equals(bytes.get(), address)) {
                return Optional.empty();
            }
        }
        return Optional.of("address " + literal + " does not match the certificate's IP addresses " + ipIds);
    }

    /**
     * One presented DNS-ID against a normalised reference: exact (case-insensitive) or a wildcard that is
     * the complete left-most label and matches exactly one label.
     */
    static boolean dnsIdMatches(String reference, String presentedRaw) {
        String presented;
        try {
            presented = normaliseDnsName(presentedRaw);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (presented.isEmpty() || reference.isEmpty()) {
            return false;
        }
        if (presented.indexOf('*') < 0) {
            return presented.equals(reference);
        }
        // RFC 9525 §6.3: the wildcard "*" must be the complete left-most label; no partial wildcards
        // ("f*o.example.com"), no wildcard in other labels, and it matches exactly one label.
        if (!presented.startsWith("*.")) {
            return false;
        }
        String rest = presented.substring(2);
        // A wildcard directly under a top-level label ("*.com") is never accepted.
        if (rest.indexOf('*') >= 0 || rest.indexOf('.') < 0) {
            return false;
        }
        int dot = reference.indexOf('.');
        return dot > 0 && reference.substring(dot + 1).equals(rest);
    }

    private static List<String> subjectAltNames(X509Certificate certificate, int type) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of();
        }
        List<String> result = new ArrayList<>();
        if (names != null) {
            for (List<?> entry : names) {
                if (entry.size() >= 2
                        && entry.get(0) instanceof Integer t
                        && t == type
                        && entry.get(1) instanceof String value) {
                    result.add(value);
                }
            }
        }
        return result;
    }

    private static List<String> commonNames(X509Certificate certificate) {
        List<String> result = new ArrayList<>();
        try {
            LdapName name = new LdapName(certificate.getSubjectX500Principal().getName());
            for (Rdn rdn : name.getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN") && rdn.getValue() instanceof String value) {
                    result.add(value);
                }
            }
        } catch (InvalidNameException e) {
            return List.of();
        }
        return result;
    }
}
