package dev.optls.tls.ftp;

import dev.optls.core.ftp.FtpReply;
import java.io.IOException;
import java.util.Optional;

/** The FTP server answered a command with a reply that does not let the operation go on. */
public final class FtpReplyException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient FtpReply reply;

    FtpReplyException(String message, FtpReply reply) {
        super(message);
        this.reply = reply;
    }

    /** The reply that ended the operation, when there was one. */
    public Optional<FtpReply> reply() {
        return Optional.ofNullable(reply);
    }
}
