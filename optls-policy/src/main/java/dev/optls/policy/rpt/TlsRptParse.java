package dev.optls.policy.rpt;

import java.util.Objects;

/** The outcome of reading a TLS-RPT report's JSON ({@link TlsRptJson#parse}): a report or why not. */
public sealed interface TlsRptParse permits TlsRptParse.Parsed, TlsRptParse.Malformed {

    /** The JSON is a report. */
    record Parsed(TlsRptReport report) implements TlsRptParse {
        /** Requires the report. */
        public Parsed {
            Objects.requireNonNull(report, "report");
        }
    }

    /** The JSON is not a report this reader understands; {@code reason} says where. */
    record Malformed(String reason) implements TlsRptParse {
        /** Requires a reason. */
        public Malformed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
