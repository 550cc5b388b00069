/** The dnsjava-based implementation of {@link dev.optls.policy.dns.DnsResolver}; not API. */
package dev.optls.policy.dns.internal;
