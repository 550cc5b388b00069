package dev.optls.policy.rpt;

/**
 * The result types of RFC 8460 §4.3 (IANA "STARTTLS Validation Result Types"), as they appear in the
 * {@code result-type} field of a TLS-RPT report.
 */
public enum TlsRptResult {
    /** RFC 8460 §4.3.1: the receiving MX did not offer STARTTLS. */
    STARTTLS_NOT_SUPPORTED("starttls-not-supported"),
    /** RFC 8460 §4.3.1: the certificate does not name the host. */
    CERTIFICATE_HOST_MISMATCH("certificate-host-mismatch"),
    /** RFC 8460 §4.3.1: the certificate has expired. */
    CERTIFICATE_EXPIRED("certificate-expired"),
    /** RFC 8460 §4.3.1: the certificate does not chain to a trusted root. */
    CERTIFICATE_NOT_TRUSTED("certificate-not-trusted"),
    /** RFC 8460 §4.3.1: any other failure to validate the session. */
    VALIDATION_FAILURE("validation-failure"),
    /** RFC 8460 §4.3.2.1: no TLSA record matched, or the records are unusable. */
    TLSA_INVALID("tlsa-invalid"),
    /** RFC 8460 §4.3.2.1: DNSSEC validation of the TLSA lookup failed. */
    DNSSEC_INVALID("dnssec-invalid"),
    /** RFC 8460 §4.3.2.1: DANE was required by agreement (RFC 7672 §6) but could not be used. */
    DANE_REQUIRED("dane-required"),
    /** RFC 8460 §4.3.2.2: the MTA-STS policy could not be retrieved (host unreachable, HTTP error, redirect). */
    STS_POLICY_FETCH_ERROR("sts-policy-fetch-error"),
    /** RFC 8460 §4.3.2.2: the retrieved MTA-STS policy is not valid. */
    STS_POLICY_INVALID("sts-policy-invalid"),
    /** RFC 8460 §4.3.2.2: the MTA-STS policy host failed PKIX (WebPKI) validation. */
    STS_WEBPKI_INVALID("sts-webpki-invalid");

    private final String wireName;

    TlsRptResult(String wireName) {
        this.wireName = wireName;
    }

    /** The registered name, e.g. {@code sts-policy-fetch-error}. */
    public String wireName() {
        return wireName;
    }
}
