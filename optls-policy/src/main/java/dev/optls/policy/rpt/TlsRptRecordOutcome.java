package dev.optls.policy.rpt;

import java.util.List;
import java.util.Objects;

/**
 * What the {@code _smtp._tls} TXT records of a policy domain say (RFC 8460 §3). Peer input never throws: every
 * record set gives one of these values, and only {@link Valid} means reports are wanted.
 */
public sealed interface TlsRptRecordOutcome
        permits TlsRptRecordOutcome.Valid,
                TlsRptRecordOutcome.Absent,
                TlsRptRecordOutcome.Invalid,
                TlsRptRecordOutcome.Multiple,
                TlsRptRecordOutcome.LookupFailed {

    /** Exactly one record beginning with {@code v=TLSRPTv1;}, and it is valid. */
    record Valid(TlsRptRecord record) implements TlsRptRecordOutcome {
        /** Requires a record. */
        public Valid {
            Objects.requireNonNull(record, "record");
        }
    }

    /** No TXT record, or none that begins with {@code v=TLSRPTv1;}: the domain wants no reports. */
    record Absent(String reason) implements TlsRptRecordOutcome {
        /** Requires a reason. */
        public Absent {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The one TLSRPTv1 record is not valid (syntax, no {@code rua}, no usable URI): no reports are sent. */
    record Invalid(String text, String reason) implements TlsRptRecordOutcome {
        /** Requires the record text and a reason. */
        public Invalid {
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * RFC 8460 §3: more than one record begins with {@code v=TLSRPTv1;} ("If the number of resulting records is not
     * one, senders MUST assume the recipient domain does not implement TLSRPT").
     */
    record Multiple(List<String> records) implements TlsRptRecordOutcome {
        /** Copies the records. */
        public Multiple {
            records = List.copyOf(records);
        }
    }

    /** The TXT lookup itself failed (SERVFAIL, timeout, bogus DNSSEC...): whether reports are wanted is unknown. */
    record LookupFailed(String owner, String reason) implements TlsRptRecordOutcome {
        /** Requires the owner name and a reason. */
        public LookupFailed {
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
