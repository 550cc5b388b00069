package dev.optls.tls.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpLiteralsTest {
    @ParameterizedTest(name = "[{index}] \"{0}\" -> {1} bytes")
    @CsvSource(
            delimiter = '|',
            value = {
                "127.0.0.1|4",
                "255.255.255.255|4",
                "::1|16",
                "[::1]|16",
                "2001:db8::1|16",
                "::ffff:192.0.2.1|4",
                "256.0.0.1|0",
                "1.2.3|0",
                "1.2.3.4.5|0",
                "01234.1.1.1|0",
                "localhost|0",
                "mail.example|0",
                "abc:def:ghi|0",
                "[mail.example]|0",
                "''|0"
            })
    void parsesLiteralsOnly(String text, int length) {
        // Names are never resolved: "localhost" and "mail.example" must come back empty, not as addresses.
        assertThat(IpLiterals.parse(text).map(b -> b.length).orElse(0)).isEqualTo(length);
    }
}
