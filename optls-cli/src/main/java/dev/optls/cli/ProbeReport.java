package dev.optls.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * What one probe found, shaped for {@code --json}: one object per target.
 *
 * @param target the URI probed
 * @param protocol the scheme ({@code smtp}, {@code imaps}...)
 * @param host host connected to
 * @param port port connected to
 * @param level the security level asked for
 * @param outcome {@code tls}, {@code plaintext}, {@code starttls-not-offered}, {@code starttls-refused},
 *     {@code handshake-failed}, {@code certificate-invalid}, {@code peer-violation} or {@code connect-failed}
 * @param satisfied whether the level was satisfied (exit code 0)
 * @param greeting the server greeting text, if one was read
 * @param capabilities what was advertised before and after TLS
 * @param tls protocol version, cipher and ALPN, when TLS came up
 * @param certificate the server's leaf certificate, when one was seen
 * @param verification whether the chain and name verified (checked at every level, enforced at verify)
 * @param failure why TLS is not in use or the probe failed
 * @param millis how long the probe took
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProbeReport(
        String target,
        String protocol,
        String host,
        int port,
        String level,
        String outcome,
        boolean satisfied,
        String greeting,
        Capabilities capabilities,
        Tls tls,
        Certificate certificate,
        Verification verification,
        FailureInfo failure,
        long millis) {

    /** Capabilities before and after TLS. */
    public record Capabilities(List<String> before, List<String> after) {}

    /** The negotiated TLS parameters; {@code alpn} is left out when none was agreed. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Tls(String version, String cipher, String alpn) {}

    /** The leaf certificate. */
    public record Certificate(
            String subject,
            List<String> sans,
            String issuer,
            String notBefore,
            String notAfter,
            String sha256,
            String spkiSha256,
            int chainLength) {}

    /** The verification result. */
    public record Verification(String result, boolean chainValid, boolean nameMatches, String reason) {}

    /** A failure, as in {@link dev.optls.core.Failure}. */
    public record FailureInfo(String kind, String blame, String phase, String detail, boolean temporary) {}
}
