package dev.optls.policy.sts;

import java.util.List;
import java.util.Objects;

/**
 * What the {@code _mta-sts} TXT records of a policy domain say (RFC 8461 §3.1). Peer input never throws: every
 * record set gives one of these values.
 */
public sealed interface StsRecordOutcome
        permits StsRecordOutcome.Valid, StsRecordOutcome.Absent, StsRecordOutcome.Invalid, StsRecordOutcome.Multiple {

    /** Exactly one record beginning with {@code v=STSv1;}, and it is valid. */
    record Valid(StsRecord record) implements StsRecordOutcome {
        /** Requires a record. */
        public Valid {
            Objects.requireNonNull(record, "record");
        }
    }

    /** No TXT record, or none that begins with {@code v=STSv1;}: the domain publishes no MTA-STS record. */
    record Absent(String reason) implements StsRecordOutcome {
        /** Requires a reason. */
        public Absent {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * RFC 8461 §3.1: the one STSv1 record is syntactically invalid, so the sender "MUST assume the recipient domain
     * does not have an available MTA-STS Policy".
     */
    record Invalid(String text, String reason) implements StsRecordOutcome {
        /** Requires the record text and a reason. */
        public Invalid {
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * RFC 8461 §3.1: more than one record begins with {@code v=STSv1;} ("If the number of resulting records is not
     * one ... senders MUST assume the recipient domain does not have an available MTA-STS Policy").
     */
    record Multiple(List<String> records) implements StsRecordOutcome {
        /** Copies the records. */
        public Multiple {
            records = List.copyOf(records);
        }
    }
}
