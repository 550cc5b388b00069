package dev.optls.policy.dns;

import java.util.Objects;

/**
 * One MX record (RFC 5321 §5.1): a preference (lower is tried first) and the exchange host name, lower case,
 * without the trailing dot. RFC 7505's null MX has the exchange {@code ""} (the root).
 */
public record MxRecord(int preference, String exchange) {
    /** Checks the preference is a 16-bit unsigned value and normalises the exchange name. */
    public MxRecord {
        if (preference < 0 || preference > 0xFFFF) {
            throw new IllegalArgumentException("MX preference must be 0..65535, got " + preference);
        }
        exchange = DnsNames.normalize(Objects.requireNonNull(exchange, "exchange"));
    }

    /** Whether this is RFC 7505's null MX ({@code 0 .}): the domain accepts no mail. */
    public boolean isNullMx() {
        return exchange.isEmpty();
    }
}
