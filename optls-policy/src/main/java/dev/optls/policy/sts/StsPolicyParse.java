package dev.optls.policy.sts;

import java.util.Objects;

/** The result of parsing a policy file: a policy, or why it is invalid. Never an exception for peer input. */
public sealed interface StsPolicyParse permits StsPolicyParse.Parsed, StsPolicyParse.Invalid {

    /** A valid policy. */
    record Parsed(StsPolicy policy) implements StsPolicyParse {
        /** Requires a policy. */
        public Parsed {
            Objects.requireNonNull(policy, "policy");
        }
    }

    /** The body is not a valid policy (TLS-RPT {@code sts-policy-invalid}); the reason names the line. */
    record Invalid(String reason) implements StsPolicyParse {
        /** Requires a reason. */
        public Invalid {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
