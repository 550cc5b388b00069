package dev.optls.policy.postfix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.policy.engine.LocalPolicies;
import dev.optls.policy.engine.LocalPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalPolicyFileTest {

    @TempDir
    Path dir;

    @Test
    void readsPostfixStyleRules() throws Exception {
        Path file = dir.resolve("tls-policy");
        Files.writeString(file, """
                # local rules
                Example.COM      encrypt   # trailing comment

                .example.net     verify match=mx.example.net:.Example.net
                bank.test\tmay
                dane.test        DANE-only
                """);
        LocalPolicies rules = LocalPolicyFile.read(file);
        assertThat(rules.forDomain("example.com")).hasValue(LocalPolicy.of(LocalPolicy.Level.ENCRYPT));
        assertThat(rules.forDomain("a.b.example.net"))
                .hasValue(new LocalPolicy(LocalPolicy.Level.VERIFY, List.of("mx.example.net", ".example.net")));
        assertThat(rules.forDomain("example.net")).isEmpty();
        assertThat(rules.forDomain("bank.test")).hasValue(LocalPolicy.of(LocalPolicy.Level.MAY));
        assertThat(rules.forDomain("dane.test")).hasValue(LocalPolicy.of(LocalPolicy.Level.DANE_ONLY));
    }

    @Test
    void relayHostsAreKeyedByHostAndPort() {
        LocalPolicies rules = LocalPolicyFile.parse("""
                [Relay.Example.COM.]:submission  verify
                [smart.example.com]              encrypt
                [smart.example.com]:2525         dane-only
                """, "f");
        assertThat(rules.forHost("relay.example.com", 587)).hasValue(LocalPolicy.of(LocalPolicy.Level.VERIFY));
        assertThat(rules.forHost("smart.example.com", 25)).hasValue(LocalPolicy.of(LocalPolicy.Level.ENCRYPT));
        assertThat(rules.forHost("smart.example.com", 2525)).hasValue(LocalPolicy.of(LocalPolicy.Level.DANE_ONLY));
        assertThat(rules.forHost("relay.example.com", 25)).isEmpty();
        // A relay host's rule is not a domain rule.
        assertThat(rules.forDomain("relay.example.com")).isEmpty();
        assertError("[192.0.2.1]:587 encrypt\n", "f:1: '[192.0.2.1]:587' is not a next hop the service looks up");
        assertError("[relay.example.com:587 encrypt\n", "f:1: '[relay.example.com:587' is not a next hop");
        assertError("[relay.example.com]:0 encrypt\n", "f:1: '[relay.example.com]:0' is not a next hop");
        assertError("[a.test] may\n[A.test]:25 encrypt\n", "f:2: a second rule for [a.test]:25");
    }

    @Test
    void mistakesNameTheLineAndWhatToWrite() {
        assertError("example.com\n", "f:1: a rule is 'domain level [match=…]'");
        assertError("\n\nexample.com secure\n", "f:3: unknown level 'secure': use may, encrypt, verify or dane-only");
        assertError("exa_mple..com encrypt\n", "f:1: 'exa_mple..com' is not a domain name");
        assertError("example.com encrypt match=a.example.com\n", "f:1: match= only goes with the level verify");
        assertError("example.com verify servername=x\n", "f:1: unknown attribute 'servername=x'");
        assertError("example.com verify match=a::b\n", "f:1: '' in match= is not a host name");
        assertError("a.test may\nA.test encrypt\n", "f:2: a second rule for a.test");
        assertThatThrownBy(() -> LocalPolicyFile.read(dir.resolve("absent")))
                .hasMessageContaining("cannot read the local policy file");
    }

    private static void assertError(String text, String message) {
        assertThatThrownBy(() -> LocalPolicyFile.parse(text, "f"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(message);
    }
}
