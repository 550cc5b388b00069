package dev.optls.tls.ftp;

import java.util.Map;

/**
 * What an {@link FtpReadOnlyServer} demands of its clients.
 *
 * @param requireSessionReuse refuse (522) a TLS data connection that does not resume the control
 *     connection's session, as vsftpd {@code require_ssl_reuse=YES}, ProFTPD and FileZilla Server do
 *     (RFC 4217 §10.2: it proves that the data connection comes from the client of the control
 *     connection). Apache Commons Net's {@code FTPSClient} does not resume, so it needs {@code false}.
 * @param refuseClearData answer {@code PROT C} with 534 when TLS is active (data must be protected)
 * @param anonymous allow {@code USER anonymous} / {@code USER ftp} with any password
 * @param users further accounts, name to password
 */
public record FtpServerPolicy(
        boolean requireSessionReuse, boolean refuseClearData, boolean anonymous, Map<String, String> users) {
    /** The secure default: reuse required, clear data refused, anonymous read-only access. */
    public static final FtpServerPolicy SECURE = new FtpServerPolicy(true, true, true, Map.of());

    public FtpServerPolicy {
        users = Map.copyOf(users);
    }

    /** A copy with the session-reuse requirement switched. */
    public FtpServerPolicy withRequireSessionReuse(boolean required) {
        return new FtpServerPolicy(required, refuseClearData, anonymous, users);
    }

    /** A copy with the PROT C policy switched. */
    public FtpServerPolicy withRefuseClearData(boolean refuse) {
        return new FtpServerPolicy(requireSessionReuse, refuse, anonymous, users);
    }
}
