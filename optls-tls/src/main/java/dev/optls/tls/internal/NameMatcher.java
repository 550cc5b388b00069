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
    private static final int SAN_DNS = 2;
    private static final int SAN_IP = 7;

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
