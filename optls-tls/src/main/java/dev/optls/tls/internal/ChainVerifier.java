package dev.optls.tls.internal;

import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.Verification;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Computes a {@link Verification}: the verdict on the chain comes from the JDK's PKIX trust manager (the
 * same checks, algorithm constraints included, as any JSSE client); the reason is worked out here so that
 * a person can act on it.
 */
public final class ChainVerifier {
    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC);

    private final X509ExtendedTrustManager pkix;

    /** A verifier over a PKIX trust manager that does not check names itself. */
    public ChainVerifier(X509ExtendedTrustManager pkix) {
        this.pkix = pkix;
    }

    /** Runs the PKIX check of a chain; throws if the chain is not trusted. */
    @FunctionalInterface
    public interface PkixCheck {
        /** Checks the chain. */
        void check(X509ExtendedTrustManager pkix) throws CertificateException;
    }

    /** Verifies a server chain (leaf first) outside a handshake. */
    public Verification verify(X509Certificate[] chain, ReferenceIdentity identity) {
        // "UNKNOWN" is the key-exchange name JSSE itself passes for TLS 1.3 (signature-based) servers.
        return verify(chain, identity, tm -> tm.checkServerTrusted(chain, "UNKNOWN"));
    }

    /** Verifies a server chain (leaf first) with the given PKIX check (socket or engine flavour). */
    public Verification verify(X509Certificate[] chain, ReferenceIdentity identity, PkixCheck check) {
        if (chain == null || chain.length == 0) {
            return new Verification(false, false, "the server presented no certificate");
        }
        Optional<String> chainProblem;
        try {
            check.check(pkix);
            chainProblem = Optional.empty();
        } catch (CertificateException | RuntimeException e) {
            chainProblem = Optional.of(diagnose(chain, e, Instant.now()));
        }
        Optional<String> nameProblem = identity.mismatch(chain[0]);
        List<String> problems = new ArrayList<>();
        chainProblem.ifPresent(problems::add);
        nameProblem.ifPresent(problems::add);
        String reason = problems.isEmpty()
                ? "certificate chain valid and " + (identity.isIpAddress() ? "address " : "name ") + identity
                        + " matches"
                : String.join("; ", problems);
        return new Verification(chainProblem.isEmpty(), nameProblem.isEmpty(), reason);
    }

    private String diagnose(X509Certificate[] chain, Exception failure, Instant now) {
        for (int i = 0; i < chain.length; i++) {
            X509Certificate cert = chain[i];
            String which = i == 0 ? "certificate" : "issuing certificate " + subject(cert);
            if (now.isAfter(cert.getNotAfter().toInstant())) {
                return which + " expired on " + DAY.format(cert.getNotAfter().toInstant())
                        + (i == 0 ? " (" + subject(cert) + ")" : "");
            }
            if (now.isBefore(cert.getNotBefore().toInstant())) {
                return which + " is not valid before "
                        + DAY.format(cert.getNotBefore().toInstant()) + (i == 0 ? " (" + subject(cert) + ")" : "")
                        + "; check the clocks";
            }
        }
        X509Certificate[] anchors = pkix.getAcceptedIssuers();
        X509Certificate top = chain[chain.length - 1];
        boolean anchored = false;
        for (X509Certificate cert : chain) {
            anchored |= isAnchor(cert, anchors) || issuedByAnchor(cert, anchors);
        }
        if (!anchored) {
            if (chain.length == 1 && selfSigned(top)) {
                return "self-signed certificate " + subject(top) + " is not trusted";
            }
            if (selfSigned(top)) {
                return "root " + subject(top) + " is not trusted";
            }
            return "issuer not trusted: " + top.getIssuerX500Principal().getName();
        }
        return "certificate chain rejected: " + rootMessage(failure);
    }

    private static boolean isAnchor(X509Certificate cert, X509Certificate[] anchors) {
        for (X509Certificate anchor : anchors) {
            if (anchor.equals(cert)) {
                return true;
            }
        }
        return false;
    }

    private static boolean issuedByAnchor(X509Certificate cert, X509Certificate[] anchors) {
        for (X509Certificate anchor : anchors) {
            if (anchor.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
                try {
                    cert.verify(anchor.getPublicKey());
                    return true;
                } catch (GeneralSecurityException | RuntimeException e) {
                    // same name, different key: keep looking
                }
            }
        }
        return false;
    }

    private static boolean selfSigned(X509Certificate cert) {
        if (!cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
            return false;
        }
        try {
            cert.verify(cert.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static String subject(X509Certificate cert) {
        return cert.getSubjectX500Principal().getName();
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }
}
