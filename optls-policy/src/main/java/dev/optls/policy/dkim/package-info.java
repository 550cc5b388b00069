/**
 * DKIM signing (RFC 6376) for TLS-RPT report mail (RFC 8460 §5.3): {@link dev.optls.policy.dkim.DkimKey} loads a
 * PKCS#8 RSA or Ed25519 key (RFC 8463) and gives the key record to publish, {@link dev.optls.policy.dkim.DkimSigner}
 * prepends a {@code DKIM-Signature} with relaxed/relaxed canonicalization ({@link
 * dev.optls.policy.dkim.DkimCanonicalization}). JDK only.
 */
package dev.optls.policy.dkim;
