package dev.optls.policy.dane;

import dev.optls.tls.ReferenceIdentity;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Matches a server certificate chain against TLSA records for SMTP (RFC 7672 §3.1, RFC 7671 §5). Pure: no I/O,
 * the time is passed in.
 *
 * <ul>
 *   <li>DANE-EE(3): the leaf certificate or its key matches; no name check, no expiry check, no chain (RFC 7672
 *       §3.1.1).
 *   <li>DANE-TA(2): a certificate the server sent above the leaf matches, or the record carries the full trust
 *       anchor key or certificate (RFC 7671 §5.2.2); the chain from the leaf up to it must verify, every
 *       certificate in it must be within its validity period, and the leaf must match one of the reference names
 *       (RFC 7672 §3.2.2: TLSA base domain, MX host name, next-hop domain).
 * </ul>
 */
public final class DaneVerifier {

    /** The most certificates of a chain examined; longer chains are refused rather than walked. */
    public static final int MAX_CHAIN_LENGTH = 16;

    /** The most TLSA records examined; more is unusual enough to refuse. */
    public static final int MAX_RECORDS = 64;

    private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "Ed25519", "Ed448", "DSA"};

    private DaneVerifier() {}

    /**
     * Verifies {@code chain} (leaf first, as the server sent it) against {@code records}.
     *
     * @param records the TLSA RRset (unusable records are skipped)
     * @param chain the server's certificate chain, leaf first
     * @param referenceNames names the leaf may present for DANE-TA (A-labels)
     * @param now the time against which DANE-TA chains are checked
     */
    public static DaneVerification verify(
            Collection<TlsaRecord> records, List<X509Certificate> chain, List<String> referenceNames, Instant now) {
        List<String> reasons = new ArrayList<>();
        if (chain.isEmpty()) {
            return new DaneVerification.NotAuthenticated(List.of("the server sent no certificate"));
        }
        if (chain.size() > MAX_CHAIN_LENGTH) {
            return new DaneVerification.NotAuthenticated(
                    List.of("the server sent " + chain.size() + " certificates, more than " + MAX_CHAIN_LENGTH));
        }
        if (records.size() > MAX_RECORDS) {
            return new DaneVerification.NotAuthenticated(
                    List.of("the TLSA RRset has " + records.size() + " records, more than " + MAX_RECORDS));
        }
        List<TlsaRecord> candidates = strongestDigests(records);
        if (candidates.isEmpty()) {
            return new DaneVerification.NotAuthenticated(List.of("no usable TLSA record"));
        }
        for (TlsaRecord record : candidates) {
            TlsaUsage usage = record.usage().orElseThrow();
            Optional<DaneVerification.Authenticated> match = usage == TlsaUsage.DANE_EE
                    ? matchEndEntity(record, chain.get(0), reasons)
                    : matchTrustAnchor(record, chain, referenceNames, now, reasons);
            if (match.isPresent()) {
                return match.get();
            }
        }
        return new DaneVerification.NotAuthenticated(reasons);
    }

    /**
     * The usable records, with RFC 7671 §9 digest algorithm agility: for each (usage, selector), only the strongest
     * digest present (SHA2-512 over SHA2-256) is used, so that a weaker digest cannot be the one that matches.
     * Full(0) records are not digests and are always used.
     */
    static List<TlsaRecord> strongestDigests(Collection<TlsaRecord> records) {
        Map<TlsaUsage, Map<TlsaSelector, TlsaMatchingType>> strongest = new EnumMap<>(TlsaUsage.class);
        for (TlsaRecord record : records) {
            if (!record.isUsable()) {
                continue;
            }
            TlsaMatchingType type = record.matchingType().orElseThrow();
            if (type == TlsaMatchingType.FULL) {
                continue;
            }
            strongest
                    .computeIfAbsent(record.usage().orElseThrow(), u -> new EnumMap<>(TlsaSelector.class))
                    .merge(record.selector().orElseThrow(), type, (a, b) -> a.code() >= b.code() ? a : b);
        }
        List<TlsaRecord> kept = new ArrayList<>();
        for (TlsaRecord record : records) {
            if (!record.isUsable()) {
                continue;
            }
            TlsaMatchingType type = record.matchingType().orElseThrow();
            if (type == TlsaMatchingType.FULL
                    || strongest
                                    .get(record.usage().orElseThrow())
                                    .get(record.selector().orElseThrow())
                            == type) {
                kept.add(record);
            }
        }
        return kept;
    }

    private static Optional<DaneVerification.Authenticated> matchEndEntity(
            TlsaRecord record, X509Certificate leaf, List<String> reasons) {
        // RFC 7672 §3.1.1: DANE-EE(3) — the key or certificate is all that is checked; names and dates are not.
        if (matches(record, leaf)) {
            return Optional.of(
                    new DaneVerification.Authenticated(record, 0, "DANE-EE: the server certificate matches " + record));
        }
        reasons.add("DANE-EE record " + record + " does not match the server certificate");
        return Optional.empty();
    }

    private static Optional<DaneVerification.Authenticated> matchTrustAnchor(
            TlsaRecord record,
            List<X509Certificate> chain,
            List<String> referenceNames,
            Instant now,
            List<String> reasons) {
        // RFC 7671 §5.2.2: the trust anchor is a certificate the server sent above the leaf ...
        for (int i = 1; i < chain.size(); i++) {
            if (matches(record, chain.get(i))) {
                Optional<String> problem = checkPath(chain, i, null, referenceNames, now);
                if (problem.isEmpty()) {
                    return Optional.of(new DaneVerification.Authenticated(
                            record, i, "DANE-TA: chain certificate " + i + " matches " + record));
                }
                reasons.add("DANE-TA record " + record + " matches chain certificate " + i + " but " + problem.get());
                return Optional.empty();
            }
        }
        // ... or, with Full(0), the record itself carries the trust anchor's key or certificate.
        if (record.matchingType().orElseThrow() == TlsaMatchingType.FULL) {
            Optional<PublicKey> anchorKey = fullAnchorKey(record);
            if (anchorKey.isPresent()) {
                Optional<String> problem = checkPath(chain, chain.size() - 1, anchorKey.get(), referenceNames, now);
                if (problem.isEmpty()) {
                    return Optional.of(new DaneVerification.Authenticated(
                            record, -1, "DANE-TA: the chain is signed by the key in " + record));
                }
                reasons.add("DANE-TA record " + record + " carries a key, but " + problem.get());
                return Optional.empty();
            }
        }
        reasons.add("DANE-TA record " + record + " matches no certificate above the server certificate");
        return Optional.empty();
    }

    /**
     * Checks the path from the leaf up to chain index {@code top}: each certificate signed by the next (which must
     * be a CA), or {@code top} signed by {@code anchorKey} when given; all within their validity period; the leaf
     * matching a reference name. Empty when all is well.
     */
    private static Optional<String> checkPath(
            List<X509Certificate> chain, int top, PublicKey anchorKey, List<String> referenceNames, Instant now) {
        Date date = Date.from(now);
        for (int i = 0; i <= top; i++) {
            X509Certificate cert = chain.get(i);
            try {
                cert.checkValidity(date);
            } catch (CertificateException e) {
                return Optional.of("chain certificate " + i + " ("
                        + cert.getSubjectX500Principal().getName() + ") is not valid at " + now);
            }
            PublicKey issuerKey;
            if (i < top) {
                X509Certificate issuer = chain.get(i + 1);
                if (issuer.getBasicConstraints() < 0) {
                    return Optional.of("chain certificate " + (i + 1) + " is not a CA certificate");
                }
                if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
                    return Optional.of("chain certificate " + i + " was not issued by certificate " + (i + 1));
                }
                issuerKey = issuer.getPublicKey();
            } else if (anchorKey != null) {
                issuerKey = anchorKey;
            } else {
                break;
            }
            try {
                cert.verify(issuerKey);
            } catch (GeneralSecurityException e) {
                return Optional.of("the signature on chain certificate " + i + " does not verify");
            }
        }
        // RFC 7672 §3.2.2: with DANE-TA the server certificate must match a reference identifier.
        X509Certificate leaf = chain.get(0);
        for (String name : referenceNames) {
            try {
                if (ReferenceIdentity.of(name).matches(leaf)) {
                    return Optional.empty();
                }
            } catch (IllegalArgumentException e) {
                // Not a host name: cannot match.
            }
        }
        return Optional.of("the server certificate matches none of the names " + referenceNames);
    }

    private static Optional<PublicKey> fullAnchorKey(TlsaRecord record) {
        byte[] data = record.data();
        if (record.selector().orElseThrow() == TlsaSelector.CERT) {
            try {
                return Optional.of(CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(data))
                        .getPublicKey());
            } catch (CertificateException e) {
                return Optional.empty();
            }
        }
        X509EncodedKeySpec spec = new X509EncodedKeySpec(data);
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return Optional.of(KeyFactory.getInstance(algorithm).generatePublic(spec));
            } catch (GeneralSecurityException | RuntimeException e) {
                // Try the next algorithm.
            }
        }
        return Optional.empty();
    }

    /** Whether the record's selected content of {@code cert}, after its matching type, equals the record data. */
    static boolean matches(TlsaRecord record, X509Certificate cert) {
        byte[] selected;
        try {
            selected = record.selector().orElseThrow() == TlsaSelector.CERT
                    ? cert.getEncoded()
                    : cert.getPublicKey().getEncoded();
        } catch (CertificateException e) {
            return false;
        }
        TlsaMatchingType type = record.matchingType().orElseThrow();
        if (type == TlsaMatchingType.FULL) {
            return record.dataEquals(selected);
        }
        return record.dataEquals(digest(type, selected));
    }

    private static byte[] digest(TlsaMatchingType type, byte[] content) {
        try {
            return MessageDigest.getInstance(type.algorithm().orElseThrow()).digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + type.algorithm().orElseThrow(), e);
        }
    }
}
