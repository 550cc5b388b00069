package dev.optls.policy.dns;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Master;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

/**
 * DNSSEC trust anchors for the validating resolver: DS or DNSKEY records in master-file format (RFC 1035 §5),
 * one per line, owner names absolute. {@link #root()} is the IANA root KSK set bundled with optls; tests use
 * anchors for a test root.
 */
public final class TrustAnchors {

    /** The largest trust anchor text accepted (a few keys fit in a few hundred bytes). */
    public static final int MAX_TEXT_LENGTH = 64 * 1024;

    private static final String ROOT_RESOURCE = "root-anchors.txt";

    private final String text;
    private final List<String> owners;

    private TrustAnchors(String text, List<String> owners) {
        this.text = text;
        this.owners = List.copyOf(owners);
    }

    /**
     * The DNS root's key-signing keys (KSK-2017, tag 20326, and KSK-2024, tag 38696) as DS records, from IANA's
     * root-anchors.xml; see the resource {@code dev/optls/policy/dns/root-anchors.txt} for the source.
     */
    public static TrustAnchors root() {
        try (InputStream in = TrustAnchors.class.getResourceAsStream(ROOT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + ROOT_RESOURCE + " missing from the optls-policy jar");
            }
            return parse(new String(in.readNBytes(MAX_TEXT_LENGTH + 1), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled root trust anchors", e);
        }
    }

    /** Reads anchors from a file such as {@code /usr/share/dns/root.ds} or {@code root.key}. */
    public static TrustAnchors fromFile(Path file) {
        try {
            if (Files.size(file) > MAX_TEXT_LENGTH) {
                throw new IllegalArgumentException("trust anchor file " + file + " is over " + MAX_TEXT_LENGTH
                        + " bytes; it should hold a few DS or DNSKEY records");
            }
            return parse(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read trust anchors from " + file, e);
        }
    }

    /**
     * Parses DS and DNSKEY records in master-file format.
     *
     * @throws IllegalArgumentException if the text is too long, does not parse, has an {@code $INCLUDE}, holds
     *     another record type, or holds no record
     */
    public static TrustAnchors parse(String text) {
        if (text.length() > MAX_TEXT_LENGTH) {
            throw new IllegalArgumentException("trust anchor text is over " + MAX_TEXT_LENGTH + " characters");
        }
        List<String> owners = new ArrayList<>();
        try (Master master =
                new Master(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)), Name.root, 3600)) {
            // The text is all there is: no $INCLUDE of other files (the validator would follow it).
            master.disableIncludes(true);
            Record record;
            while ((record = master.nextRecord()) != null) {
                if (!(record instanceof DSRecord) && !(record instanceof DNSKEYRecord)) {
                    throw new IllegalArgumentException("trust anchors must be DS or DNSKEY records, not: " + record);
                }
                owners.add(DnsNames.normalize(record.getName().toString()));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "trust anchors do not parse as master-file records: " + e.getMessage(), e);
        }
        if (owners.isEmpty()) {
            throw new IllegalArgumentException("no DS or DNSKEY record in the trust anchor text");
        }
        return new TrustAnchors(text, owners);
    }

    /** The anchors in master-file format, as given. */
    public String text() {
        return text;
    }

    /** The owner name of each anchor record (lower case, no trailing dot; {@code ""} for the root). */
    public List<String> owners() {
        return owners;
    }

    @Override
    public String toString() {
        return "TrustAnchors" + owners.stream().map(o -> o.isEmpty() ? "." : o).toList();
    }
}
