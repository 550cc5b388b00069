package dev.optls.policy.rpt;

import java.util.Objects;

/**
 * What one failed session looked like (RFC 8460 §4.4 {@code failure-details} without the count). Equal failures
 * are counted together. Every field but the result type may be {@code null} (then omitted from the JSON).
 *
 * @param resultType the result type
 * @param sendingMtaIp the IP address of the sending MTA (IPv4 or IPv6 text)
 * @param receivingMxHostname the MX host name
 * @param receivingMxHelo the name the receiving MX gave in its greeting or EHLO reply
 * @param receivingIp the IP address of the receiving MX
 * @param additionalInformation a URI with more information
 * @param failureReasonCode a free-form code, e.g. a TLS library error
 */
public record SessionFailure(
        TlsRptResult resultType,
        String sendingMtaIp,
        String receivingMxHostname,
        String receivingMxHelo,
        String receivingIp,
        String additionalInformation,
        String failureReasonCode) {

    /** Requires the result type. */
    public SessionFailure {
        Objects.requireNonNull(resultType, "resultType");
    }

    /** A failure with only the result type and the MX host. */
    public static SessionFailure of(TlsRptResult resultType, String receivingMxHostname) {
        return new SessionFailure(resultType, null, receivingMxHostname, null, null, null, null);
    }
}
