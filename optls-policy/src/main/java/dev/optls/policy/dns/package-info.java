/**
 * DNS with DNSSEC status. {@link dev.optls.policy.dns.DnsResolver} is the entry point: {@code validating(config,
 * TrustAnchors.root())} validates itself through any recursive resolver, {@code trustingAdBitFrom(config)} believes
 * the AD bit of a validating resolver the user trusts (as Postfix's {@code smtp_dns_support_level = dnssec}).
 * Every lookup returns a {@link dev.optls.policy.dns.DnsAnswer} — records, NXDOMAIN, NODATA or a failure — with a
 * {@link dev.optls.policy.dns.DnssecStatus}; nothing the network does throws. Time, record count and CNAME chain
 * length are bounded by {@link dev.optls.policy.dns.DnsConfig}.
 */
package dev.optls.policy.dns;
