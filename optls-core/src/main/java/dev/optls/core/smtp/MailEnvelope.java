package dev.optls.core.smtp;

import java.util.List;
import java.util.Objects;

/**
 * The envelope of one SMTP mail transaction: the reverse-path for {@code MAIL FROM} and the forward-paths for
 * {@code RCPT TO}, as bare addresses ({@code reports@example.org}, without angle brackets).
 *
 * <p>Addresses are checked against RFC 5321 §4.1.2 ({@code Mailbox = Local-part "@" ( Domain / address-literal
 * )}) and the length limits of §4.5.3.1; anything else (CR, LF, angle brackets, spaces outside a quoted local
 * part, non-ASCII without SMTPUTF8) is a caller bug and throws. Only US-ASCII addresses: SMTPUTF8 (RFC 6531) is not
 * supported.
 *
 * @param from the reverse-path; empty for the null reverse-path {@code <>} (RFC 5321 §4.5.5, bounces)
 * @param recipients the forward-paths, 1 to {@value #MAX_RECIPIENTS}, in the order they are sent
 */
public record MailEnvelope(String from, List<String> recipients) {

    /**
     * Most recipients in one transaction: RFC 5321 §4.5.3.1.8 requires servers to accept at least 100; a server
     * may refuse more with 452.
     */
    public static final int MAX_RECIPIENTS = 100;

    /** Checks every address. */
    public MailEnvelope {
        Objects.requireNonNull(from, "from");
        recipients = List.copyOf(recipients);
        if (!from.isEmpty()) {
            checkMailbox(from, "from");
        }
        if (recipients.isEmpty() || recipients.size() > MAX_RECIPIENTS) {
            throw new IllegalArgumentException(
                    "a mail transaction needs 1 to " + MAX_RECIPIENTS + " recipients, not " + recipients.size());
        }
        for (String r : recipients) {
            checkMailbox(r, "recipient");
        }
    }

    /** An envelope from {@code from} to the given recipients. */
    public static MailEnvelope of(String from, String... recipients) {
        return new MailEnvelope(from, List.of(recipients));
    }

    /**
     * Checks that {@code address} is an RFC 5321 §4.1.2 {@code Mailbox} within the §4.5.3.1 length limits.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static void checkMailbox(String address, String what) {
        Objects.requireNonNull(address, what);
        String problem = mailboxProblem(address);
        if (problem != null) {
            throw new IllegalArgumentException(what + " is not an SMTP mailbox (RFC 5321 §4.1.2) — " + problem + ": "
                    + SmtpReplyReader.printable(address));
        }
    }

    /** Whether {@code address} is an RFC 5321 §4.1.2 mailbox within the length limits. */
    public static boolean isMailbox(String address) {
        return address != null && mailboxProblem(address) == null;
    }

    private static String mailboxProblem(String a) {
        for (int i = 0; i < a.length(); i++) {
            char c = a.charAt(i);
            if (c == '\r' || c == '\n') {
                return "it contains CR or LF (command injection)";
            }
            if (c < 0x20 || c > 0x7e) {
                return "it contains a control or non-ASCII character (SMTPUTF8 is not supported)";
            }
        }
        // RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
        if (a.length() + 2 > 256) {
            return "longer than 254 characters";
        }
        int at = a.lastIndexOf('@');
        if (at <= 0 || at == a.length() - 1) {
            return "it needs local-part@domain";
        }
        String local = a.substring(0, at);
        String domain = a.substring(at + 1);
        // RFC 5321 §4.5.3.1.1 and §4.5.3.1.2: local part at most 64 octets, domain at most 255.
        if (local.length() > 64) {
            return "the local part is longer than 64 characters";
        }
        if (!isDotString(local) && !isQuotedString(local)) {
            return "the local part is neither a dot-string nor a quoted string";
        }
        if (!isDomain(domain) && !isAddressLiteral(domain)) {
            return "the domain is neither a domain name nor an address literal";
        }
        return null;
    }

    // RFC 5321 §4.1.2: Dot-string = Atom *("." Atom); Atom = 1*atext (RFC 5322 §3.2.3).
    private static boolean isDotString(String s) {
        if (s.isEmpty() || s.startsWith(".") || s.endsWith(".") || s.contains("..")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '.' && !isAtext(c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAtext(char c) {
        return c >= 'a' && c <= 'z'
                || c >= 'A' && c <= 'Z'
                || c >= '0' && c <= '9'
                || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
    }

    // RFC 5321 §4.1.2: Quoted-string = DQUOTE *QcontentSMTP DQUOTE; qtextSMTP = %d32-33 / %d35-91 / %d93-126;
    // quoted-pairSMTP = "\" %d32-126.
    private static boolean isQuotedString(String s) {
        if (s.length() < 2 || s.charAt(0) != '"' || s.charAt(s.length() - 1) != '"') {
            return false;
        }
        for (int i = 1; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                if (i + 1 >= s.length() - 1) {
                    return false;
                }
                i++;
            } else if (c == '"') {
                return false;
            }
        }
        return true;
    }

    // RFC 5321 §4.1.2: Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str].
    private static boolean isDomain(String d) {
        if (d.length() > 255 || d.isEmpty()) {
            return false;
        }
        for (String label : d.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-')) {
                    return false;
                }
            }
        }
        return true;
    }

    // RFC 5321 §4.1.3: address-literal = "[" ( IPv4 / IPv6 / General-address-literal ) "]", dcontent =
    // %d33-90 / %d94-126.
    private static boolean isAddressLiteral(String d) {
        if (d.length() < 3 || d.charAt(0) != '[' || d.charAt(d.length() - 1) != ']') {
            return false;
        }
        for (int i = 1; i < d.length() - 1; i++) {
            char c = d.charAt(i);
            if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') {
                return false;
            }
        }
        return true;
    }
}
