package dev.optls.policy.dane;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * One TLSA record's RDATA (RFC 6698 §2.1): certificate usage, selector, matching type (each one octet, kept as
 * the raw value so that unassigned values can be represented and judged unusable) and the certificate
 * association data.
 */
public final class TlsaRecord {

    /** RFC 6698 §2.1 on a 16-bit RDLENGTH: at most 65535 - 3 octets of association data. */
    public static final int MAX_DATA_LENGTH = 65535 - 3;

    /** The longest presentation text accepted: the hex of the largest data plus fields and whitespace. */
    public static final int MAX_TEXT_LENGTH = 2 * MAX_DATA_LENGTH + 4096;

    private final int usage;
    private final int selector;
    private final int matchingType;
    private final byte[] data;

    private TlsaRecord(int usage, int selector, int matchingType, byte[] data) {
        this.usage = usage;
        this.selector = selector;
        this.matchingType = matchingType;
        this.data = data;
    }

    /**
     * A record from its fields.
     *
     * @throws IllegalArgumentException if a field is not an octet or the data is longer than
     *     {@value #MAX_DATA_LENGTH} bytes
     */
    public static TlsaRecord of(int usage, int selector, int matchingType, byte[] data) {
        checkOctet("usage", usage);
        checkOctet("selector", selector);
        checkOctet("matching type", matchingType);
        if (data.length > MAX_DATA_LENGTH) {
            throw new IllegalArgumentException("TLSA data longer than " + MAX_DATA_LENGTH + " bytes");
        }
        return new TlsaRecord(usage, selector, matchingType, data.clone());
    }

    /** A record from registry values. */
    public static TlsaRecord of(TlsaUsage usage, TlsaSelector selector, TlsaMatchingType type, byte[] data) {
        return of(usage.code(), selector.code(), type.code(), data);
    }

    private static void checkOctet(String what, int value) {
        if (value < 0 || value > 255) {
            throw new IllegalArgumentException("TLSA " + what + " must be 0..255, got " + value);
        }
    }

    /** Parses wire-format RDATA (RFC 6698 §2.1): three octets, then the association data. */
    public static TlsaParse fromWire(byte[] rdata) {
        if (rdata.length < 3) {
            return new TlsaParse.Malformed("TLSA RDATA has " + rdata.length + " bytes, fewer than the 3 fixed fields");
        }
        if (rdata.length - 3 > MAX_DATA_LENGTH) {
            return new TlsaParse.Malformed("TLSA RDATA longer than a DNS record can be");
        }
        // RFC 6698 §2.1: an empty association data field is not forbidden on the wire; it is simply unusable.
        return new TlsaParse.Parsed(new TlsaRecord(
                rdata[0] & 0xFF, rdata[1] & 0xFF, rdata[2] & 0xFF, Arrays.copyOfRange(rdata, 3, rdata.length)));
    }

    /**
     * Parses presentation format (RFC 6698 §2.2): {@code usage selector matching-type hex}, the fields as decimal
     * octets or RFC 7218 mnemonics ({@code DANE-EE SPKI SHA2-256}), whitespace allowed inside the hex.
     */
    public static TlsaParse parse(String text) {
        if (text.length() > MAX_TEXT_LENGTH) {
            return new TlsaParse.Malformed("TLSA text longer than " + MAX_TEXT_LENGTH + " characters");
        }
        String[] fields = text.strip().split("[ \\t\\r\\n]+", 4);
        if (fields.length < 4 || fields[0].isEmpty()) {
            return new TlsaParse.Malformed(
                    "TLSA text needs usage, selector, matching type and data: '" + abbreviate(text) + "'");
        }
        int usage = field(fields[0], TlsaUsage.values());
        int selector = field(fields[1], TlsaSelector.values());
        int type = field(fields[2], TlsaMatchingType.values());
        if (usage < 0 || selector < 0 || type < 0) {
            return new TlsaParse.Malformed(
                    "TLSA fields must be octets (0..255) or RFC 7218 mnemonics: '" + abbreviate(text) + "'");
        }
        String hex = fields[3].replaceAll("[ \\t\\r\\n]", "");
        if (hex.length() % 2 != 0 || !hex.chars().allMatch(TlsaRecord::isHexDigit)) {
            return new TlsaParse.Malformed(
                    "TLSA data must be an even number of hex digits: '" + abbreviate(text) + "'");
        }
        if (hex.length() / 2 > MAX_DATA_LENGTH) {
            // RFC 6698 §2.1: the RDATA must fit a 16-bit RDLENGTH, as fromWire requires.
            return new TlsaParse.Malformed(
                    "TLSA data longer than " + MAX_DATA_LENGTH + " bytes: '" + abbreviate(text) + "'");
        }
        return new TlsaParse.Parsed(
                new TlsaRecord(usage, selector, type, HexFormat.of().parseHex(hex)));
    }

