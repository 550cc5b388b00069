package dev.optls.policy.dane;

import dev.optls.policy.dns.DnsAnswer;
import java.util.List;
import java.util.Objects;

/**
 * What DANE says about one MX host (RFC 7672 §2.2, reference table "TLSA outcome"): not applicable (use the
 * pre-DANE policy), TLS required and authenticated by TLSA records, TLS required but unauthenticated (every record
 * unusable), or the host must not be used (a lookup failed).
 */
public sealed interface DaneOutcome
        permits DaneOutcome.NotApplicable, DaneOutcome.Required, DaneOutcome.EncryptOnly, DaneOutcome.HostUnusable {

    /** The MX host name (lower case, no trailing dot). */
    String host();

    /** Why this outcome, in a sentence for logs and reports. */
    String reason();

    /**
     * DANE does not apply: the MX RRset or the host's addresses are insecure, or there are securely no TLSA records.
     * The pre-DANE policy (opportunistic TLS or MTA-STS) decides.
     */
    record NotApplicable(String host, String reason) implements DaneOutcome {
        /** Requires both fields. */
        public NotApplicable {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * RFC 7672 §2.2: secure TLSA records with at least one usable: STARTTLS is mandatory and the certificate must
     * match ({@link DaneVerifier}); no STARTTLS or a mismatch means "do not deliver to this host".
     *
     * @param tlsaBaseDomain the name the TLSA records were found under; also the SNI to send (RFC 7672 §8.1)
     * @param usable the usable records, to authenticate with
     * @param records the whole RRset (for TLS-RPT policy-string)
     * @param referenceNames the names a DANE-TA leaf may present (RFC 7672 §3.2.2)
     */
    record Required(
            String host,
            String tlsaBaseDomain,
            List<TlsaRecord> usable,
            List<TlsaRecord> records,
            List<String> referenceNames,
            String reason)
            implements DaneOutcome {
        /** Copies the lists. */
        public Required {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(tlsaBaseDomain, "tlsaBaseDomain");
            Objects.requireNonNull(reason, "reason");
            usable = List.copyOf(usable);
            records = List.copyOf(records);
            referenceNames = List.copyOf(referenceNames);
            if (usable.isEmpty()) {
                throw new IllegalArgumentException("Required needs a usable record (use EncryptOnly)");
            }
        }

        /** The server name to send: the TLSA base domain (RFC 7672 §8.1). */
        public String sni() {
            return tlsaBaseDomain;
        }
    }

    /**
     * RFC 7672 §2.2: secure TLSA records, all unusable: STARTTLS is still mandatory, but the certificate is not
     * checked.
     */
    record EncryptOnly(String host, String tlsaBaseDomain, List<TlsaRecord> records, String reason)
            implements DaneOutcome {
        /** Copies the records. */
        public EncryptOnly {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(tlsaBaseDomain, "tlsaBaseDomain");
            Objects.requireNonNull(reason, "reason");
            records = List.copyOf(records);
        }
    }

    /**
     * RFC 7672 §2.1.2: a lookup failed (bogus, SERVFAIL, timeout, malformed), so this host is treated as
     * unreachable: try the next MX, else defer. {@code failed} is the failing answer when there is one.
     *
     * @param dnssecFailure whether DNSSEC validation failed (TLS-RPT {@code dnssec-invalid})
     */
    record HostUnusable(String host, String reason, boolean dnssecFailure, DnsAnswer<?> failed) implements DaneOutcome {
        /** Requires host and reason. */
        public HostUnusable {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
