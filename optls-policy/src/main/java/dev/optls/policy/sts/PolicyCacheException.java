package dev.optls.policy.sts;

/**
 * A {@link PolicyCache} store could not be used: the SQLite file is corrupt or has a schema this version does not
 * know, Redis cannot be reached or holds an entry that is not a cache entry. The message names the store and what
 * to change (delete the file, check the server settings).
 */
public final class PolicyCacheException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An error with a message saying what happened and what to change. */
    public PolicyCacheException(String message) {
        super(message);
    }

    /** An error caused by {@code cause}. */
    public PolicyCacheException(String message, Throwable cause) {
        super(message, cause);
    }
}
