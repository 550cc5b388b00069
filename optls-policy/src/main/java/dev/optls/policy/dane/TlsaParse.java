package dev.optls.policy.dane;

import java.util.Objects;

/** The result of parsing a TLSA record: the record, or why it is malformed. Peer data never throws. */
public sealed interface TlsaParse permits TlsaParse.Parsed, TlsaParse.Malformed {

    /** A record that parsed (it may still be unusable: see {@link TlsaRecord#unusableReason()}). */
    record Parsed(TlsaRecord record) implements TlsaParse {
        /** Requires the record. */
        public Parsed {
            Objects.requireNonNull(record, "record");
        }
    }

    /** Input that is not a TLSA record at all. */
    record Malformed(String reason) implements TlsaParse {
        /** Requires the reason. */
        public Malformed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
