package dev.optls.policy.rpt;

import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.internal.TxtRecordSyntax;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A valid TLS-RPT TXT record (RFC 8460 §3), e.g. {@code v=TLSRPTv1; rua=mailto:tlsrpt@example.com}: the report
 * destinations ({@code mailto:} and {@code https:} URIs, in record order) and the extension fields.
 *
 * @param rua the aggregate report URIs, at least one, each {@code mailto:} or {@code https:}
 * @param extensions the other {@code name=value} fields, in record order
 */
public record TlsRptRecord(List<URI> rua, List<Extension> extensions) {

    /** The longest record text parsed (the concatenated strings of one TXT record); longer is invalid. */
    public static final int MAX_LENGTH = 2048;

    /** The most {@code rua} URIs kept; a record with more is invalid. */
    public static final int MAX_URIS = 16;

    /** The owner name prefix of the record: {@code _smtp._tls.<policy domain>}. */
    public static final String PREFIX = "_smtp._tls.";

    private static final String VERSION = "v=TLSRPTv1";

    /** Requires at least one URI and copies the lists. */
    public TlsRptRecord {
        rua = List.copyOf(rua);
        extensions = List.copyOf(extensions);
        if (rua.isEmpty()) {
            throw new IllegalArgumentException("a TLS-RPT record needs at least one rua URI");
        }
    }

    /** One extension field {@code name=value}. */
    public record Extension(String name, String value) {
        /** Requires both parts. */
        public Extension {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    /** The {@code https:} destinations, in record order. */
    public List<URI> httpsDestinations() {
        return rua.stream().filter(u -> "https".equals(u.getScheme())).toList();
    }

    /** The {@code mailto:} destinations' addresses (percent-decoded), in record order. */
    public List<String> mailDestinations() {
        return rua.stream()
                .filter(u -> "mailto".equals(u.getScheme()))
                .map(URI::getSchemeSpecificPart)
                .toList();
    }

    /**
     * Looks up {@code _smtp._tls.<policyDomain>} TXT through {@code dns} and {@link #select}s the record (RFC 8460
     * §3). NXDOMAIN and NODATA are {@link TlsRptRecordOutcome.Absent}; a failed lookup is {@link
     * TlsRptRecordOutcome.LookupFailed}. RFC 8460 does not require DNSSEC for this record, so any status is used.
     *
     * @throws IllegalArgumentException if {@code policyDomain} is not a DNS name (a caller bug)
     */
    public static TlsRptRecordOutcome discover(DnsResolver dns, String policyDomain) {
        String domain = DnsNames.normalize(policyDomain);
        if (domain.isEmpty()) {
            throw new IllegalArgumentException("the policy domain must not be the root");
        }
        String owner = PREFIX + domain;
        DnsAnswer<String> txt = dns.txt(owner);
        if (txt instanceof DnsAnswer.Failed<String> failed) {
            return new TlsRptRecordOutcome.LookupFailed(
                    owner, "the TXT lookup failed (" + failed.failure() + ": " + failed.detail() + ")");
        }
        return select(txt.records());
    }

    /**
     * Chooses and parses the TLS-RPT record among all TXT records at {@code _smtp._tls.<domain>} (RFC 8460 §3):
     * those that do not begin with {@code v=TLSRPTv1;} are discarded; none left is {@link
     * TlsRptRecordOutcome.Absent}, more than one is {@link TlsRptRecordOutcome.Multiple}, otherwise the one record
     * is parsed.
     *
     * @param txtRecords each record's strings already concatenated without separator (RFC 8460 §3)
     */
    public static TlsRptRecordOutcome select(List<String> txtRecords) {
        List<String> candidates = TxtRecordSyntax.candidates(txtRecords, VERSION);
        if (candidates.isEmpty()) {
            return new TlsRptRecordOutcome.Absent(
                    txtRecords.isEmpty()
                            ? "no TXT record"
                            : txtRecords.size() + " TXT record(s), none beginning with v=TLSRPTv1;");
        }
        if (candidates.size() > 1) {
            return new TlsRptRecordOutcome.Multiple(candidates);
        }
        return parse(candidates.get(0));
    }

    /**
     * Parses one record text against the ABNF of RFC 8460 §3. Returns {@link TlsRptRecordOutcome.Valid} or {@link
     * TlsRptRecordOutcome.Invalid}, never throws for any input.
     *
     * <p>Several {@code rua} fields are joined in order (RFC 8460 errata: "multiple rua fields are also
     * conformant"). URIs with a scheme other than {@code mailto:} or {@code https:} are skipped; the record is
     * invalid when no URI is left. Whitespace after the last field is tolerated.
     */
    public static TlsRptRecordOutcome parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.length() > MAX_LENGTH) {
            return invalid(text, "the record is longer than " + MAX_LENGTH + " characters");
        }
        boolean[] sawRua = {false};
        List<URI> uris = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<Extension> extensions = new ArrayList<>();
        try {
            TxtRecordSyntax.scan(text, VERSION, "a rua", (name, first, t, start) -> {
                if (!name.equals("rua")) {
                    int end = TxtRecordSyntax.extensionValue(name, t, start);
                    extensions.add(new Extension(name, t.substring(start, end)));
                    return end;
                }
                sawRua[0] = true;
                return readRua(t, start, uris, skipped);
            });
        } catch (TxtRecordSyntax.Invalid e) {
            return invalid(text, e.reason());
        }
        if (!sawRua[0]) {
            // RFC 8460 §3: "rua: ... This field is required."
            return invalid(text, "the record has no rua field");
        }
        if (uris.isEmpty()) {
            return invalid(text, "no mailto: or https: URI in rua (skipped: " + String.join(", ", skipped) + ")");
        }
        return new TlsRptRecordOutcome.Valid(new TlsRptRecord(uris, extensions));
    }

