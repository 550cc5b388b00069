/**
 * DANE for SMTP (RFC 7672, RFC 7671, RFC 6698). {@link dev.optls.policy.dane.TlsaRecord} parses TLSA RDATA (wire
 * and presentation, bounded; malformed input is a value) and knows which records an SMTP client may use;
 * {@link dev.optls.policy.dane.DaneLookup} applies the lookup rules per MX host and returns a
 * {@link dev.optls.policy.dane.DaneOutcome}; {@link dev.optls.policy.dane.DaneVerifier} matches the server's
 * certificate chain against the usable records. No I/O here: DNS comes through a
 * {@link dev.optls.policy.dns.DnsResolver}.
 */
package dev.optls.policy.dane;
