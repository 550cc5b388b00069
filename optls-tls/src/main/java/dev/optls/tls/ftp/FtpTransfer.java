package dev.optls.tls.ftp;

import dev.optls.core.ftp.FtpReply;

/**
 * One completed data transfer.
 *
 * @param data the bytes received
 * @param tlsProtected whether the data connection ran TLS ({@code PROT P})
 * @param tlsVersion the data connection's TLS version, or an empty string
 * @param resumed whether the data connection resumed the control connection's TLS session
 * @param closeNotify whether the server ended the TLS data stream with close_notify (not truncated)
 * @param completion the final reply (226 or 250)
 */
public record FtpTransfer(
        byte[] data,
        boolean tlsProtected,
        String tlsVersion,
        boolean resumed,
        boolean closeNotify,
        FtpReply completion) {
    public FtpTransfer {
        data = data.clone();
    }

    /** The bytes received. */
    @Override
    public byte[] data() {
        return data.clone();
    }

    /** The data as text (listings). */
    public String text() {
        return new String(data, java.nio.charset.StandardCharsets.UTF_8);
    }
}
