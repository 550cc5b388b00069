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