    /** RFC 8460 §3: tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri); returns the end of the field. */
    private static int readRua(String text, int start, List<URI> uris, List<String> skipped)
            throws TxtRecordSyntax.Invalid {
        int n = text.length();
        int p = start;
        while (true) {
            int uriStart = p;
            // ",", "!" and ";" MUST be percent-encoded inside a URI (RFC 8460 §3), and a URI has no spaces.
            while (p < n && isUriChar(text.charAt(p))) {
                p++;
            }
            String uriText = text.substring(uriStart, p);
            if (uriText.isEmpty()) {
                throw new TxtRecordSyntax.Invalid("empty URI in the rua field");
            }
            String problem = addUri(uriText, uris, skipped);
            if (problem != null) {
                throw new TxtRecordSyntax.Invalid(problem);
            }
            if (uris.size() > MAX_URIS) {
                throw new TxtRecordSyntax.Invalid("more than " + MAX_URIS + " rua URIs");
            }
            int q = TxtRecordSyntax.skipWsp(text, p);
            if (q < n && text.charAt(q) == ',') {
                p = TxtRecordSyntax.skipWsp(text, q + 1);
                continue;
            }
            break;
        }
        if (!TxtRecordSyntax.atFieldEnd(text, p)) {
            throw new TxtRecordSyntax.Invalid(
                    "unexpected " + TxtRecordSyntax.describe(text.charAt(p)) + " in the rua field");
        }
        return p;
    }

    /** The record text: {@code v=TLSRPTv1; rua=a,b;} followed by the extensions. */
    public String toText() {
        StringBuilder b = new StringBuilder(VERSION).append("; rua=");
        for (int i = 0; i < rua.size(); i++) {
            b.append(i == 0 ? "" : ",").append(rua.get(i).toString());
        }
        b.append(';');
        for (Extension e : extensions) {
            b.append(' ').append(e.name()).append('=').append(e.value()).append(';');
        }
        return b.toString();
    }

    private static String addUri(String uriText, List<URI> uris, List<String> skipped) {
        URI uri;
        try {
            uri = new URI(uriText);
        } catch (URISyntaxException e) {
            return "'" + shorten(uriText) + "' is not a URI: " + e.getReason();
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "mailto" -> {
                String address = uri.getSchemeSpecificPart();
                int at = address == null ? -1 : address.lastIndexOf('@');
                if (at <= 0 || at == address.length() - 1 || address.indexOf('?') >= 0) {
                    return "'" + shorten(uriText) + "' is not a mailto: URI with one address";
                }
                uris.add(uri);
            }
            case "https" -> {
                if (uri.getHost() == null) {
                    return "'" + shorten(uriText) + "' is not an https: URI with a host";
                }
                uris.add(uri);
            }
            default -> skipped.add(shorten(uriText)); // RFC 8460 §3 defines only mailto: and https:
        }
        return null;
    }

    private static boolean isUriChar(char c) {
        return c >= 0x21 && c <= 0x7E && c != ',' && c != ';' && c != '!';
    }

    private static String shorten(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }

    private static TlsRptRecordOutcome invalid(String text, String reason) {
        return new TlsRptRecordOutcome.Invalid(shorten(text.length() > 200 ? text.substring(0, 200) : text), reason);
    }
}
