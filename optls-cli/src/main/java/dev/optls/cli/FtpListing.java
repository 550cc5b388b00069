package dev.optls.cli;

import dev.optls.core.Limits;
import dev.optls.tls.ClientTls;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.Timeouts;
import dev.optls.tls.ftp.FtpClientSession;
import dev.optls.tls.ftp.FtpTransfer;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * {@code optls probe ftp://… --list}: a directory listing over the data channel, proving that data
 * connections work with the server's TLS policy (PBSZ 0, PROT P, session resumption).
 *
 * @param path the listed path (empty: the login directory)
 * @param user the login name
 * @param dataTls whether the data connection ran TLS ({@code PROT P})
 * @param dataTlsVersion its TLS version, or null
 * @param sessionResumed whether it resumed the control connection's TLS session, or null without TLS
 * @param closeNotify whether the server ended the TLS data stream with close_notify, or null without TLS
 * @param lines the listing, one entry per line
 * @param error why there is no listing, or null
 */
public record FtpListing(
        String path,
        String user,
        boolean dataTls,
        String dataTlsVersion,
        Boolean sessionResumed,
        Boolean closeNotify,
        List<String> lines,
        String error) {

    /** Logs in on the probe's open control connection, protects data when TLS is up, and lists. */
    static FtpListing run(
            ClientSession session, ClientTls tls, Timeouts timeouts, String path, String user, String password) {
        if (session.socket().isEmpty()) {
            return failed(path, user, "no connection to list on: the probe failed");
        }
        try {
            FtpClientSession ftp = FtpClientSession.over(
                    session, session.tls().isPresent() ? Optional.of(tls) : Optional.empty(), timeouts, Limits.DEFAULT);
            ftp.login(user, password);
            if (ftp.controlProtected()) {
                ftp.protectData();
            }
            FtpTransfer t = ftp.list(path);
            try {
                ftp.quit();
            } catch (IOException ignored) {
                // The listing is complete; a failed QUIT changes nothing.
            }
            return new FtpListing(
                    path,
                    user,
                    t.tlsProtected(),
                    t.tlsProtected() ? t.tlsVersion() : null,
                    t.tlsProtected() ? t.resumed() : null,
                    t.tlsProtected() ? t.closeNotify() : null,
                    t.text().lines().toList(),
                    null);
        } catch (IOException | RuntimeException e) {
            return failed(path, user, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private static FtpListing failed(String path, String user, String error) {
        return new FtpListing(path, user, false, null, null, null, List.of(), error);
    }

    /** The text rendering, after the probe report. */
    String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("FTP listing of ")
                .append(path.isEmpty() ? "the login directory" : path)
                .append(" as ")
                .append(user)
                .append('\n');
        if (error != null) {
            sb.append("  failed: ").append(error).append('\n');
            return sb.toString();
        }
        sb.append("  data channel: ")
                .append(dataTls ? "TLS " + dataTlsVersion : "plaintext (no TLS on the control connection)");
        if (dataTls) {
            sb.append(", control session resumed: ")
                    .append(Boolean.TRUE.equals(sessionResumed) ? "yes" : "no")
                    .append(", close_notify: ")
                    .append(Boolean.TRUE.equals(closeNotify) ? "yes" : "no");
        }
        sb.append('\n');
        for (String line : lines) {
            sb.append("  ").append(line).append('\n');
        }
        return sb.toString();
    }
}
