package dev.optls.policy.sts;

import dev.optls.policy.internal.TxtRecordSyntax;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A valid MTA-STS policy (RFC 8461 §3.2), e.g.
 *
 * <pre>
 * version: STSv1
 * mode: enforce
 * mx: mail.example.com
 * mx: *.example.net
 * max_age: 604800
 * </pre>
 *
 * @param mode the policy mode
 * @param mx the {@code mx} patterns in policy order (empty only in mode {@link StsMode#NONE})
 * @param maxAgeSeconds {@code max_age}, capped at {@value #MAX_MAX_AGE} (RFC 8461 §3.2)
 * @param text the policy text as served (decoded as UTF-8), kept for TLS-RPT's {@code policy-string} and for caches
 *     that store the text and parse it again
 */
public record StsPolicy(StsMode mode, List<MxPattern> mx, long maxAgeSeconds, String text) {

    /** RFC 8461 §3.3 suggests a 64 KB size limit (optls reads 64 KiB); larger bodies are rejected, not truncated. */
    public static final int MAX_SIZE = 64 * 1024;

    /** RFC 8461 §3.2: {@code max_age} is at most 31557600 seconds (one year). */
    public static final long MAX_MAX_AGE = 31_557_600L;

    /** Checks the values and copies the patterns. */
    public StsPolicy {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(text, "text");
        mx = List.copyOf(mx);
        if (maxAgeSeconds < 0 || maxAgeSeconds > MAX_MAX_AGE) {
            throw new IllegalArgumentException("max_age must be 0.." + MAX_MAX_AGE + ", not " + maxAgeSeconds);
        }
        if (mx.isEmpty() && mode != StsMode.NONE) {
            throw new IllegalArgumentException("a policy in mode " + mode.wireName() + " needs mx patterns");
        }
    }

    /** {@link #maxAgeSeconds()} as a duration. */
    public Duration maxAge() {
        return Duration.ofSeconds(maxAgeSeconds);
    }

    /** Whether {@code mxHost} matches at least one {@code mx} pattern (RFC 8461 §4.1). */
    public boolean matches(String mxHost) {
        return mx.stream().anyMatch(p -> p.matches(mxHost));
    }

    /**
     * The policy lines without line ends, as TLS-RPT's {@code policy-string} wants them (RFC 8460 §4.4); trailing
     * empty lines are left out.
     */
    public List<String> lines() {
        List<String> lines = new ArrayList<>(splitLines(text));
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        return lines;
    }

    /**
     * Parses a policy body: at most {@value #MAX_SIZE} bytes of UTF-8 (RFC 8461 §3.2 allows UTF-8 in extension
     * values only); anything else is {@link StsPolicyParse.Invalid}.
     */
    public static StsPolicyParse parse(byte[] body) {
        if (body.length > MAX_SIZE) {
            return new StsPolicyParse.Invalid("the policy is larger than " + MAX_SIZE + " bytes (RFC 8461 §3.3)");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString();
        } catch (CharacterCodingException e) {
            return new StsPolicyParse.Invalid("the policy is not valid UTF-8");
        }
        return parse(text);
    }

    /**
     * Parses policy text against the ABNF of RFC 8461 §3.2. Lines end in LF or CRLF; field names and the values of
     * {@code version} and {@code mode} are case-sensitive; unknown fields are ignored (kept in {@link #text()});
     * a repeated field other than {@code mx} is ignored after its first instance (RFC 8461 §3.2: "all entries
     * except for the first SHOULD be ignored") once it has the syntax of an extension; {@code version}, {@code mode}
     * and {@code max_age} are required, {@code mx} too unless the mode is {@code none}; {@code max_age} above
     * {@value #MAX_MAX_AGE} is capped. Empty lines at the end are tolerated, empty lines between fields are not.
     */
    public static StsPolicyParse parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.length() > MAX_SIZE) {
            return new StsPolicyParse.Invalid("the policy is larger than " + MAX_SIZE + " characters (RFC 8461 §3.3)");
        }
        List<String> lines = splitLines(text);
        int last = lines.size();
        while (last > 0 && lines.get(last - 1).isEmpty()) {
            last--;
        }
        if (last == 0) {
            return new StsPolicyParse.Invalid("the policy is empty");
        }
        Set<String> seen = new HashSet<>();
        boolean version = false;
        StsMode mode = null;
        Long maxAge = null;
        List<MxPattern> mx = new ArrayList<>();
        for (int i = 0; i < last; i++) {
            String line = lines.get(i);
            int number = i + 1;
            Optional<String> problem = lineProblem(line);
            if (problem.isPresent()) {
                return invalid(number, problem.get());
            }
            int colon = line.indexOf(':');
            String name = line.substring(0, colon);
            // field-delim = ":" *WSP, and sts-policy-field *WSP before the line end
            String value = stripWsp(line.substring(colon + 1));
            boolean first = seen.add(name);
            if (!first && !name.equals("mx")) {
                if (!isExtValue(value)) {
                    return invalid(number, "repeated field '" + name + "' has an invalid value");
                }
                continue; // RFC 8461 §3.2: only the first instance counts.
            }
            switch (name) {
                case "version" -> {
                    // RFC 8461 §3.2: sts-policy-version-value = %s"STSv1"
                    if (!value.equals("STSv1")) {
                        return invalid(number, "version must be STSv1, not '" + shorten(value) + "'");
                    }
                    version = true;
                }
                case "mode" -> {
                    Optional<StsMode> parsed = StsMode.fromWireName(value);
                    if (parsed.isEmpty()) {
                        return invalid(number, "mode must be enforce, testing or none, not '" + shorten(value) + "'");
                    }
                    mode = parsed.get();
                }
                case "max_age" -> {
                    // RFC 8461 §3.2: sts-policy-max-age-value = 1*10(DIGIT)
                    if (value.isEmpty() || value.length() > 10 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                        return invalid(number, "max_age must be 1 to 10 digits, not '" + shorten(value) + "'");
                    }
                    maxAge = Math.min(Long.parseLong(value), MAX_MAX_AGE);
                }
                case "mx" -> {
                    Optional<String> bad = MxPattern.problemWithPattern(value);
                    if (bad.isPresent()) {
                        return invalid(number, bad.get());
                    }
                    mx.add(MxPattern.parse(value).orElseThrow());
                }
                default -> {
                    if (!isExtValue(value)) {
                        return invalid(number, "extension field '" + name + "' has an invalid value");
                    }
                }
            }
        }
        if (!version) {
            return new StsPolicyParse.Invalid("the policy has no version field");
        }
        if (mode == null) {
            return new StsPolicyParse.Invalid("the policy has no mode field");
        }
        if (maxAge == null) {
            return new StsPolicyParse.Invalid("the policy has no max_age field");
        }
        // RFC 8461 §3.2: mx is required at least once, except in mode none.
        if (mx.isEmpty() && mode != StsMode.NONE) {
            return new StsPolicyParse.Invalid("the policy has no mx field (required in mode " + mode.wireName() + ")");
        }
        return new StsPolicyParse.Parsed(new StsPolicy(mode, mx, maxAge, text));
    }

    /** Splits on LF, removing one CR before each LF (RFC 8461 §3.2: sts-policy-term = LF / CRLF). */
    private static List<String> splitLines(String text) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        while (true) {
            int lf = text.indexOf('\n', start);
            if (lf < 0) {
                lines.add(text.substring(start));
                return lines;
            }
            int end = lf > start && text.charAt(lf - 1) == '\r' ? lf - 1 : lf;
            lines.add(text.substring(start, end));
            start = lf + 1;
        }
    }

    /** A line's shape: {@code name ":" *WSP value *WSP}, name per sts-policy-ext-name, no control characters. */
    private static Optional<String> lineProblem(String line) {
        if (line.isEmpty()) {
            return Optional.of("empty line between fields");
        }
        int colon = line.indexOf(':');
        if (colon < 0) {
            return Optional.of("expected 'name: value'");
        }
        String name = line.substring(0, colon);
        // sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
        if (name.isEmpty() || name.length() > 32 || !TxtRecordSyntax.isAlnum(name.charAt(0))) {
            return Optional.of(
                    "'" + shorten(name) + "' is not a field name (1 to 32 characters, first a letter or digit)");
        }
        for (int i = 1; i < name.length(); i++) {
            if (!TxtRecordSyntax.isNameChar(name.charAt(i))) {
                return Optional.of("'" + shorten(name) + "' is not a field name (letters, digits, '_', '-', '.')");
            }
        }
        for (int i = colon + 1; i < line.length(); i++) {
            char c = line.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return Optional.of("control character " + TxtRecordSyntax.describe(c) + " in the value");
            }
        }
        return Optional.empty();
    }

    /**
     * sts-policy-ext-value = sts-policy-vchar [*(%x20 / sts-policy-vchar) sts-policy-vchar], vchar = %x21-7E or
     * UTF-8 beyond ASCII (the value arrives already stripped of surrounding WSP).
     */
    private static boolean isExtValue(String value) {
        if (value.isEmpty()) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) {
                return false;
            }
        }
        return true;
    }

    private static String stripWsp(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
            start++;
        }
        while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
            end--;
        }
        return s.substring(start, end);
    }

    private static StsPolicyParse invalid(int line, String reason) {
        return new StsPolicyParse.Invalid("line " + line + ": " + reason);
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
