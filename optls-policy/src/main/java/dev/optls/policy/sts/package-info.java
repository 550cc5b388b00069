/**
 * MTA-STS (RFC 8461) for a sending MTA. {@link dev.optls.policy.sts.StsRecord} parses the {@code _mta-sts} TXT
 * record and picks the one STSv1 record ({@link dev.optls.policy.sts.StsRecordOutcome}: valid, absent, invalid,
 * several); {@link dev.optls.policy.sts.StsPolicy} parses the policy file (bounded to 64 KiB, LF or CRLF, unknown
 * fields ignored, first of a repeated field wins, {@code max_age} capped) and matches MX host names against its
 * {@link dev.optls.policy.sts.MxPattern}s; {@link dev.optls.policy.sts.HttpsPolicyFetcher} fetches the policy as
 * RFC 8461 §3.3 requires, every failure a {@link dev.optls.policy.sts.StsFetchFailure} with its TLS-RPT result
 * type; {@link dev.optls.policy.sts.MtaStsResolver} applies the discovery and cache rules over a
 * {@link dev.optls.policy.sts.PolicyCache} (in memory, {@link dev.optls.policy.sts.SqlitePolicyCache} on disk or
 * {@link dev.optls.policy.sts.RedisPolicyCache} shared) and returns a {@link dev.optls.policy.sts.StsDecision}, and
 * refreshes cached policies before they expire ({@link dev.optls.policy.sts.StsRefresh}), daily with back-off per
 * domain through {@link dev.optls.policy.sts.RefreshSchedule}. Peer input never throws;
 * a store that cannot be used throws {@link dev.optls.policy.sts.PolicyCacheException}; time is passed in.
 */
package dev.optls.policy.sts;
