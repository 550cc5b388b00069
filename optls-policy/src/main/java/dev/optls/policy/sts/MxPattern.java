package dev.optls.policy.sts;

import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.internal.TxtRecordSyntax;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One {@code mx} pattern of an MTA-STS policy (RFC 8461 §3.2 {@code ["*."] Domain}): a host name, or
 * {@code *.} and a domain, which matches exactly one extra left-most label (RFC 8461 §4.1).
 *
 * @param domain the domain in lower case, without {@code *.} and without a trailing dot
 * @param wildcard whether the pattern began with {@code *.}
 */
public record MxPattern(String domain, boolean wildcard) {

    /** Checks the domain. */
    public MxPattern {
        Objects.requireNonNull(domain, "domain");
        problem(domain).ifPresent(p -> {
            throw new IllegalArgumentException(p);
        });
        domain = domain.toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a pattern as written in a policy; empty if it is not {@code ["*."] Domain} with A-labels (RFC 5321
     * §4.1.2 {@code Domain}; RFC 8461 §3.2: internationalized names are given
     * as A-labels). One trailing dot is tolerated.
     */
    public static Optional<MxPattern> parse(String text) {
        return problemWithPattern(text).isPresent() ? Optional.empty() : Optional.of(create(text));
    }

    /** Why {@code text} is not a valid pattern, if it is not. */
    static Optional<String> problemWithPattern(String text) {
        boolean wildcard = text.startsWith("*.");
        String domain = wildcard ? text.substring(2) : text;
        // Messages quote at most a short piece of peer input (a pattern can be 64 KiB long).
        return problem(stripDot(domain)).map(p -> "mx pattern '" + shorten(text) + "': " + p);
    }

    private static MxPattern create(String text) {
        boolean wildcard = text.startsWith("*.");
        return new MxPattern(stripDot(wildcard ? text.substring(2) : text), wildcard);
    }

    /**
     * Whether {@code mxHost} matches this pattern (RFC 8461 §4.1): compared case-insensitively, ignoring one trailing
     * dot; {@code *.example.com} matches {@code mail.example.com} but neither {@code example.com} nor {@code
     * a.b.example.com}. Host names that are not valid LDH names never match.
     */
    public boolean matches(String mxHost) {
        String host = stripDot(mxHost);
        if (problem(host).isPresent()) {
            return false;
        }
        host = host.toLowerCase(Locale.ROOT);
        if (!wildcard) {
            return host.equals(domain);
        }
        // RFC 8461 §4.1: the wildcard stands for exactly one whole left-most label.
        int dot = host.indexOf('.');
        return dot > 0 && host.substring(dot + 1).equals(domain);
    }

    /** The pattern as written in a policy ({@code *.example.com}, {@code mail.example.com}). */
    public String toText() {
        return wildcard ? "*." + domain : domain;
    }

    @Override
    public String toString() {
        return toText();
    }

    private static String shorten(String s) {
        return s.length() > 70 ? s.substring(0, 70) + "..." : s;
    }

    private static String stripDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /**
     * RFC 5321 §4.1.2: {@code Domain = sub-domain *("." sub-domain)}, {@code sub-domain = Let-dig [Ldh-str]}; labels
     * of at most 63 characters, names of at most {@value DnsNames#MAX_NAME_LENGTH}.
     */
    private static Optional<String> problem(String domain) {
        if (domain.isEmpty()) {
            return Optional.of("empty domain");
        }
        if (domain.length() > DnsNames.MAX_NAME_LENGTH) {
            return Optional.of("longer than " + DnsNames.MAX_NAME_LENGTH + " characters");
        }
        for (String label : domain.split("\\.", -1)) {
            if (label.isEmpty()) {
                return Optional.of("empty label");
            }
            if (label.length() > 63) {
                return Optional.of("label longer than 63 characters");
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean letDig = TxtRecordSyntax.isAlnum(c);
                if (!letDig && !(c == '-' && i > 0 && i < label.length() - 1)) {
                    return Optional.of("'" + shorten(label) + "' is not a letter-digit-hyphen label (A-labels only)");
                }
            }
        }
        return Optional.empty();
    }
}
