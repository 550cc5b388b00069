package dev.optls.policy.dkim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A DKIM signing key and its public half: RSA (RFC 6376 §3.3.3: at least 1024 bits; 2048 recommended) or Ed25519
 * (RFC 8463), from an unencrypted PKCS#8 PEM file ({@code -----BEGIN PRIVATE KEY-----}) as written by {@code openssl
 * genpkey -algorithm ed25519} or {@code openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048}. JDK only.
 */
public final class DkimKey {

    /** RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits. */
    public static final int MIN_RSA_BITS = 1024;

    private static final String BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String END = "-----END PRIVATE KEY-----";

    private final DkimAlgorithm algorithm;
    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private DkimKey(DkimAlgorithm algorithm, PrivateKey privateKey, PublicKey publicKey) {
        this.algorithm = algorithm;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /**
     * Reads a PKCS#8 PEM file holding one RSA or Ed25519 private key.
     *
     * @throws IllegalArgumentException naming the file and what is wrong (missing, not PKCS#8, encrypted, EC, RSA
     *     under 1024 bits)
     */
    public static DkimKey load(Path pemFile) {
        String text;
        try {
            text = Files.readString(pemFile, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(pemFile + ": no such file; check the DKIM key path", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    pemFile + ": cannot be read (" + e + "); check the path and permissions", e);
        }
        try {
            return fromPem(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(pemFile + ": " + e.getMessage(), e);
        }
    }

    /** Reads PKCS#8 PEM text (see {@link #load(Path)}). */
    public static DkimKey fromPem(String pem) {
        if (pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
            throw new IllegalArgumentException(
                    "the key is encrypted; decrypt it with: openssl pkey -in KEY -out KEY.pem");
        }
        if (pem.contains("-----BEGIN RSA PRIVATE KEY-----") || pem.contains("-----BEGIN EC PRIVATE KEY-----")) {
            throw new IllegalArgumentException(
                    "the key is not PKCS#8; convert it with: openssl pkcs8 -topk8 -nocrypt" + " -in KEY -out KEY.pem");
        }
        int begin = pem.indexOf(BEGIN);
        int end = pem.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException(
                    "no PKCS#8 private key found; expected a -----BEGIN PRIVATE KEY----- block"
                            + " (openssl genpkey -algorithm ed25519 -out KEY.pem)");
        }
        if (pem.indexOf(BEGIN, end) >= 0) {
            throw new IllegalArgumentException("more than one private key; keep exactly one key in the file");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(begin + BEGIN.length(), end));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the PRIVATE KEY block is not base64: " + e.getMessage(), e);
        }
        return of(privateKeyFromPkcs8(der));
    }

    private static PrivateKey privateKeyFromPkcs8(byte[] der) {
        for (String algorithm : new String[] {"RSA", "Ed25519", "EC"}) {
            try {
                PrivateKey key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                if (algorithm.equals("EC")) {
                    throw new IllegalArgumentException("the key is an EC key; DKIM signs with RSA (rsa-sha256) or"
                            + " Ed25519 (ed25519-sha256, RFC 8463) only");
                }
                return key;
            } catch (InvalidKeySpecException e) {
                // Not this algorithm: try the next.
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK lacks " + algorithm + " keys", e);
            }
        }
        throw new IllegalArgumentException("the PKCS#8 key is neither RSA nor Ed25519");
    }

    /**
     * A key from a JDK private key: an {@link RSAPrivateCrtKey} of at least {@value #MIN_RSA_BITS} bits or an Ed25519
     * {@link EdECPrivateKey}.
     */
    public static DkimKey of(PrivateKey privateKey) {
        Objects.requireNonNull(privateKey, "privateKey");
        try {
            if (privateKey instanceof RSAPrivateCrtKey rsa) {
                int bits = rsa.getModulus().bitLength();
                if (bits < MIN_RSA_BITS) {
                    throw new IllegalArgumentException("the RSA key has " + bits + " bits; RFC 8301 §3.2 requires at"
                            + " least 1024 and 2048 is recommended");
                }
                PublicKey pub = KeyFactory.getInstance("RSA")
                        .generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
                return checked(new DkimKey(DkimAlgorithm.RSA_SHA256, privateKey, pub));
            }
            if (privateKey instanceof EdECPrivateKey ed
                    && ed.getParams().getName().equalsIgnoreCase("Ed25519")) {
                byte[] seed = ed.getBytes()
                        .orElseThrow(() -> new IllegalArgumentException("the Ed25519 key does not expose its bytes"));
                return checked(new DkimKey(DkimAlgorithm.ED25519_SHA256, privateKey, ed25519PublicKey(seed)));
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot derive the public key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(
                "DKIM signs with RSA (with CRT parameters) or Ed25519 keys, not " + privateKey.getAlgorithm());
    }

    /**
     * The JDK has no call that derives an Ed25519 public key from the private one (RFC 8032 §5.1.5), but its key pair
     * generator draws exactly the 32-octet private key from the random source it is given: generating with a source
     * that returns the private key yields its public key. {@link #checked} verifies the pair by signing.
     */
    private static PublicKey ed25519PublicKey(byte[] seed) throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
        g.initialize(NamedParameterSpec.ED25519, new FixedBytes(seed));
        KeyPair pair = g.generateKeyPair();
        return pair.getPublic();
    }

    /** A "random" source that returns given bytes once; only for {@link #ed25519PublicKey}. */
    private static final class FixedBytes extends SecureRandom {
        private static final long serialVersionUID = 1L;
        private final byte[] bytes;
        private boolean used;

        FixedBytes(byte[] bytes) {
            this.bytes = bytes.clone();
        }

        @Override
        public void nextBytes(byte[] out) {
            if (used || out.length != bytes.length) {
                throw new IllegalStateException("the Ed25519 key pair generator asked for " + out.length
                        + " random bytes; expected one request for " + bytes.length);
            }
            used = true;
            System.arraycopy(bytes, 0, out, 0, out.length);
        }
    }

    private static DkimKey checked(DkimKey key) throws GeneralSecurityException {
        byte[] probe = "optls DKIM key pair check".getBytes(StandardCharsets.US_ASCII);
        byte[] signature = key.signRaw(probe);
        Signature v = Signature.getInstance(key.algorithm.jcaName());
        v.initVerify(key.publicKey);
        v.update(key.algorithm == DkimAlgorithm.ED25519_SHA256 ? DkimSigner.sha256(probe) : probe);
        if (!v.verify(signature)) {
            throw new IllegalArgumentException("the derived public key does not verify the private key's signature");
        }
        return key;
    }

    /** The signing algorithm this key implies. */
    public DkimAlgorithm algorithm() {
        return algorithm;
    }

    /** The public key. */
    public PublicKey publicKey() {
        return publicKey;
    }

    /**
     * The {@code p=} value of the key record: base64 of the DER SubjectPublicKeyInfo for RSA (RFC 6376 §3.6.1), of
     * the 32-octet public key for Ed25519 (RFC 8463 §4).
     */
    public String publicKeyBase64() {
        byte[] spki = publicKey.getEncoded();
        byte[] p = algorithm == DkimAlgorithm.ED25519_SHA256
                ? Arrays.copyOfRange(spki, spki.length - 32, spki.length)
                : spki;
        return Base64.getEncoder().encodeToString(p);
    }

    /** The TXT record value to publish at {@code <selector>._domainkey.<domain>}: {@code v=DKIM1; k=rsa; p=…}. */
    public String dnsTxtValue() {
        // RFC 6376 §3.6.1: v=DKIM1 first; k= names the key type (RFC 8463 §4: "ed25519").
        return "v=DKIM1; k=" + algorithm.keyType() + "; p=" + publicKeyBase64();
    }

    /**
     * The TXT record value for a key that signs TLS reports only: {@code v=DKIM1; k=…; s=tlsrpt; p=…}. RFC 8460 §5.3:
     * the key record SHOULD declare the service type {@code tlsrpt}, and receivers may ignore reports signed with a
     * key that does not (dkimpy's {@code tlsrpt='strict'} does); such a key cannot vouch for other mail of the
     * domain.
     */
    public String tlsRptDnsTxtValue() {
        return "v=DKIM1; k=" + algorithm.keyType() + "; s=tlsrpt; p=" + publicKeyBase64();
    }

    /**
     * The whole record in zone-file syntax, the value split into strings of at most 255 characters (RFC 1035 §3.3;
     * RFC 6376 §3.6.2.2: the strings are concatenated): {@code sel._domainkey.example.org. IN TXT ( "…" "…" )}; with
     * {@code tlsRptOnly} the value of {@link #tlsRptDnsTxtValue()}.
     */
    public String zoneFileRecord(String domain, String selector, boolean tlsRptOnly) {
        String value = tlsRptOnly ? tlsRptDnsTxtValue() : dnsTxtValue();
        StringBuilder sb = new StringBuilder(selector + "._domainkey." + domain + ". IN TXT (");
        for (int i = 0; i < value.length(); i += 255) {
            sb.append(" \"").append(value, i, Math.min(value.length(), i + 255)).append('"');
        }
        return sb.append(" )").toString();
    }

    /**
     * Signs the data to be signed as the algorithm says: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6376 §3.3.1), or
     * PureEdDSA Ed25519 over the SHA-256 hash of the data (RFC 8463 §3).
     */
    byte[] signRaw(byte[] data) throws GeneralSecurityException {
        Signature s = Signature.getInstance(algorithm.jcaName());
        s.initSign(privateKey);
        s.update(algorithm == DkimAlgorithm.ED25519_SHA256 ? DkimSigner.sha256(data) : data);
        return s.sign();
    }

    @Override
    public String toString() {
        return "DkimKey[" + algorithm.tagValue() + ", p=" + publicKeyBase64().substring(0, 12) + "…]";
    }
}
