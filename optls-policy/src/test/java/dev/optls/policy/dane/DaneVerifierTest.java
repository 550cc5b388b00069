package dev.optls.policy.dane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Certificate matching for DANE-EE and DANE-TA (RFC 7672 §3.1, RFC 7671 §5) with certificates from the test PKI. */
class DaneVerifierTest {

    private static final TestPki ROOT = TestPki.create();
    private static final TestPki INTERMEDIATE = ROOT.intermediate("optls Test Intermediate");
    private static final Credential MX = INTERMEDIATE.issue("mx.example.com");
    private static final List<String> NAMES = List.of("mx.example.com", "example.com");

    @Test
    void daneEeMatchesTheLeafKeyOrCertificateWithEveryMatchingType() throws Exception {
        X509Certificate leaf = MX.certificate();
        byte[] spki = leaf.getPublicKey().getEncoded();
        byte[] cert = leaf.getEncoded();

        for (TlsaRecord record : List.of(
                TlsaRecord.of(3, 1, 1, sha256(spki)),
                TlsaRecord.of(3, 1, 2, sha512(spki)),
                TlsaRecord.of(3, 1, 0, spki),
                TlsaRecord.of(3, 0, 1, sha256(cert)),
                TlsaRecord.of(3, 0, 2, sha512(cert)),
                TlsaRecord.of(3, 0, 0, cert))) {
            DaneVerification result = verify(List.of(record), MX.chain());

            assertThat(result).as(record.toString()).isInstanceOfSatisfying(DaneVerification.Authenticated.class, a -> {
                assertThat(a.record()).isEqualTo(record);
                assertThat(a.chainIndex()).isZero();
            });
        }
    }

    @Test
    void daneEeChecksNeitherNameNorExpiry() throws Exception {
        // RFC 7672 §3.1.1: DANE-EE authenticates the key; the name and dates in the certificate do not matter.
        Credential expiredOtherName = ROOT.leaf("other.example.net").expired().issue();
        TlsaRecord record = TlsaRecord.of(
                3, 1, 1, sha256(expiredOtherName.certificate().getPublicKey().getEncoded()));

        assertThat(verify(List.of(record), expiredOtherName.chain()).authenticated())
                .isTrue();
    }

    @Test
    void daneEeDoesNotMatchAnotherKey() throws Exception {
        Credential other = ROOT.issue("mx.example.com");
        TlsaRecord record =
                TlsaRecord.of(3, 1, 1, sha256(other.certificate().getPublicKey().getEncoded()));

        DaneVerification result = verify(List.of(record), MX.chain());

        assertThat(result)
                .isInstanceOfSatisfying(
                        DaneVerification.NotAuthenticated.class,
                        n -> assertThat(n.reasons()).singleElement().asString().contains("does not match"));
    }

    @Test
    void daneTaMatchesAnIssuerTheServerSent() throws Exception {
        X509Certificate issuer = INTERMEDIATE.issuerCertificate();

        for (TlsaRecord record : List.of(
                TlsaRecord.of(2, 0, 1, sha256(issuer.getEncoded())),
                TlsaRecord.of(2, 1, 1, sha256(issuer.getPublicKey().getEncoded())),
                TlsaRecord.of(2, 1, 2, sha512(issuer.getPublicKey().getEncoded())))) {
            assertThat(verify(List.of(record), MX.chain()))
                    .as(record.toString())
                    .isInstanceOfSatisfying(
                            DaneVerification.Authenticated.class,
                            a -> assertThat(a.chainIndex()).isEqualTo(1));
        }
    }

    @Test
    void daneTaWithTheFullAnchorInTheRecordNeedsNoAnchorInTheChain() throws Exception {
        // RFC 7671 §5.2.2: a Full(0) record carries the trust anchor; the server need not send it.
        X509Certificate root = ROOT.caCertificate();

        for (TlsaRecord record : List.of(
                TlsaRecord.of(2, 0, 0, root.getEncoded()),
                TlsaRecord.of(2, 1, 0, root.getPublicKey().getEncoded()))) {
            assertThat(verify(List.of(record), MX.chain()))
                    .as(record.toString())
                    .isInstanceOfSatisfying(
                            DaneVerification.Authenticated.class,
                            a -> assertThat(a.chainIndex()).isEqualTo(-1));
        }
    }

    @Test
    void daneTaDigestOfAnAnchorTheServerDidNotSendDoesNotMatch() throws Exception {
        TlsaRecord record = TlsaRecord.of(2, 0, 1, sha256(ROOT.caCertificate().getEncoded()));

        assertThat(verify(List.of(record), MX.chain()).authenticated()).isFalse();
    }

    @Test
    void daneTaDoesNotMatchTheLeafItself() throws Exception {
        TlsaRecord record = TlsaRecord.of(2, 0, 1, sha256(MX.certificate().getEncoded()));

        assertThat(verify(List.of(record), MX.chain()).authenticated()).isFalse();
    }

    @Test
    void daneTaChecksTheNameAgainstEveryReferenceName() throws Exception {
        TlsaRecord record =
                TlsaRecord.of(2, 0, 1, sha256(INTERMEDIATE.issuerCertificate().getEncoded()));
        Credential nextHopName = INTERMEDIATE.issue("example.com");
        Credential wildcard = INTERMEDIATE.issue("*.example.com");
        Credential otherName = INTERMEDIATE.issue("mx.example.net");

        assertThat(verify(List.of(record), nextHopName.chain()).authenticated()).isTrue();
        assertThat(verify(List.of(record), wildcard.chain()).authenticated()).isTrue();
        assertThat(verify(List.of(record), otherName.chain()))
                .isInstanceOfSatisfying(
                        DaneVerification.NotAuthenticated.class,
                        n -> assertThat(n.reasons()).singleElement().asString().contains("matches none of the names"));
    }

