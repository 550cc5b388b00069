package dev.optls.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.OtherName;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority made in memory, for tests and demos. Never use it for anything
 * real: the keys live in memory and the CA trusts whatever its caller asks for.
 *
 * <pre>{@code
 * TestPki pki = TestPki.create();
 * Credential server = pki.issue("mail.example");
 * Credential expired = pki.leaf("mail.example").expired().issue();
 * SSLContext client = pki.clientContext();   // trusts exactly this CA
 * }</pre>
 *
 * <p>An instance is either the root CA or an intermediate made with {@link #intermediate(String)}; both
 * share the same trust anchor, the root's certificate ({@link #caCertificate()}).
 */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration LEAF_LIFETIME = Duration.ofDays(30);

    private final X509Certificate root;
    private final X509Certificate issuerCertificate;
    private final PrivateKey issuerKey;
    /** The issuing chain below the root: this issuer first, then its issuers (empty for the root). */
    private final List<X509Certificate> intermediates;

    private TestPki(
            X509Certificate root,
            X509Certificate issuerCertificate,
            PrivateKey issuerKey,
            List<X509Certificate> intermediates) {
        this.root = root;
        this.issuerCertificate = issuerCertificate;
        this.issuerKey = issuerKey;
        this.intermediates = List.copyOf(intermediates);
    }

    /** A new root CA named {@code CN=optls Test CA} with an EC P-256 key. */
    public static TestPki create() {
        return create("optls Test CA", KeyType.EC_P256);
    }

    /** A new root CA with the given common name and key type. */
    public static TestPki create(String commonName, KeyType keyType) {
        Objects.requireNonNull(commonName, "commonName");
        KeyPair keys = keyType.generate();
        Instant now = Instant.now();
        X500Name name = name(commonName);
        X509Certificate certificate = sign(
                name,
                keys.getPrivate(),
                null,
                keys.getPublic(),
                name,
                keys.getPublic(),
                now.minus(Duration.ofHours(1)),
                now.plus(CA_LIFETIME),
                true,
                null);
        return new TestPki(certificate, certificate, keys.getPrivate(), List.of());
    }

    /**
     * A sub-CA signed by this CA. Leaves it issues carry the intermediate certificate(s) in their chain;
     * the trust anchor stays the root.
     */
    public TestPki intermediate(String commonName) {
        KeyPair keys = KeyType.EC_P256.generate();
        Instant now = Instant.now();
        X509Certificate certificate = sign(
                x500(issuerCertificate),
                issuerKey,
                issuerCertificate,
                issuerCertificate.getPublicKey(),
                name(commonName),
                keys.getPublic(),
                now.minus(Duration.ofHours(1)),
                now.plus(CA_LIFETIME),
                true,
                null);
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(certificate);
        chain.addAll(intermediates);
        return new TestPki(root, certificate, keys.getPrivate(), chain);
    }

    /** The root certificate: the one trust anchor of this PKI. */
    public X509Certificate caCertificate() {
        return root;
    }

    /** The certificate that signs leaves issued here (the root, or the intermediate). */
    public X509Certificate issuerCertificate() {
        return issuerCertificate;
    }

    /** The root certificate as PEM text. */
    public String caCertificatePem() {
        return Pem.certificates(List.of(root));
    }

    /** Writes the root certificate as PEM into a file (for {@code --ca}) and returns the file. */
    public Path writeCaPem(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return Files.writeString(file, caCertificatePem(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** A key store (in memory) whose only entry is the root certificate, as a trusted certificate. */
    public KeyStore trustStore() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("optls-test-ca", root);
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a trust store", e);
        }
    }

    /** A PKIX trust manager factory that trusts exactly this PKI's root. */
    public TrustManagerFactory trustManagerFactory() {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(trustStore());
            return tmf;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a trust manager", e);
        }
    }

    /**
     * A client {@link SSLContext} that trusts exactly this PKI's root. Like every JSSE context it does
     * not check host names by itself; set an endpoint identification algorithm for that.
     */
    public SSLContext clientContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagerFactory().getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a client SSLContext", e);
        }
    }

    /** A valid leaf for the given DNS names (EC P-256, valid for 30 days from an hour ago). */
    public Credential issue(String... dnsNames) {
        return leaf(dnsNames).issue();
    }

    /** Starts describing a leaf certificate for the given DNS names (may be none). */
    public Leaf leaf(String... dnsNames) {
        return new Leaf(this, Arrays.asList(dnsNames));
    }

    /** How to make one leaf certificate; {@link #issue()} makes it. */
    public static final class Leaf {
        private final TestPki pki;
        private final List<String> dnsNames;
        private final List<String> ipAddresses = new ArrayList<>();
        private final List<String> srvNames = new ArrayList<>();
        private final List<String> xmppAddrs = new ArrayList<>();
        private String commonName;
        private KeyType keyType = KeyType.EC_P256;
        private Instant notBefore = Instant.now().minus(Duration.ofHours(1));
        private Instant notAfter = notBefore.plus(LEAF_LIFETIME);
        private boolean selfSigned;
        private boolean untrustedCa;

        private Leaf(TestPki pki, List<String> dnsNames) {
            this.pki = pki;
            this.dnsNames = List.copyOf(dnsNames);
        }

        /** Adds iPAddress subjectAltNames (IPv4 or IPv6 literals). */
        public Leaf ipAddresses(String... addresses) {
            ipAddresses.addAll(Arrays.asList(addresses));
            return this;
        }

        /**
         * Adds SRV-ID subjectAltNames (RFC 4985 otherName id-on-dnsSRV, IA5String), e.g. {@code
         * _xmpp-client.im.example}.
         */
        public Leaf srvNames(String... names) {
            srvNames.addAll(Arrays.asList(names));
            return this;
        }

        /** Adds XmppAddr subjectAltNames (RFC 6120 §13.7.1.4 otherName id-on-xmppAddr, UTF8String). */
        public Leaf xmppAddrs(String... jids) {
            xmppAddrs.addAll(Arrays.asList(jids));
            return this;
        }

        /** The subject CN; defaults to the first DNS name, else the first IP address. */
        public Leaf commonName(String name) {
            this.commonName = Objects.requireNonNull(name, "name");
            return this;
        }

        /** The leaf's key type (EC P-256 by default). */
        public Leaf keyType(KeyType type) {
            this.keyType = Objects.requireNonNull(type, "type");
            return this;
        }

        /** Valid from 30 days ago until yesterday. */
        public Leaf expired() {
            Instant now = Instant.now();
            return validity(now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)));
        }

        /** Valid from tomorrow for 30 days. */
        public Leaf notYetValid() {
            Instant now = Instant.now();
            return validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(31)));
        }

        /** Explicit validity period. */
        public Leaf validity(Instant from, Instant until) {
            this.notBefore = Objects.requireNonNull(from, "from");
            this.notAfter = Objects.requireNonNull(until, "until");
            return this;
        }

        /** Signed with its own key instead of the CA's: not trusted by anyone. */
        public Leaf selfSigned() {
            this.selfSigned = true;
            return this;
        }

        /** Signed by a second, freshly made CA ({@code CN=optls Untrusted CA}) that nobody trusts. */
        public Leaf signedByUntrustedCa() {
            this.untrustedCa = true;
            return this;
        }

        /** Makes the certificate. */
        public Credential issue() {
            KeyPair keys = keyType.generate();
            String cn = commonName != null
                    ? commonName
                    : !dnsNames.isEmpty()
                            ? dnsNames.get(0)
                            : !ipAddresses.isEmpty() ? ipAddresses.get(0) : "optls leaf";
            List<GeneralName> sans = new ArrayList<>();
            dnsNames.forEach(n -> sans.add(new GeneralName(GeneralName.dNSName, n)));
            ipAddresses.forEach(a -> sans.add(new GeneralName(GeneralName.iPAddress, a)));
            srvNames.forEach(n -> sans.add(new GeneralName(
                    GeneralName.otherName,
                    new OtherName(new ASN1ObjectIdentifier("1.3.6.1.5.5.7.8.7"), new DERIA5String(n)))));
            xmppAddrs.forEach(n -> sans.add(new GeneralName(
                    GeneralName.otherName,
                    new OtherName(new ASN1ObjectIdentifier("1.3.6.1.5.5.7.8.5"), new DERUTF8String(n)))));
            GeneralNames altNames = sans.isEmpty() ? null : new GeneralNames(sans.toArray(new GeneralName[0]));
            X500Name subject = name(cn);
            if (selfSigned) {
                X509Certificate certificate = sign(
                        subject,
                        keys.getPrivate(),
                        null,
                        keys.getPublic(),
                        subject,
                        keys.getPublic(),
                        notBefore,
                        notAfter,
                        false,
                        altNames);
                return new Credential(List.of(certificate), keys.getPrivate());
            }
            TestPki issuer = untrustedCa ? create("optls Untrusted CA", KeyType.EC_P256) : pki;
            X509Certificate certificate = sign(
                    x500(issuer.issuerCertificate),
                    issuer.issuerKey,
                    issuer.issuerCertificate,
                    issuer.issuerCertificate.getPublicKey(),
                    subject,
                    keys.getPublic(),
                    notBefore,
                    notAfter,
                    false,
                    altNames);
            List<X509Certificate> chain = new ArrayList<>();
            chain.add(certificate);
            chain.addAll(issuer.intermediates);
            return new Credential(chain, keys.getPrivate());
        }
    }

    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, commonName)
                .build();
    }

    private static X500Name x500(X509Certificate certificate) {
        return X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    }

    private static X509Certificate sign(
            X500Name issuer,
            PrivateKey issuerKey,
            X509Certificate issuerCertificate,
            PublicKey issuerPublicKey,
            X500Name subject,
            PublicKey subjectKey,
            Instant notBefore,
            Instant notAfter,
            boolean ca,
            GeneralNames altNames) {
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    issuer,
                    new BigInteger(63, RANDOM).add(BigInteger.ONE),
                    Date.from(notBefore),
                    Date.from(notAfter),
                    subject,
                    subjectKey);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(subjectKey));
            builder.addExtension(
                    Extension.authorityKeyIdentifier,
                    false,
                    issuerCertificate != null
                            ? utils.createAuthorityKeyIdentifier(issuerCertificate)
                            : utils.createAuthorityKeyIdentifier(issuerPublicKey));
            if (ca) {
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            } else {
                int usage = KeyUsage.digitalSignature;
                if (subjectKey.getAlgorithm().equals("RSA")) {
                    usage |= KeyUsage.keyEncipherment;
                }
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
                builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                    KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                }));
            }
            if (altNames != null) {
                builder.addExtension(Extension.subjectAlternativeName, false, altNames);
            }
            String algorithm = KeyType.of(issuerKey).signatureAlgorithm();
            return new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
        } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot issue a certificate for " + subject, e);
        }
    }
}
