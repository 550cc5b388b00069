package dev.optls.policy.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import dev.optls.policy.rpt.TlsRptResult;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.Verification;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The RFC 8460 §4.3 result type of each kind of failed session, with real certificates from the test PKI. */
class TlsRptClassifierTest {

    private static final TestPki PKI = TestPki.create();
    private static final TrustAnchors TRUST = TrustAnchors.of(PKI.trustStore());
    private static final String MX = "mx.example.test";

    private static Optional<TlsRptResult> certificate(Credential credential, String name) {
        List<X509Certificate> chain = credential.chain();
        Verification v = TRUST.verify(chain, ReferenceIdentity.of(name));
        return TlsRptClassifier.forCertificate(v, chain, Instant.now());
    }

    @Test
    void aValidCertificateIsNoFailure() {
        assertThat(certificate(PKI.issue(MX), MX)).isEmpty();
    }

    @Test
    void anExpiredCertificateIsCertificateExpired() {
        assertThat(certificate(PKI.leaf(MX).expired().issue(), MX)).contains(TlsRptResult.CERTIFICATE_EXPIRED);
    }

    @Test
    void anExpiredCertificateForAnotherNameIsStillCertificateExpired() {
        // The chain problem first: a name in a certificate that cannot be trusted means nothing.
        assertThat(certificate(PKI.leaf("other.example.test").expired().issue(), MX))
                .contains(TlsRptResult.CERTIFICATE_EXPIRED);
    }

    @Test
    void anUntrustedIssuerIsCertificateNotTrusted() {
        assertThat(certificate(PKI.leaf(MX).signedByUntrustedCa().issue(), MX))
                .contains(TlsRptResult.CERTIFICATE_NOT_TRUSTED);
        assertThat(certificate(PKI.leaf(MX).selfSigned().issue(), MX)).contains(TlsRptResult.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void aTrustedCertificateForAnotherNameIsCertificateHostMismatch() {
        assertThat(certificate(PKI.issue("other.example.test"), MX)).contains(TlsRptResult.CERTIFICATE_HOST_MISMATCH);
    }

    @Test
    void aCertificateNotYetValidIsAValidationFailure() {
        assertThat(certificate(PKI.leaf(MX).notYetValid().issue(), MX)).contains(TlsRptResult.VALIDATION_FAILURE);
    }

    @Test
    void expiryIsJudgedAtTheGivenTime() {
        Credential good = PKI.issue(MX);
        Verification untrustedLater = new Verification(false, true, "certificate expired");
        assertThat(TlsRptClassifier.forCertificate(
                        untrustedLater, good.chain(), Instant.now().plus(Duration.ofDays(400))))
                .contains(TlsRptResult.CERTIFICATE_EXPIRED);
        assertThat(TlsRptClassifier.forCertificate(untrustedLater, good.chain(), Instant.now()))
                .contains(TlsRptResult.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void noCertificateAtAllIsAValidationFailure() {
        assertThat(TlsRptClassifier.forCertificate(new Verification(false, false, "none"), List.of(), Instant.now()))
                .contains(TlsRptResult.VALIDATION_FAILURE);
    }

    private static Optional<TlsRptResult> failure(FailureKind kind, Phase phase) {
        return TlsRptClassifier.forFailure(
                new Failure(Blame.PEER, kind, phase, "test", false), Optional.empty(), List.of(), false, Instant.now());
    }

    @Test
    void noStarttlsOrARefusedStarttlsIsStarttlsNotSupported() {
        assertThat(failure(FailureKind.STARTTLS_NOT_OFFERED, Phase.CAPABILITIES))
                .contains(TlsRptResult.STARTTLS_NOT_SUPPORTED);
        assertThat(failure(FailureKind.STARTTLS_REFUSED, Phase.UPGRADE)).contains(TlsRptResult.STARTTLS_NOT_SUPPORTED);
        assertThat(failure(FailureKind.EXTENDED_HELLO_REFUSED, Phase.CAPABILITIES))
                .contains(TlsRptResult.STARTTLS_NOT_SUPPORTED);
    }

    @Test
    void aConnectionThatWasNeverMadeIsNotReported() {
        assertThat(failure(FailureKind.CONNECT_FAILED, Phase.CONNECT)).isEmpty();
        assertThat(failure(FailureKind.TIMEOUT, Phase.CONNECT)).isEmpty();
    }

    @Test
    void otherFailuresOnAnOpenConnectionAreValidationFailures() {
        assertThat(failure(FailureKind.HANDSHAKE_FAILED, Phase.HANDSHAKE)).contains(TlsRptResult.VALIDATION_FAILURE);
        assertThat(failure(FailureKind.TIMEOUT, Phase.HANDSHAKE)).contains(TlsRptResult.VALIDATION_FAILURE);
        assertThat(failure(FailureKind.MALFORMED, Phase.GREETING)).contains(TlsRptResult.VALIDATION_FAILURE);
        assertThat(failure(FailureKind.BYTES_AFTER_UPGRADE_REPLY, Phase.UPGRADE))
                .contains(TlsRptResult.VALIDATION_FAILURE);
    }

    @Test
    void aCertificateFailureIsClassifiedByItsVerification() {
        Credential expired = PKI.leaf(MX).expired().issue();
        Verification v = TRUST.verify(expired.chain(), ReferenceIdentity.of(MX));
        Failure f = Failure.peer(FailureKind.CERTIFICATE_INVALID, Phase.HANDSHAKE, "not accepted");
        assertThat(TlsRptClassifier.forFailure(f, Optional.of(v), expired.chain(), false, Instant.now()))
                .contains(TlsRptResult.CERTIFICATE_EXPIRED);
        assertThat(TlsRptClassifier.forFailure(f, Optional.empty(), List.of(), false, Instant.now()))
                .contains(TlsRptResult.VALIDATION_FAILURE);
    }

    @Test
    void aTlsaMismatchIsTlsaInvalidWhateverTheWebPkiSays() {
        Credential good = PKI.issue(MX);
        Verification v = TRUST.verify(good.chain(), ReferenceIdentity.of(MX));
        Failure f = Failure.peer(FailureKind.CERTIFICATE_INVALID, Phase.HANDSHAKE, "DANE");
        assertThat(TlsRptClassifier.forFailure(f, Optional.of(v), good.chain(), true, Instant.now()))
                .contains(TlsRptResult.TLSA_INVALID);
    }

    @Test
    void theHeloNameIsTheFirstWordOfTheGreeting() {
        assertThat(TlsRptClassifier.heloName("mx1.example.test ESMTP Postfix")).contains("mx1.example.test");
        assertThat(TlsRptClassifier.heloName("220 mx1.example.test ESMTP")).contains("mx1.example.test");
        assertThat(TlsRptClassifier.heloName("[192.0.2.1] ready")).contains("[192.0.2.1]");
        assertThat(TlsRptClassifier.heloName("")).isEmpty();
        assertThat(TlsRptClassifier.heloName("\"quoted\" junk")).isEmpty();
    }
}
