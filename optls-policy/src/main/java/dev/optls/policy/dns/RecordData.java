package dev.optls.policy.dns;

import java.util.Arrays;
import java.util.Objects;

/**
 * The RDATA of one record as it came off the wire, with its presentation text (RFC 1035 §5.1; for TLSA RFC 6698
 * §2.2, e.g. {@code 3 1 1 0C72…}). Used for record types whose meaning another package decides (TLSA: DANE).
 */
public final class RecordData {
    private final byte[] wire;
    private final String text;

    private RecordData(byte[] wire, String text) {
        this.wire = wire;
        this.text = text;
    }

    /** Wraps a copy of {@code wire} and its presentation {@code text}. */
    public static RecordData of(byte[] wire, String text) {
        return new RecordData(wire.clone(), Objects.requireNonNull(text, "text"));
    }

    /** A copy of the RDATA bytes. */
    public byte[] wire() {
        return wire.clone();
    }

    /** The RDATA length in bytes. */
    public int length() {
        return wire.length;
    }

    /** The presentation text of the RDATA (without owner, TTL, class and type). */
    public String text() {
        return text;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RecordData that && Arrays.equals(wire, that.wire);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(wire);
    }

    @Override
    public String toString() {
        return text;
    }
}
