package dev.optls.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.optls.testkit.Credential;
import dev.optls.testkit.KeyType;
import dev.optls.testkit.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PemFilesTest {
    private static final TestPki PKI = TestPki.create();

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void readsPkcs8AndTraditionalKeys(KeyType type) throws Exception {
        Credential credential = PKI.leaf("mail.example").keyType(type).issue();
        Credential.PemPaths files = credential.writePem(dir, "server");

        PrivateKey pkcs8 = PemFiles.readPrivateKey(files.privateKey());
        PrivateKey traditional = PemFiles.readPrivateKey(files.traditionalPrivateKey());

        assertThat(Files.readString(files.traditionalPrivateKey()))
                .startsWith(
                        type == KeyType.EC_P256 ? "-----BEGIN EC PRIVATE KEY-----" : "-----BEGIN RSA PRIVATE KEY-----");
        assertThat(pkcs8.getAlgorithm()).isEqualTo(credential.privateKey().getAlgorithm());
        assertSameKey(pkcs8, credential.privateKey());
        assertSameKey(traditional, credential.privateKey());
        // and the pair is usable for a server
        assertThat(ServerTls.fromPemFiles(
                        files.chain(), files.traditionalPrivateKey(), Optional.empty(), TlsProfile.modern()))
                .isNotNull();
    }

    @Test
    void readsAChainInFileOrder() {
        Credential credential = PKI.intermediate("optls Intermediate").issue("mail.example");
        Path chain = credential.writePem(dir, "chain").chain();

        List<X509Certificate> read = PemFiles.readCertificates(chain);

        assertThat(read).containsExactlyElementsOf(credential.chain()).hasSize(2);
    }

    @Test
    void combinedKeyAndChainFileServesBoth() throws IOException {
        Credential credential = PKI.issue("mail.example");
        Path combined =
                Files.writeString(dir.resolve("combined.pem"), credential.privateKeyPem() + credential.chainPem());

        assertThat(PemFiles.readCertificates(combined)).containsExactly(credential.certificate());
        assertSameKey(PemFiles.readPrivateKey(combined), credential.privateKey());
    }

    @Test
    void readsTrustAnchorsForTheCaOption() {
        Path ca = PKI.writeCaPem(dir.resolve("ca.pem"));
        TrustAnchors anchors = PemFiles.readTrustAnchors(ca);
        Credential leaf = PKI.issue("mail.example");

        assertThat(anchors.description()).contains("ca.pem");
        assertThat(anchors.verify(leaf.chain(), ReferenceIdentity.of("mail.example"))
                        .valid())
                .isTrue();
    }

    @Test
    void missingFile() {
        Path missing = dir.resolve("nope.pem");
        assertThatThrownBy(() -> PemFiles.readCertificates(missing))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("no such file");
    }

    @Test
    void emptyFileHasNoCertificate() throws IOException {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertThatThrownBy(() -> PemFiles.readCertificates(empty))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("empty.pem")
                .hasMessageContaining("no CERTIFICATE block found");
    }

    @Test
    void keyFileGivenAsChain() {
        Path key = PKI.issue("mail.example").writePem(dir, "k").privateKey();
        assertThatThrownBy(() -> PemFiles.readCertificates(key)).hasMessageContaining("no CERTIFICATE block found");
    }

    @Test
    void chainFileGivenAsKey() {
        Path chain = PKI.issue("mail.example").writePem(dir, "c").chain();
        assertThatThrownBy(() -> PemFiles.readPrivateKey(chain))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("c.crt")
                .hasMessageContaining("no private key found");
    }

    @Test
    void corruptBase64() throws IOException {
        Path bad = Files.writeString(
                dir.resolve("bad.pem"), "-----BEGIN CERTIFICATE-----\nnot!base64@@\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> PemFiles.readCertificates(bad))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("bad.pem")
                .hasMessageContaining("not valid PEM");
    }

    @Test
    void truncatedBlock() throws IOException {
        String pem = PKI.issue("mail.example").chainPem();
        Path cut = Files.writeString(dir.resolve("cut.pem"), pem.substring(0, pem.length() / 2));
        assertThatThrownBy(() -> PemFiles.readCertificates(cut))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("cut.pem");
    }

    @Test
    void twoKeysAreAmbiguous() throws IOException {
        Path two = Files.writeString(
                dir.resolve("two.key"),
                PKI.issue("a.example").privateKeyPem() + PKI.issue("b.example").privateKeyPem());
        assertThatThrownBy(() -> PemFiles.readPrivateKey(two)).hasMessageContaining("more than one private key");
    }

    @Test
    void keyThatDoesNotBelongToTheCertificate() {
        Credential a = PKI.issue("a.example");
        Credential b = PKI.issue("b.example");
        assertThatThrownBy(() -> ServerTls.create(a.chain(), b.privateKey(), Optional.empty(), TlsProfile.modern()))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("does not belong to the certificate CN=a.example");
    }

    // --- keys made by the openssl CLI, when it is installed ---

    @Test
    void opensslPkcs8Ec() throws Exception {
        Path key = openssl("ec-pkcs8.key", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256");
        assertThat(Files.readString(key)).contains("BEGIN PRIVATE KEY");
        assertThat(PemFiles.readPrivateKey(key).getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void opensslPkcs8Rsa() throws Exception {
        Path key = openssl("rsa-pkcs8.key", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048");
        assertThat(PemFiles.readPrivateKey(key).getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void opensslSec1WithParametersBlock() throws Exception {
        Path key = openssl("ec-sec1.key", "ecparam", "-name", "prime256v1", "-genkey");
        assertThat(Files.readString(key)).contains("BEGIN EC PARAMETERS").contains("BEGIN EC PRIVATE KEY");
        assertThat(PemFiles.readPrivateKey(key).getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void opensslPkcs1() throws Exception {
        Path key = openssl("rsa-pkcs1.key", "genrsa", "-traditional", "2048");
        assertThat(Files.readString(key)).contains("BEGIN RSA PRIVATE KEY");
        assertThat(PemFiles.readPrivateKey(key).getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void opensslEncryptedPkcs8IsRefusedWithAHint() throws Exception {
        Path key = openssl(
                "enc.key",
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-aes-128-cbc",
                "-pass",
                "pass:secret");
        assertThat(Files.readString(key)).contains("BEGIN ENCRYPTED PRIVATE KEY");
        assertThatThrownBy(() -> PemFiles.readPrivateKey(key))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("enc.key")
                .hasMessageContaining("encrypted")
                .hasMessageContaining("openssl pkey");
    }

    @Test
    void opensslEncryptedTraditionalIsRefused() throws Exception {
        Path key = openssl("enc-rsa.key", "genrsa", "-traditional", "-aes128", "-passout", "pass:secret", "2048");
        assertThat(Files.readString(key)).contains("Proc-Type: 4,ENCRYPTED");
        assertThatThrownBy(() -> PemFiles.readPrivateKey(key)).hasMessageContaining("encrypted");
    }

    @Test
    void opensslSelfSignedCertificateAndKeyMakeAServer() throws Exception {
        Path key = openssl("self.key", "ecparam", "-name", "prime256v1", "-genkey", "-noout");
        Path cert = dir.resolve("self.crt");
        run(List.of(
                "openssl",
                "req",
                "-new",
                "-x509",
                "-key",
                key.toString(),
                "-out",
                cert.toString(),
                "-days",
                "1",
                "-subj",
                "/CN=mail.example"));
        ServerTls server = ServerTls.fromPemFiles(cert, key, Optional.of("imap"), TlsProfile.modern());
        assertThat(server).isNotNull();
        assertThat(PemFiles.readCertificates(cert)
                        .get(0)
                        .getSubjectX500Principal()
                        .getName())
                .isEqualTo("CN=mail.example");
    }

    /** Same private key, whatever optional fields (SEC1 public key, curve) the encoding carries. */
    private static void assertSameKey(PrivateKey actual, PrivateKey expected) {
        if (expected instanceof ECPrivateKey ec) {
            assertThat(actual).isInstanceOf(ECPrivateKey.class);
            assertThat(((ECPrivateKey) actual).getS()).isEqualTo(ec.getS());
            assertThat(((ECPrivateKey) actual).getParams().getCurve())
                    .isEqualTo(ec.getParams().getCurve());
        } else {
            RSAPrivateKey rsa = (RSAPrivateKey) expected;
            assertThat(((RSAPrivateKey) actual).getModulus()).isEqualTo(rsa.getModulus());
            assertThat(((RSAPrivateKey) actual).getPrivateExponent()).isEqualTo(rsa.getPrivateExponent());
        }
    }

    private Path openssl(String file, String... args) throws Exception {
        Path out = dir.resolve(file);
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.add(args[0]);
        command.add("-out"); // before the arguments: genrsa wants numbits last
        command.add(out.toString());
        command.addAll(List.of(args).subList(1, args.length));
        run(command);
        return out;
    }

    private static void run(List<String> command) throws Exception {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "openssl CLI not available: " + e.getMessage());
            return;
        }
        process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command)).isZero();
    }
}
