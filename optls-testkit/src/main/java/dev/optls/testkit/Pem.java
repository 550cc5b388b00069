package dev.optls.testkit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/** PEM encodings of certificates and keys. */
final class Pem {
    private Pem() {}

    static String certificates(List<X509Certificate> certificates) {
        StringBuilder out = new StringBuilder();
        for (X509Certificate certificate : certificates) {
            try {
                out.append(encode("CERTIFICATE", certificate.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("cannot encode " + certificate.getSubjectX500Principal(), e);
            }
        }
        return out.toString();
    }

    /** PKCS#8 {@code PRIVATE KEY} (RFC 5208 / RFC 7468 §10). */
    static String pkcs8(PrivateKey key) {
        return encode("PRIVATE KEY", key.getEncoded());
    }

    /**
     * The "traditional" OpenSSL form: SEC1 {@code EC PRIVATE KEY} (RFC 5915, with the named curve and the
     * public key) for EC keys, PKCS#1 {@code RSA PRIVATE KEY} (RFC 8017 appendix A.1.2) for RSA keys.
     */
    static String traditional(PrivateKey key, PublicKey publicKey) {
        try {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
            if (key instanceof ECPrivateKey ec) {
                SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(publicKey.getEncoded());
                var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(
                        ec.getParams().getOrder().bitLength(),
                        ec.getS(),
                        spki.getPublicKeyData(),
                        info.getPrivateKeyAlgorithm().getParameters());
                return encode("EC PRIVATE KEY", sec1.getEncoded());
            }
            if (key.getAlgorithm().equals("RSA")) {
                return encode(
                        "RSA PRIVATE KEY",
                        info.parsePrivateKey().toASN1Primitive().getEncoded());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalArgumentException("no traditional PEM form for " + key.getAlgorithm() + " keys");
    }

    private static String encode(String type, byte[] der) {
        StringWriter text = new StringWriter();
        try (PemWriter writer = new PemWriter(text)) {
            writer.writeObject(new PemObject(type, der));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }
}
