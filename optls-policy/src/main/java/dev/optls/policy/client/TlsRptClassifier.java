package dev.optls.policy.client;

import dev.optls.core.Failure;
import dev.optls.policy.rpt.TlsRptResult;
import dev.optls.tls.Verification;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The RFC 8460 §4.3 result type of a failed session. Pure: the time is passed in.
 *
 * <ul>
 *   <li>no STARTTLS, or STARTTLS refused → {@code starttls-not-supported} (§4.3.1);
 *   <li>the certificate matches no usable TLSA record → {@code tlsa-invalid} (§4.3.2.1);
 *   <li>a certificate of the chain past its end date → {@code certificate-expired}; a chain that does not lead to a
 *       trusted root → {@code certificate-not-trusted}; a chain that does but whose leaf does not present the
 *       reference name → {@code certificate-host-mismatch} (§4.3.1); the chain problem is reported before the name
 *       when both are wrong, because a name in an untrusted certificate means nothing;
 *   <li>any other failure once the connection was up (a handshake failure, a certificate not yet valid, a broken
 *       reply) → {@code validation-failure};
 *   <li>a TCP connection that could not be made is not a TLS negotiation: nothing is reported.
 * </ul>
 */
public final class TlsRptClassifier {

    private TlsRptClassifier() {}

    /**
     * The result type for a session that ended with {@code failure}.
     *
     * @param failure why the session failed
     * @param verification the WebPKI check of the server certificate, when one was seen
     * @param chain the server's certificates, leaf first, when seen
     * @param tlsaMismatch whether the session ended because the certificate matched no usable TLSA record
     * @param now the time the certificate was checked at
     * @return empty when the failure is not a TLS negotiation failure (the connection could not be made)
     */
    public static Optional<TlsRptResult> forFailure(
            Failure failure,
            Optional<Verification> verification,
            List<X509Certificate> chain,
            boolean tlsaMismatch,
            Instant now) {
        if (tlsaMismatch) {
            return Optional.of(TlsRptResult.TLSA_INVALID);
        }
        return switch (failure.kind()) {
            case STARTTLS_NOT_OFFERED, STARTTLS_REFUSED, EXTENDED_HELLO_REFUSED ->
                Optional.of(TlsRptResult.STARTTLS_NOT_SUPPORTED);
            case CONNECT_FAILED -> Optional.empty();
            case TIMEOUT ->
                failure.phase() == dev.optls.core.Phase.CONNECT
                        ? Optional.empty()
                        : Optional.of(TlsRptResult.VALIDATION_FAILURE);
            case CERTIFICATE_INVALID ->
                Optional.of(verification
                        .flatMap(v -> forCertificate(v, chain, now))
                        .orElse(TlsRptResult.VALIDATION_FAILURE));
            default -> Optional.of(TlsRptResult.VALIDATION_FAILURE);
        };
    }

    /**
     * The result type for a certificate check, empty when the check passed.
     *
     * @param verification the chain and name check
     * @param chain the certificates, leaf first
     * @param now the time the chain was checked at
     */
    public static Optional<TlsRptResult> forCertificate(
            Verification verification, List<X509Certificate> chain, Instant now) {
        if (verification.valid()) {
            return Optional.empty();
        }
        if (chain.isEmpty()) {
            return Optional.of(TlsRptResult.VALIDATION_FAILURE);
        }
        if (!verification.chainValid()) {
            for (X509Certificate certificate : chain) {
                if (now.isAfter(certificate.getNotAfter().toInstant())) {
                    return Optional.of(TlsRptResult.CERTIFICATE_EXPIRED);
                }
            }
            for (X509Certificate certificate : chain) {
                if (now.isBefore(certificate.getNotBefore().toInstant())) {
                    // RFC 8460 has no type for "not yet valid": the general one.
                    return Optional.of(TlsRptResult.VALIDATION_FAILURE);
                }
            }
            return Optional.of(TlsRptResult.CERTIFICATE_NOT_TRUSTED);
        }
        return Optional.of(TlsRptResult.CERTIFICATE_HOST_MISMATCH);
    }

    /** The MX host's name from an SMTP greeting text ({@code mx.example.org ESMTP ...}), if it starts with one. */
    public static Optional<String> heloName(String greeting) {
        String text = greeting.strip();
        if (text.length() >= 4
                && text.substring(0, 3).chars().allMatch(Character::isDigit)
                && (text.charAt(3) == ' ' || text.charAt(3) == '-')) {
            text = text.substring(4).strip();
        }
        int space = text.indexOf(' ');
        String first = space < 0 ? text : text.substring(0, space);
        // RFC 5321 §4.3.1: the greeting starts with the server's domain or address literal; anything else is kept
        // out of the report.
        return first.isEmpty() || first.length() > 255 || !first.matches("[A-Za-z0-9.\\-\\[\\]:_]+")
                ? Optional.empty()
                : Optional.of(first);
    }
}
