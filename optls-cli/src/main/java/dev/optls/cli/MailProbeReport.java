package dev.optls.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * What {@code optls probe mail DOMAIN} (and {@code optls probe smtp://DOMAIN --mx}) found, shaped for {@code --json}.
 * Absent parts are left out.
 *
 * @param domain the mail domain
 * @param verdict one verdict with its reason
 * @param policy the policy that applies (DANE over MTA-STS over local policy), from the policy engine; absent for
 *     {@code --mx}
 * @param mx the MX lookup and each host
 * @param mtaSts the MTA-STS record and policy, fetched fresh; absent for {@code --mx}
 * @param tlsRpt the TLS-RPT record; absent for {@code --mx}
 * @param millis how long the probe took
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MailProbeReport(
        String domain, Verdict verdict, Policy policy, Mx mx, MtaSts mtaSts, TlsRpt tlsRpt, long millis) {

    /**
     * The verdict.
     *
     * @param status {@code secure} (DANE or MTA-STS enforce met on every MX), {@code opportunistic} (no policy that
     *     stops STARTTLS stripping, or MTA-STS testing), {@code degraded} (the policy fails on some MX hosts; mail
     *     goes to the others), {@code fail} (no MX host meets the policy, or the domain has no usable MX); for
     *     {@code --mx}: {@code ok} or {@code fail} against {@code --level}
     * @param reason why, in a sentence
     */
    public record Verdict(String status, String reason) {}

    /** The engine's decision: source ({@code dane}, {@code mta-sts-enforce}...), status and reason. */
    public record Policy(String source, String status, String reason) {}

    /**
     * The MX lookup.
     *
     * @param lookup {@code records}, {@code nxdomain}, {@code nodata} (the domain is its own host) or {@code failed}
     * @param dnssec the DNSSEC status of the MX RRset
     * @param detail what failed, for a failed lookup
     * @param hosts each MX host, in preference order
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Mx(String lookup, String dnssec, String detail, List<Host> hosts) {}

    /**
     * One MX host.
     *
     * @param host the host name
     * @param preference its MX preference
     * @param requirement what the policy requires of it ({@code dane}, {@code sts-enforce}, {@code skip}...)
     * @param planReason the engine's reason
     * @param addresses the A and AAAA records with their DNSSEC status
     * @param probed the address connected to (the first one)
     * @param starttls {@code offered}, {@code not-offered}, {@code refused}, or {@code not-probed}/{@code
     *     connect-failed}/{@code handshake-failed}/{@code peer-violation}
     * @param greeting the greeting text
     * @param tls version and cipher when TLS came up
     * @param certificate the leaf certificate
     * @param pkix the WebPKI check of the chain and the MX host name
     * @param dane DANE for this host, when it publishes TLSA records or DANE was looked up
     * @param stsListed whether the MTA-STS policy lists the host (absent without a policy)
     * @param problem what went wrong connecting, if anything
     * @param verdict {@code ok}, {@code warning} or {@code fail}, with the reason
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Host(
            String host,
            int preference,
            String requirement,
            String planReason,
            List<Address> addresses,
            String probed,
            String starttls,
            String greeting,
            ProbeReport.Tls tls,
            ProbeReport.Certificate certificate,
            Pkix pkix,
            Dane dane,
            Boolean stsListed,
            String problem,
            Verdict verdict) {}

    /** An address with the DNSSEC status of its RRset. */
    public record Address(String address, String dnssec) {}

    /** The WebPKI check: chain to a trusted root, the MX host name in the certificate. */
    public record Pkix(boolean chainValid, boolean nameMatches, String reason) {}

    /**
     * DANE for one host.
     *
     * @param outcome {@code required}, {@code encrypt-only}, {@code not-applicable} or {@code host-unusable}
     * @param reason the DANE lookup's reason
     * @param tlsaName the owner name of the TLSA records looked up
     * @param dnssec the DNSSEC status of the TLSA answer
     * @param records each record with its match result
     * @param authenticated whether the certificate matched a usable record (absent when not probed)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Dane(
            String outcome,
            String reason,
            String tlsaName,
            String dnssec,
            List<TlsaMatch> records,
            Boolean authenticated) {}

    /**
     * One TLSA record.
     *
     * @param record the record in presentation form
     * @param usable whether an SMTP client may use it (DANE-TA/DANE-EE, known selector and matching type)
     * @param match {@code match}, {@code no-match}, {@code unusable} or {@code not-probed}
     * @param detail why
     */
    public record TlsaMatch(String record, boolean usable, String match, String detail) {}

    /**
     * MTA-STS.
     *
     * @param record the {@code _mta-sts} TXT outcome: {@code valid}, {@code absent}, {@code invalid}, {@code
     *     multiple}, or {@code lookup-failed}
     * @param id the record's id
     * @param dnssec the DNSSEC status of the TXT answer
     * @param decision {@code apply} or {@code no-policy}
     * @param mode {@code enforce}, {@code testing} or {@code none}
     * @param mx the policy's mx patterns
     * @param policy the policy text as fetched
     * @param fetchFailure the TLS-RPT type and detail of a failed fetch
     * @param reason the resolver's reason
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record MtaSts(
            String record,
            String id,
            String dnssec,
            String decision,
            String mode,
            List<String> mx,
            String policy,
            String fetchFailure,
            String reason) {}

    /**
     * TLS-RPT.
     *
     * @param record {@code valid}, {@code absent}, {@code invalid}, {@code multiple} or {@code lookup-failed}
     * @param rua the report destinations
     * @param reason why, when not valid
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TlsRpt(String record, List<String> rua, String reason) {}
}
