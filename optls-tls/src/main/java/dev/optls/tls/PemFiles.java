package dev.optls.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads certificates and private keys from PEM files (RFC 7468).
 *
 * <p>Certificate files hold one or more {@code CERTIFICATE} blocks, leaf first. Key files hold one
 * unencrypted private key as PKCS#8 ({@code PRIVATE KEY}), SEC1 ({@code EC PRIVATE KEY}) or PKCS#1
 * ({@code RSA PRIVATE KEY}). Other blocks (an {@code EC PARAMETERS} block, a certificate next to the key)
 * are skipped, so a combined key-and-chain file works for both.
 */
public final class PemFiles {
    private static final String CONVERT_KEY = "convert it with: openssl pkey -in KEY -out KEY.unencrypted.pem";

    private PemFiles() {}

    /** The certificates in a PEM file, in file order (a chain file: leaf first). */
    public static List<X509Certificate> readCertificates(Path file) {
        List<X509Certificate> certificates = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (Object object : parse(file)) {
            if (object instanceof X509CertificateHolder holder) {
                try {
                    certificates.add(converter.getCertificate(holder));
                } catch (CertificateException e) {
                    throw new TlsConfigException(
                            file + ": certificate " + (certificates.size() + 1) + " cannot be decoded: "
                                    + e.getMessage(),
                            e);
                }
            }
        }
        if (certificates.isEmpty()) {
            throw new TlsConfigException(file
                    + ": no CERTIFICATE block found; expected PEM text starting with -----BEGIN CERTIFICATE-----"
                    + " (convert DER with: openssl x509 -inform der -in FILE -out FILE.pem)");
        }
        return List.copyOf(certificates);
    }

    /** The one private key in a PEM file: PKCS#8, SEC1 EC or PKCS#1 RSA, unencrypted. */
    public static PrivateKey readPrivateKey(Path file) {
        PrivateKeyInfo found = null;
        for (Object object : parse(file)) {
            PrivateKeyInfo info;
            if (object instanceof PrivateKeyInfo pkcs8) {
                info = pkcs8;
            } else if (object instanceof PEMKeyPair pair) {
                info = pair.getPrivateKeyInfo();
            } else if (object instanceof PKCS8EncryptedPrivateKeyInfo || object instanceof PEMEncryptedKeyPair) {
                throw new TlsConfigException(
                        file + ": the private key is encrypted; optls reads only unencrypted keys, " + CONVERT_KEY);
            } else {
                continue;
            }
            if (found != null) {
                throw new TlsConfigException(file + ": more than one private key; keep exactly one key in the file");
            }
            found = info;
        }
        if (found == null) {
            throw new TlsConfigException(
                    file + ": no private key found; expected a PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block");
        }
        try {
            return new JcaPEMKeyConverter().getPrivateKey(found);
        } catch (IOException e) {
            throw new TlsConfigException(
                    file + ": the private key ("
                            + found.getPrivateKeyAlgorithm().getAlgorithm() + ") cannot be used: " + e.getMessage()
                            + "; use an EC or RSA key",
                    e);
        }
    }

    /** Trust anchors from a PEM file of CA certificates (what {@code --ca} points at). */
    public static TrustAnchors readTrustAnchors(Path file) {
        return TrustAnchors.of(readCertificates(file), file.toString());
    }

    private static List<Object> parse(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new TlsConfigException(file + ": no such file; check the path", e);
        } catch (IOException e) {
            throw new TlsConfigException(file + ": cannot be read (" + e + "); check the path and permissions", e);
        }
        List<Object> objects = new ArrayList<>();
        try (Reader reader = new StringReader(text);
                PEMParser parser = new PEMParser(reader)) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                objects.add(object);
            }
        } catch (IOException | RuntimeException e) {
            throw new TlsConfigException(
                    file + ": not valid PEM (" + e.getMessage()
                            + "); expected -----BEGIN ...----- blocks of base64 DER",
                    e);
        }
        return objects;
    }
}
