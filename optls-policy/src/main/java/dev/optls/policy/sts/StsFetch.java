package dev.optls.policy.sts;

import dev.optls.policy.rpt.TlsRptResult;
import java.util.Objects;

/** The outcome of fetching a policy over HTTPS (RFC 8461 §3.3). Nothing the network or the peer does throws. */
public sealed interface StsFetch permits StsFetch.Fetched, StsFetch.Failed {

    /** A valid policy, fetched and parsed. */
    record Fetched(StsPolicy policy) implements StsFetch {
        /** Requires a policy. */
        public Fetched {
            Objects.requireNonNull(policy, "policy");
        }
    }

    /** No valid policy: what went wrong and, for people, the details. */
    record Failed(StsFetchFailure failure, String detail) implements StsFetch {
        /** Requires both parts. */
        public Failed {
            Objects.requireNonNull(failure, "failure");
            Objects.requireNonNull(detail, "detail");
        }

        /** The TLS-RPT result type to report (RFC 8460 §4.3.2.2). */
        public TlsRptResult tlsRptResult() {
            return failure.tlsRptResult();
        }
    }
}
