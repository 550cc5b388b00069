package dev.optls.policy.sts;

import dev.optls.policy.rpt.TlsRptResult;

/** Why a policy fetch (RFC 8461 §3.3) failed, each with the TLS-RPT result type it is reported as (RFC 8460 §4.3.2.2). */
public enum StsFetchFailure {
    /** The policy host could not be resolved or connected to. */
    CONNECT(TlsRptResult.STS_POLICY_FETCH_ERROR),
    /** No complete response within the time limit (connect, headers or body). */
    TIMEOUT(TlsRptResult.STS_POLICY_FETCH_ERROR),
    /** RFC 8461 §3.3: 3xx redirects must not be followed — a 3xx is a failed fetch. */
    REDIRECT(TlsRptResult.STS_POLICY_FETCH_ERROR),
    /** RFC 8461 §3.3: only HTTP 200 is a valid response (404: no policy is served). */
    HTTP_STATUS(TlsRptResult.STS_POLICY_FETCH_ERROR),
    /** The TLS handshake failed for a reason other than the certificate (no common protocol version or cipher). */
    TLS(TlsRptResult.STS_POLICY_FETCH_ERROR),
    /** The exchange broke (connection reset, malformed HTTP). */
    IO(TlsRptResult.STS_POLICY_FETCH_ERROR),
    /** RFC 8461 §3.3: the media type is not {@code text/plain}. */
    CONTENT_TYPE(TlsRptResult.STS_POLICY_INVALID),
    /** RFC 8461 §3.3: the body is larger than {@link StsPolicy#MAX_SIZE}. */
    TOO_LARGE(TlsRptResult.STS_POLICY_INVALID),
    /** RFC 8461 §3.2: the body is not a valid policy. */
    POLICY_SYNTAX(TlsRptResult.STS_POLICY_INVALID),
    /** RFC 8461 §3.3: the certificate (or one of its issuers) is expired or not yet valid. */
    CERTIFICATE_EXPIRED(TlsRptResult.STS_WEBPKI_INVALID),
    /** RFC 8461 §3.3: the chain does not lead to a trusted root. */
    CERTIFICATE_NOT_TRUSTED(TlsRptResult.STS_WEBPKI_INVALID),
    /** RFC 8461 §3.3: the certificate is not valid for {@code mta-sts.<domain>}. */
    CERTIFICATE_NAME_MISMATCH(TlsRptResult.STS_WEBPKI_INVALID);

    private final TlsRptResult tlsRptResult;

    StsFetchFailure(TlsRptResult tlsRptResult) {
        this.tlsRptResult = tlsRptResult;
    }

    /** The TLS-RPT result type to report this failure as. */
    public TlsRptResult tlsRptResult() {
        return tlsRptResult;
    }
}
