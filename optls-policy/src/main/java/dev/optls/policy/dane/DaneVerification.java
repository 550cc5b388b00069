package dev.optls.policy.dane;

import java.util.List;
import java.util.Objects;

/** Whether a server's certificate chain is authenticated by a TLSA RRset (RFC 7672 §3.1, RFC 7671 §5). */
public sealed interface DaneVerification permits DaneVerification.Authenticated, DaneVerification.NotAuthenticated {

    /** Whether the chain is authenticated. */
    default boolean authenticated() {
        return this instanceof Authenticated;
    }

    /**
     * A usable record matched: for DANE-EE the leaf (chain index 0); for DANE-TA the certificate at
     * {@code chainIndex}, or {@code -1} when the record carries the trust anchor's full key or certificate that the
     * server did not send.
     */
    record Authenticated(TlsaRecord record, int chainIndex, String detail) implements DaneVerification {
        /** Requires the record and detail. */
        public Authenticated {
            Objects.requireNonNull(record, "record");
            Objects.requireNonNull(detail, "detail");
        }
    }

    /**
     * No usable record matched (TLS-RPT {@code tlsa-invalid}, RFC 8460 §4.3.2): the reasons per record, in the order
     * tried.
     */
    record NotAuthenticated(List<String> reasons) implements DaneVerification {
        /** Copies the reasons. */
        public NotAuthenticated {
            reasons = List.copyOf(reasons);
        }
    }
}
