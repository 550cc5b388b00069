package dev.optls.tls;

/**
 * Local TLS configuration is unusable: a PEM file that cannot be read, holds no certificate, holds an
 * encrypted key, or a key that does not belong to the certificate. The message names the file, what was
 * wrong and what to do.
 */
public final class TlsConfigException extends RuntimeException {
    /** A configuration error with a message a person can act on. */
    public TlsConfigException(String message) {
        super(message);
    }

    /** A configuration error caused by a lower-level exception. */
    public TlsConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