    @Test
    void daneTaChecksExpiry() throws Exception {
        TlsaRecord record = TlsaRecord.of(
                2, 1, 1, sha256(INTERMEDIATE.issuerCertificate().getPublicKey().getEncoded()));
        Credential expired = INTERMEDIATE.leaf("mx.example.com").expired().issue();

        assertThat(verify(List.of(record), expired.chain()))
                .isInstanceOfSatisfying(
                        DaneVerification.NotAuthenticated.class,
                        n -> assertThat(n.reasons()).singleElement().asString().contains("is not valid at"));
    }

    @Test
    void daneTaRejectsAChainWhoseSignatureDoesNotVerify() throws Exception {
        // The server claims an issuer it was not signed by: the anchor matches, the chain does not hold.
        TestPki stranger = ROOT.intermediate("optls Test Intermediate");
        List<X509Certificate> forged = new ArrayList<>(List.of(MX.certificate(), stranger.issuerCertificate()));
        TlsaRecord record =
                TlsaRecord.of(2, 0, 1, sha256(stranger.issuerCertificate().getEncoded()));

        assertThat(verify(List.of(record), forged))
                .isInstanceOfSatisfying(
                        DaneVerification.NotAuthenticated.class,
                        n -> assertThat(n.reasons()).singleElement().asString().contains("does not verify"));
    }

    @Test
    void pkixUsagesNeverAuthenticateEvenWhenTheyMatch() throws Exception {
        byte[] spki = MX.certificate().getPublicKey().getEncoded();
        TlsaRecord pkixEe = TlsaRecord.of(1, 1, 1, sha256(spki));
        TlsaRecord pkixTa =
                TlsaRecord.of(0, 0, 1, sha256(INTERMEDIATE.issuerCertificate().getEncoded()));

        assertThat(verify(List.of(pkixEe, pkixTa), MX.chain()))
                .isInstanceOfSatisfying(
                        DaneVerification.NotAuthenticated.class,
                        n -> assertThat(n.reasons()).containsExactly("no usable TLSA record"));
    }

    @Test
    void anyOneMatchingRecordAuthenticates() throws Exception {
        byte[] spki = MX.certificate().getPublicKey().getEncoded();
        TlsaRecord wrong = TlsaRecord.of(3, 1, 1, new byte[32]);
        TlsaRecord right = TlsaRecord.of(3, 0, 1, sha256(MX.certificate().getEncoded()));
        TlsaRecord unusable = TlsaRecord.of(1, 1, 1, sha256(spki));

        assertThat(verify(List.of(unusable, wrong, right), MX.chain()))
                .isInstanceOfSatisfying(
                        DaneVerification.Authenticated.class,
                        a -> assertThat(a.record()).isEqualTo(right));
    }

    @Test
    void digestAgilityIgnoresTheWeakerDigestForTheSameUsageAndSelector() throws Exception {
        // RFC 7671 §9: with 3 1 1 and 3 1 2 published, only the SHA2-512 record counts.
        byte[] spki = MX.certificate().getPublicKey().getEncoded();
        TlsaRecord sha256Right = TlsaRecord.of(3, 1, 1, sha256(spki));
        TlsaRecord sha512Wrong = TlsaRecord.of(3, 1, 2, new byte[64]);
        TlsaRecord sha512Right = TlsaRecord.of(3, 1, 2, sha512(spki));
        TlsaRecord sha256Wrong = TlsaRecord.of(3, 1, 1, new byte[32]);

        assertThat(verify(List.of(sha256Right, sha512Wrong), MX.chain()).authenticated())
                .isFalse();
        assertThat(verify(List.of(sha256Wrong, sha512Right), MX.chain()).authenticated())
                .isTrue();
        // Another selector is another group: its SHA2-256 record still counts.
        TlsaRecord certSha256 = TlsaRecord.of(3, 0, 1, sha256(MX.certificate().getEncoded()));
        assertThat(verify(List.of(sha512Wrong, certSha256), MX.chain()).authenticated())
                .isTrue();
        assertThat(DaneVerifier.strongestDigests(List.of(sha256Right, sha512Wrong, certSha256)))
                .containsExactly(sha512Wrong, certSha256);
    }

    @Test
    void emptyOrOverlongChainsAreRefused() throws Exception {
        TlsaRecord record =
                TlsaRecord.of(3, 1, 1, sha256(MX.certificate().getPublicKey().getEncoded()));
        List<X509Certificate> tooLong = new ArrayList<>();
        for (int i = 0; i <= DaneVerifier.MAX_CHAIN_LENGTH; i++) {
            tooLong.add(MX.certificate());
        }

        assertThat(verify(List.of(record), List.of()).authenticated()).isFalse();
        assertThat(verify(List.of(record), tooLong))
                .isInstanceOfSatisfying(
                        DaneVerification.NotAuthenticated.class,
                        n -> assertThat(n.reasons()).singleElement().asString().contains("more than"));
    }

    private static DaneVerification verify(List<TlsaRecord> records, List<X509Certificate> chain) {
        return DaneVerifier.verify(records, chain, NAMES, Instant.now());
    }

    private static byte[] sha256(byte[] content) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(content);
    }

    private static byte[] sha512(byte[] content) throws Exception {
        return MessageDigest.getInstance("SHA-512").digest(content);
    }
}
