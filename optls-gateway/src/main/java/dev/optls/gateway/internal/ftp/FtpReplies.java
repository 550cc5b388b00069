package dev.optls.gateway.internal.ftp;

import dev.optls.core.Capabilities;
import dev.optls.core.ftp.FtpReply;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the gateway reads from and rewrites in a plaintext FTP backend's replies. Pure functions. */
final class FtpReplies {
    /** RFC 2428 §3: {@code (<d><d><d><port><d>)}, the delimiter any printable character (usually '|'). */
    private static final Pattern EPSV = Pattern.compile("\\(([\\x21-\\x7e])\\1\\1(\\d{1,5})\\1\\)");

    /** RFC 959 §4.1.2 / §5.4: {@code h1,h2,h3,h4,p1,p2}, with or without parentheses. */
    private static final Pattern PASV =
            Pattern.compile("(\\d{1,3}),(\\d{1,3}),(\\d{1,3}),(\\d{1,3}),(\\d{1,3}),(\\d{1,3})");

    /** Features the gateway removes from the backend's FEAT list (it answers or refuses them itself). */
    private static final List<String> HIDDEN = List.of("AUTH", "PBSZ", "PROT", "CCC", "ADAT", "EPRT");

    private FtpReplies() {}

    /**
     * The backend's data port in a {@code 227} reply. The address in it is ignored: the gateway connects to
     * the backend's control address (protocols.md §8.3: NAT; no FTP bounce to a third host, RFC 2577 §3).
     */
    static OptionalInt pasvPort(FtpReply reply) {
        Matcher m = PASV.matcher(reply.text());
        if (!m.find()) {
            return OptionalInt.empty();
        }
        int p1 = Integer.parseInt(m.group(5));
        int p2 = Integer.parseInt(m.group(6));
        if (p1 > 255 || p2 > 255) {
            return OptionalInt.empty();
        }
        int port = p1 * 256 + p2;
        return port == 0 ? OptionalInt.empty() : OptionalInt.of(port);
    }

    /** The backend's data port in a {@code 229} reply (RFC 2428 §3). */
    static OptionalInt epsvPort(FtpReply reply) {
        Matcher m = EPSV.matcher(reply.text());
        if (!m.find()) {
            return OptionalInt.empty();
        }
        int port = Integer.parseInt(m.group(2));
        return port == 0 || port > 65535 ? OptionalInt.empty() : OptionalInt.of(port);
    }

    /**
     * The gateway's {@code 227} for its own data port (RFC 959 §4.1.2); empty when {@code address} is not
     * IPv4 (PASV cannot express IPv6: the client must use EPSV, RFC 2428 §3).
     */
    static java.util.Optional<String> pasvReply(InetAddress address, int port) {
        if (!(address instanceof Inet4Address)) {
            return java.util.Optional.empty();
        }
        byte[] a = address.getAddress();
        return java.util.Optional.of("227 Entering Passive Mode (" + (a[0] & 0xff) + "," + (a[1] & 0xff) + ","
                + (a[2] & 0xff) + "," + (a[3] & 0xff) + "," + (port >> 8) + "," + (port & 0xff) + ").");
    }

    /** The gateway's {@code 229} for its own data port (RFC 2428 §3: the client reuses the control address). */
    static String epsvReply(int port) {
        return "229 Entering Extended Passive Mode (|||" + port + "|)";
    }

    /**
     * The backend's {@code 211} FEAT reply as the client must see it over TLS: RFC 4217 §6 has the server
     * list {@code PBSZ} and {@code PROT} (the gateway answers them), and the features the gateway answers
     * or refuses itself are dropped from the backend's list ({@code AUTH}, {@code CCC}, {@code ADAT}, and
     * {@code EPRT}: active mode is refused). Like the core's FtpServer, {@code AUTH TLS} is not listed
     * once TLS is active (RFC 2228 §3: a second AUTH is refused with 503).
     *
     * @return the reply's lines, without CRLF
     */
    static List<String> featReply(FtpReply reply) {
        List<String> lines = new ArrayList<>();
        lines.add("211-Features:");
        lines.add(" PBSZ");
        lines.add(" PROT");
        List<String> middle = reply.lines().size() < 2
                ? List.of()
                : reply.lines().subList(1, reply.lines().size() - 1);
        for (String line : middle) {
            String entry = line.strip();
            if (entry.isEmpty()) {
                continue;
            }
            String keyword = Capabilities.keywordOf(entry).toUpperCase(Locale.ROOT);
            if (!HIDDEN.contains(keyword)) {
                // RFC 2389 §3.2: each feature line starts with a single space.
                lines.add(" " + entry);
            }
        }
        lines.add("211 End");
        return lines;
    }
}
