package dev.optls.core;

/** Who is at fault for a {@link Failure}. */
public enum Blame {
    /** The other side broke the protocol or refused what we need. */
    PEER,
    /** Our own configuration or environment. */
    LOCAL,
    /** The network: connect failure, reset, timeout. */
    NETWORK,
    /** The peer behaved legally, but local policy does not accept the result (e.g. no STARTTLS). */
    POLICY
}
