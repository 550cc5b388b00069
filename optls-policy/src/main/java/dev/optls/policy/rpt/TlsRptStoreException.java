package dev.optls.policy.rpt;

/**
 * A {@link TlsRptStore} could not be used: the SQLite file is corrupt, has a schema this version does not know, or
 * cannot be written. The message names the file and what to change.
 */
public final class TlsRptStoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An error with a message saying what happened and what to change; {@code cause} may be null. */
    public TlsRptStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
