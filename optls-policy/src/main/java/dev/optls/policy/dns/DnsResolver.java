package dev.optls.policy.dns;

import dev.optls.policy.dns.internal.DnsjavaResolver;
import java.net.InetAddress;

/**
 * DNS lookups with a DNSSEC status per answer. Two ways to learn the status:
 *
 * <ul>
 *   <li>{@link #validating(DnsConfig, TrustAnchors)}: optls validates every answer itself (dnsjava's
 *       {@code ValidatingResolver}, RFC 4033–4035) from the given trust anchors, through any recursive resolver;
 *   <li>{@link #trustingAdBitFrom(DnsConfig)}: the configured resolver validates and optls believes its AD bit
 *       (RFC 4035 §3.2.3, RFC 6840 §5.7), as Postfix does with {@code smtp_dns_support_level = dnssec}. Only for
 *       a validating resolver the user trusts, reached over a path nobody else can touch (loopback).
 * </ul>
 *
 * <p>Lookups never throw for anything the network or a peer does: every outcome is a {@link DnsAnswer}. Names
 * are ASCII (A-labels); a trailing dot is optional.
 */
public interface DnsResolver {

    /** MX records of {@code domain}, CNAMEs followed. */
    DnsAnswer<MxRecord> mx(String domain);

    /** A ({@code type} {@link RecordType#A}) or AAAA records of {@code host}, CNAMEs followed. */
    DnsAnswer<InetAddress> addresses(String host, RecordType type);

    /**
     * TXT records of {@code name}, CNAMEs followed; the character-strings of each record concatenated without
     * separator (RFC 8461 §3.1, RFC 8460 §3), bytes taken as ISO-8859-1 so that nothing is lost.
     */
    DnsAnswer<String> txt(String name);

    /** The CNAME target of {@code name} (not followed further). */
    DnsAnswer<String> cname(String name);

    /** TLSA records of {@code name} (e.g. {@code _25._tcp.mx.example.com}), CNAMEs followed. */
    DnsAnswer<RecordData> tlsa(String name);

    /** A resolver that validates DNSSEC itself from {@code anchors}, asking the recursive resolvers in config. */
    static DnsResolver validating(DnsConfig config, TrustAnchors anchors) {
        return DnsjavaResolver.validating(config, anchors);
    }

    /**
     * A resolver that takes the DNSSEC status from the AD bit of the configured resolvers. They must validate, and
     * the path to them must be trusted: anyone on it can set the AD bit.
     */
    static DnsResolver trustingAdBitFrom(DnsConfig config) {
        return DnsjavaResolver.trustingAdBit(config);
    }
}
