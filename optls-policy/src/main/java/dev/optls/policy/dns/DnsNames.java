package dev.optls.policy.dns;

import java.util.Locale;

/** Host name helpers shared by the DNS and DANE code: one spelling (lower case, no trailing dot) everywhere. */
public final class DnsNames {

    /** RFC 1035 §2.3.4: a name is at most 255 octets on the wire, so at most 253 characters in text. */
    public static final int MAX_NAME_LENGTH = 253;

    private DnsNames() {}

    /**
     * Lower-cases an ASCII (A-label) name and removes one trailing dot; {@code "."} becomes {@code ""}.
     *
     * @throws IllegalArgumentException if the name is not printable ASCII, is longer than {@value #MAX_NAME_LENGTH} characters, has an
     *     empty label or a label over 63 characters
     */
    public static String normalize(String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (n.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("DNS name longer than " + MAX_NAME_LENGTH + " characters: " + name);
        }
        if (n.isEmpty()) {
            return n;
        }
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (c <= 0x20 || c >= 0x7F) {
                throw new IllegalArgumentException("DNS name must be ASCII (A-labels) without spaces: " + name);
            }
        }
        for (String label : n.split("\\.", -1)) {
            // RFC 1035 §2.3.4: labels are 1..63 octets.
            if (label.isEmpty() || label.length() > 63) {
                throw new IllegalArgumentException("DNS name has an empty or over-long label: " + name);
            }
        }
        return n.toLowerCase(Locale.ROOT);
    }
}
