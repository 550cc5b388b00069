package dev.optls.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A certificate chain (leaf first, intermediates after it, the root not included) and the leaf's private
 * key, as issued by {@link TestPki}.
 */
public final class Credential {
    private static final char[] KEYSTORE_PASSWORD = "optls-testkit".toCharArray();

    private final List<X509Certificate> chain;
    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    Credential(List<X509Certificate> chain, PrivateKey privateKey) {
        this.chain = List.copyOf(chain);
        this.privateKey = privateKey;
        this.publicKey = chain.get(0).getPublicKey();
    }

    /** The chain as a server would send it: leaf first, then the intermediates (no root). */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The leaf certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The leaf's private key. */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /** The chain as PEM text: one {@code CERTIFICATE} block per certificate, leaf first. */
    public String chainPem() {
        return Pem.certificates(chain);
    }

    /** The private key as PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}). */
    public String privateKeyPem() {
        return Pem.pkcs8(privateKey);
    }

    /**
     * The private key in OpenSSL's traditional PEM form: SEC1 ({@code EC PRIVATE KEY}) for EC keys,
     * PKCS#1 ({@code RSA PRIVATE KEY}) for RSA keys.
     */
    public String traditionalPrivateKeyPem() {
        return Pem.traditional(privateKey, publicKey);
    }

    /**
     * Writes {@code <name>.crt} (the chain), {@code <name>.key} (PKCS#8) and {@code <name>-traditional.key}
     * (SEC1 or PKCS#1) into a directory.
     */
    public PemPaths writePem(Path directory, String name) {
        try {
            Files.createDirectories(directory);
            Path chainFile = write(directory.resolve(name + ".crt"), chainPem());
            Path keyFile = write(directory.resolve(name + ".key"), privateKeyPem());
            Path traditionalFile = write(directory.resolve(name + "-traditional.key"), traditionalPrivateKeyPem());
            return new PemPaths(chainFile, keyFile, traditionalFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write PEM files into " + directory, e);
        }
    }

    /** A PKCS#12 key store (in memory) holding this credential under the alias {@code optls}. */
    public KeyStore keyStore() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("optls", privateKey, KEYSTORE_PASSWORD, chain.toArray(new Certificate[0]));
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a key store", e);
        }
    }

    /** A server {@link SSLContext} presenting this credential (no client authentication). */
    public SSLContext serverContext() {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keyStore(), KEYSTORE_PASSWORD);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a server SSLContext", e);
        }
    }

    @Override
    public String toString() {
        return "Credential[" + certificate().getSubjectX500Principal().getName() + "]";
    }

    private static Path write(Path file, String text) throws IOException {
        return Files.writeString(file, text, StandardCharsets.US_ASCII);
    }

    /**
     * Where {@link #writePem(Path, String)} put the files.
     *
     * @param chain the certificate chain, leaf first
     * @param privateKey the key as PKCS#8 ({@code PRIVATE KEY})
     * @param traditionalPrivateKey the key as SEC1 ({@code EC PRIVATE KEY}) or PKCS#1 ({@code RSA PRIVATE KEY})
     */
    public record PemPaths(Path chain, Path privateKey, Path traditionalPrivateKey) {}
}
