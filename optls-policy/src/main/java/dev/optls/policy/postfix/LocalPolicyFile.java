package dev.optls.policy.postfix;

import dev.optls.policy.engine.LocalPolicies;
import dev.optls.policy.engine.LocalPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The local policy rules file, in the shape of a Postfix TLS policy table: one rule per line, {@code domain level
 * [match=name:name…]}; {@code .domain} for every subdomain; {@code [host]} or {@code [host]:port} for a next hop
 * that names its host (a {@code relayhost} or a transport next hop; Postfix asks with that key verbatim, and the
 * rule matches that host and port only); {@code #} starts a comment; blank lines are ignored. Levels are {@code
 * may}, {@code encrypt}, {@code verify} ({@code match=} only with {@code verify}: the names the certificate may
 * carry, {@code .example.com} for any subdomain) and {@code dane-only}. A rule applies only when neither DANE nor
 * an MTA-STS policy in {@code enforce} mode does.
 *
 * <pre>
 * # optls policy serve --local-policies /etc/optls/tls-policy
 * example.com                 encrypt
 * .example.net                verify match=mx.example.net:.example.net
 * [smtp.provider.example]:587 verify
 * </pre>
 */
public final class LocalPolicyFile {

    /** The largest file read. */
    public static final long MAX_SIZE = 1 << 20;

    private LocalPolicyFile() {}

    /**
     * Reads the rules in {@code file}.
     *
     * @throws IllegalArgumentException naming the file and line of the first mistake, or if the file cannot be read
     */
    public static LocalPolicies read(Path file) {
        try {
            if (Files.size(file) > MAX_SIZE) {
                throw new IllegalArgumentException(
                        file + ": larger than " + MAX_SIZE + " bytes; is it the right file?");
            }
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the local policy file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses rules from {@code text}; {@code source} names it in messages.
     *
     * @throws IllegalArgumentException naming the line of the first mistake
     */
    public static LocalPolicies parse(String text, String source) {
        Map<String, LocalPolicy> rules = new LinkedHashMap<>();
        Map<LocalPolicies.Relay, LocalPolicy> relays = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = source + ":" + (i + 1) + ": ";
            String[] words = line.split("\\s+");
            if (words.length < 2) {
                throw new IllegalArgumentException(
                        where + "a rule is 'domain level [match=…]', e.g. 'example.com encrypt'; got '" + line + "'");
            }
            Optional<LocalPolicies.Relay> relay = relay(words[0], where);
            String domain = relay.isPresent() ? null : domain(words[0], where);
            if (relay.isPresent() ? relays.containsKey(relay.get()) : rules.containsKey(domain)) {
                throw new IllegalArgumentException(where + "a second rule for "
                        + relay.map(Object::toString).orElse(domain) + "; keep one");
            }
            LocalPolicy.Level level = switch (words[1].toLowerCase(Locale.ROOT)) {
                case "may" -> LocalPolicy.Level.MAY;
                case "encrypt" -> LocalPolicy.Level.ENCRYPT;
                case "verify" -> LocalPolicy.Level.VERIFY;
                case "dane-only" -> LocalPolicy.Level.DANE_ONLY;
                default ->
                    throw new IllegalArgumentException(where + "unknown level '" + words[1]
                            + "': use may, encrypt, verify or dane-only (DANE and MTA-STS come from DNS, not from this"
                            + " file)");
            };
            List<String> names = new ArrayList<>();
            for (int w = 2; w < words.length; w++) {
                String attribute = words[w];
                if (!attribute.toLowerCase(Locale.ROOT).startsWith("match=")) {
                    throw new IllegalArgumentException(
                            where + "unknown attribute '" + attribute + "': only match=name:name… is understood");
                }
                if (level != LocalPolicy.Level.VERIFY) {
                    throw new IllegalArgumentException(where + "match= only goes with the level verify");
                }
                for (String name : attribute.substring("match=".length()).split(":", -1)) {
                    String n = name.toLowerCase(Locale.ROOT);
                    String nBare = n.startsWith(".") ? n.substring(1) : n;
                    if (PolicyService.lookupDomain(nBare).filter(nBare::equals).isEmpty()) {
                        throw new IllegalArgumentException(
                                where + "'" + name + "' in match= is not a host name or .domain");
                    }
                    names.add(n);
                }
            }
            if (relay.isPresent()) {
                relays.put(relay.get(), new LocalPolicy(level, names));
            } else {
                rules.put(domain, new LocalPolicy(level, names));
            }
        }
        return LocalPolicies.of(rules, relays);
    }

    /**
     * The relay host a rule's first word names, written {@code [host]} (port 25, as Postfix's next hop {@code [host]}
     * is) or {@code [host]:port}; empty when the word is a domain.
     */
    private static Optional<LocalPolicies.Relay> relay(String word, String where) {
        if (!word.startsWith("[")) {
            return Optional.empty();
        }
        return Optional.of(NextHop.parse(word)
                .filter(NextHop::bracketed)
                .map(n -> new LocalPolicies.Relay(n.name(), n.port()))
                .orElseThrow(() -> new IllegalArgumentException(where + "'" + word
                        + "' is not a next hop the service looks up: write [host.name] or [host.name]:port"
                        + " (address literals such as [192.0.2.1] get NOTFOUND without a lookup; give them a rule"
                        + " in a Postfix table listed before the socketmap in smtp_tls_policy_maps)")));
    }

    /** The domain (or {@code .domain}) a rule's first word names, lower case. */
    private static String domain(String word, String where) {
        String lower = word.toLowerCase(Locale.ROOT);
        String bare = lower.startsWith(".") ? lower.substring(1) : lower;
        if (PolicyService.lookupDomain(bare).filter(bare::equals).isEmpty()) {
            throw new IllegalArgumentException(where + "'" + word
                    + "' is not a domain name (write example.com, .example.com for its subdomains, or [host]:port for"
                    + " a relay host)");
        }
        return lower;
    }
}