    private static boolean isHexDigit(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** A decimal octet, or the code of the enum constant whose RFC 7218 mnemonic it is; -1 if neither. */
    private static int field(String token, Enum<?>[] registry) {
        if (token.length() <= 3 && token.chars().allMatch(c -> c >= '0' && c <= '9')) {
            int value = Integer.parseInt(token);
            return value <= 255 ? value : -1;
        }
        for (Enum<?> constant : registry) {
            if (constant.name().replace('_', '-').equalsIgnoreCase(token)) {
                if (constant instanceof TlsaUsage u) {
                    return u.code();
                }
                if (constant instanceof TlsaSelector s) {
                    return s.code();
                }
                if (constant instanceof TlsaMatchingType m) {
                    return m.code();
                }
                return -1;
            }
        }
        return -1;
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "…";
    }

    /** The raw certificate usage octet. */
    public int usageCode() {
        return usage;
    }

    /** The raw selector octet. */
    public int selectorCode() {
        return selector;
    }

    /** The raw matching type octet. */
    public int matchingTypeCode() {
        return matchingType;
    }

    /** The usage, or empty for an unassigned value. */
    public Optional<TlsaUsage> usage() {
        return TlsaUsage.fromCode(usage);
    }

    /** The selector, or empty for an unassigned value. */
    public Optional<TlsaSelector> selector() {
        return TlsaSelector.fromCode(selector);
    }

    /** The matching type, or empty for an unassigned value. */
    public Optional<TlsaMatchingType> matchingType() {
        return TlsaMatchingType.fromCode(matchingType);
    }

    /** A copy of the certificate association data. */
    public byte[] data() {
        return data.clone();
    }

    /** The length of the certificate association data. */
    public int dataLength() {
        return data.length;
    }

    /** Whether the association data equals {@code candidate} (constant time is not needed: both are public). */
    boolean dataEquals(byte[] candidate) {
        return Arrays.equals(data, candidate);
    }

    /** Wire-format RDATA. */
    public byte[] toWire() {
        byte[] wire = new byte[3 + data.length];
        wire[0] = (byte) usage;
        wire[1] = (byte) selector;
        wire[2] = (byte) matchingType;
        System.arraycopy(data, 0, wire, 3, data.length);
        return wire;
    }

    /**
     * Presentation format, as TLS-RPT's policy-string wants it (RFC 8460 §4.3): {@code 3 1 1 0C72…}. A record with
     * empty data (possible on the wire, always unusable) prints with nothing after the third field and does not
     * parse back.
     */
    public String toText() {
        return usage + " " + selector + " " + matchingType + " "
                + HexFormat.of().withUpperCase().formatHex(data);
    }

    /** Whether an SMTP client may use this record for authentication (RFC 7672 §3.1). */
    public boolean isUsable() {
        return unusableReason().isEmpty();
    }

    /**
     * Empty if usable for SMTP, otherwise why not: PKIX-TA(0) and PKIX-EE(1) (RFC 7672 §3.1.3), unassigned usage,
     * selector or matching type, or data of the wrong length for its digest (RFC 7671 §4, RFC 6698 §2.1.3).
     */
    public Optional<String> unusableReason() {
        Optional<TlsaUsage> u = usage();
        if (u.isEmpty()) {
            return Optional.of("certificate usage " + usage + " is not assigned");
        }
        if (u.get() == TlsaUsage.PKIX_TA || u.get() == TlsaUsage.PKIX_EE) {
            // RFC 7672 §3.1.3: SMTP clients treat PKIX-TA(0) and PKIX-EE(1) as unusable.
            return Optional.of(u.get().mnemonic() + "(" + usage + ") is not used for SMTP (RFC 7672 §3.1.3)");
        }
        if (selector().isEmpty()) {
            return Optional.of("selector " + selector + " is not assigned");
        }
        Optional<TlsaMatchingType> m = matchingType();
        if (m.isEmpty()) {
            return Optional.of("matching type " + matchingType + " is not assigned");
        }
        if (m.get() == TlsaMatchingType.FULL) {
            return data.length == 0 ? Optional.of("Full(0) record with empty data") : Optional.empty();
        }
        if (data.length != m.get().digestLength()) {
            return Optional.of(
                    m.get().mnemonic() + " data must be " + m.get().digestLength() + " bytes, got " + data.length);
        }
        return Optional.empty();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TlsaRecord that
                && usage == that.usage
                && selector == that.selector
                && matchingType == that.matchingType
                && Arrays.equals(data, that.data);
    }

    @Override
    public int hashCode() {
        return ((usage * 31 + selector) * 31 + matchingType) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        String text = toText();
        return text.length() <= 100 ? text : text.substring(0, 100) + "…";
    }
}
