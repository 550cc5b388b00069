package dev.optls.cli;

/** Exit codes of the optls command; each is documented in {@code --help}. */
public final class ExitCodes {
    /** The level was satisfied (probe) / every demo row was as expected. */
    public static final int OK = 0;
    /** Internal error: a bug in optls. */
    public static final int INTERNAL = 1;
    /** Wrong usage: unknown option, bad URI, unreadable file. */
    public static final int USAGE = 2;
    /** Could not connect (refused, unreachable, connect timeout). */
    public static final int CONNECT_FAILED = 3;
    /** The level requires TLS but STARTTLS was not offered or was refused. */
    public static final int NO_TLS = 4;
    /** The TLS handshake failed. */
    public static final int HANDSHAKE_FAILED = 5;
    /** The certificate did not verify at level verify. */
    public static final int CERTIFICATE_INVALID = 6;
    /** The server broke the protocol (malformed reply, injection, unexpected close, timeout). */
    public static final int PEER_VIOLATION = 7;
    /** Demo: at least one row was not as expected. */
    public static final int DEMO_MISMATCH = 8;
    /** Mail probe: no DANE or MTA-STS enforce, so STARTTLS can be stripped (no policy, or MTA-STS testing). */
    public static final int MAIL_OPPORTUNISTIC = 10;
    /** Mail probe: the policy fails on some MX hosts; mail still goes to the others. */
    public static final int MAIL_DEGRADED = 11;
    /** Mail probe: no MX host meets the policy (mail would be deferred), or no usable MX; --mx: an MX fails --level. */
    public static final int MAIL_FAILED = 12;

    /** The text for {@code --help}. */
    public static final String HELP = "%nExit codes:%n"
            + "  0  level satisfied (demo: every row as expected)%n"
            + "  1  internal error (a bug: please report it)%n"
            + "  2  usage error: bad option, URI or file%n"
            + "  3  connect failed%n"
            + "  4  TLS required but STARTTLS not offered or refused%n"
            + "  5  TLS handshake failed%n"
            + "  6  certificate invalid at level verify%n"
            + "  7  peer violated the protocol (injection, malformed reply, unexpected close, timeout)%n"
            + "  8  demo: a row was not as expected%n"
            + " 10  probe mail: no DANE or MTA-STS enforce, STARTTLS can be stripped (opportunistic)%n"
            + " 11  probe mail: the policy fails on some MX hosts, mail goes to the others (degraded)%n"
            + " 12  probe mail: no MX host meets the policy, or no usable MX; probe --mx: an MX fails --level%n";

    private ExitCodes() {}
}
