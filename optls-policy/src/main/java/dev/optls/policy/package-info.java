/**
 * Outbound mail TLS policy (issue 5): what a sending MTA must require of each MX host.
 *
 * <p>What exists:
 *
 * <ul>
 *   <li>{@link dev.optls.policy.dns} — DNS lookups (MX, A/AAAA, TLSA, TXT, CNAME) with a DNSSEC status per answer
 *       (secure, insecure, bogus, indeterminate) and NXDOMAIN, NODATA and failures (SERVFAIL, timeout, bogus) kept
 *       apart; either optls validates (dnsjava's validating resolver, root KSK trust anchors bundled) or it believes
 *       the AD bit of a resolver the user declares trusted.
 *   <li>{@link dev.optls.policy.dane} — DANE for SMTP (RFC 7672, RFC 7671, RFC 6698): TLSA records, the usable-set
 *       rules, certificate matching (DANE-EE, DANE-TA with name checks) and the lookup rules per MX host (secure MX,
 *       secure addresses, TLSA base domain with CNAME expansion, failures make the host unusable).
 *   <li>{@link dev.optls.policy.sts} — MTA-STS (RFC 8461): the {@code _mta-sts} TXT record, the policy file and MX
 *       matching, the HTTPS fetch with its RFC 8461 §3.3 rules (PKIX for {@code mta-sts.<domain>}, 200 only, no
 *       redirects, {@code text/plain}, 64 KiB, time limits), and the cache rules (same id → cache, new id → fetch, a
 *       valid cached policy survives a failed fetch or a missing record, mode {@code none} → no policy) over a
 *       {@code PolicyCache} (in memory, SQLite or Redis), with proactive refresh on a schedule.
 *   <li>{@link dev.optls.policy.rpt} — TLS-RPT (RFC 8460): records, result types, aggregation, the report JSON,
 *       delivery by HTTPS and by DKIM-signed mail, on a daily schedule.
 *   <li>{@link dev.optls.policy.engine} — the policy per destination: DANE over MTA-STS over local policy.
 *   <li>{@link dev.optls.policy.client} — the SMTP client path that applies a plan and counts every session for
 *       TLS-RPT.
 *   <li>{@link dev.optls.policy.postfix} — the socketmap policy service Postfix consults ({@code smtp_tls_policy_maps}).
 * </ul>
 *
 * <p>What is next is in the module README.
 */
package dev.optls.policy;
