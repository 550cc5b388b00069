package dev.optls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestPkiTest {
    private static final TestPki PKI = TestPki.create();

    @Test
    void leafCarriesTheRequestedNamesAndChainsToTheRoot() throws Exception {
        Credential leaf = PKI.leaf("mail.example", "imap.example")
                .ipAddresses("127.0.0.1")
                .issue();

        X509Certificate cert = leaf.certificate();
        assertThat(cert.getSubjectAlternativeNames())
                .containsExactlyInAnyOrder(
                        List.of(2, "mail.example"), List.of(2, "imap.example"), List.of(7, "127.0.0.1"));
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=mail.example");
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        cert.verify(PKI.caCertificate().getPublicKey());
        assertThat(leaf.chain()).containsExactly(cert);
        assertThat(leaf.privateKey().getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void intermediateChainsAreLeafFirstAndValidateAgainstTheRoot() throws Exception {
        TestPki sub = PKI.intermediate("optls Intermediate 1").intermediate("optls Intermediate 2");
        Credential leaf = sub.issue("deep.example");

        assertThat(leaf.chain()).hasSize(3);
        assertThat(sub.caCertificate()).isEqualTo(PKI.caCertificate());
        trustManager().checkServerTrusted(leaf.chain().toArray(new X509Certificate[0]), "UNKNOWN");
    }

    @Test
    void badLeavesAreRejectedByPkix() {
        X509TrustManager tm = trustManager();
        for (Credential bad : List.of(
                PKI.leaf("a.example").selfSigned().issue(),
                PKI.leaf("a.example").signedByUntrustedCa().issue(),
                PKI.leaf("a.example").expired().issue())) {
            assertThatThrownBy(() -> tm.checkServerTrusted(bad.chain().toArray(new X509Certificate[0]), "UNKNOWN"))
                    .as(bad.toString())
                    .isInstanceOf(java.security.cert.CertificateException.class);
        }
    }

    @Test
    void validityOptionsMoveTheDates() {
        assertThatThrownBy(() ->
                        PKI.leaf("a.example").expired().issue().certificate().checkValidity())
                .isInstanceOf(CertificateExpiredException.class);
        assertThatThrownBy(() -> PKI.leaf("a.example")
                        .notYetValid()
                        .issue()
                        .certificate()
                        .checkValidity())
                .isInstanceOf(CertificateNotYetValidException.class);
    }

    @Test
    void writesPemInEveryKeyForm(@TempDir Path dir) throws Exception {
        Credential.PemPaths ec = PKI.issue("ec.example").writePem(dir, "ec");
        Credential.PemPaths rsa =
                PKI.leaf("rsa.example").keyType(KeyType.RSA_2048).issue().writePem(dir, "rsa");
        Path ca = PKI.writeCaPem(dir.resolve("ca.pem"));

        assertThat(Files.readString(ec.chain())).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(Files.readString(ec.privateKey())).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(Files.readString(ec.traditionalPrivateKey())).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(Files.readString(rsa.traditionalPrivateKey())).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(Files.readString(ca))
                .startsWith("-----BEGIN CERTIFICATE-----")
                .contains("-----END CERTIFICATE-----");
    }

    @Test
    void rsaCaIssuesRsaLeaves() throws Exception {
        TestPki rsaPki = TestPki.create("optls RSA CA", KeyType.RSA_2048);
        Credential leaf = rsaPki.leaf("rsa.example").keyType(KeyType.RSA_2048).issue();
        leaf.certificate().verify(rsaPki.caCertificate().getPublicKey());
        assertThat(leaf.certificate().getSigAlgName()).isEqualTo("SHA256withRSA");
    }

    @Test
    void serverAndClientContextsHandshake() throws Exception {
        Credential server = PKI.issue("localhost");
        try (SSLServerSocket listener = (SSLServerSocket) server.serverContext()
                .getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Integer> served = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) listener.accept()) {
                    InputStream in = s.getInputStream();
                    int b = in.read();
                    s.getOutputStream().write(b + 1);
                    return b;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket client = (SSLSocket) PKI.clientContext()
                    .getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                OutputStream out = client.getOutputStream();
                out.write(41);
                out.flush();
                assertThat(client.getInputStream().read()).isEqualTo(42);
            }
            assertThat(served.get(10, TimeUnit.SECONDS)).isEqualTo(41);
        }
    }

    @Test
    void clientContextRejectsAServerFromAnotherPki() throws Exception {
        Credential stranger = TestPki.create().issue("localhost");
        try (SSLServerSocket listener = (SSLServerSocket) stranger.serverContext()
                .getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture.runAsync(() -> {
                try (SSLSocket s = (SSLSocket) listener.accept()) {
                    s.startHandshake();
                } catch (Exception expected) {
                    // the client aborts the handshake
                }
            });
            try (SSLSocket client = (SSLSocket) PKI.clientContext()
                    .getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                assertThatThrownBy(client::startHandshake).isInstanceOf(SSLHandshakeException.class);
            }
        }
    }

    private static X509TrustManager trustManager() {
        return (X509TrustManager) PKI.trustManagerFactory().getTrustManagers()[0];
    }
}
