package dev.optls.policy.dkim;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Signs a message with DKIM (RFC 6376), as RFC 8460 §5.3 requires of report mail: {@code rsa-sha256} or {@code
 * ed25519-sha256} (RFC 8463), {@code c=relaxed/relaxed}, no {@code l=} (the whole body is signed), {@code t=} the
 * signing time. The {@code DKIM-Signature} field is prepended to the message.
 *
 * <pre>{@code
 * DkimSigner signer = DkimSigner.create(DkimKey.load(Path.of("tlsrpt.key.pem")), "example.org", "tlsrpt");
 * byte[] signed = signer.sign(message, Instant.now());
 * // publish: tlsrpt._domainkey.example.org TXT signer.key().dnsTxtValue()
 * }</pre>
 *
 * <p>Signed header fields ({@code h=}): those of {@link #DEFAULT_SIGNED_HEADERS} present in the message, every
 * instance; {@code From} is mandatory (RFC 6376 §5.4). Instances are taken from the bottom up (§5.4.2).
 */
public final class DkimSigner {

    /** The header fields signed when present (RFC 6376 §5.4.1 recommends the first ones; RFC 8460 §5.3 the last). */
    public static final List<String> DEFAULT_SIGNED_HEADERS = List.of(
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "MIME-Version",
            "Content-Type",
            "TLS-Report-Domain",
            "TLS-Report-Submitter");

    private static final Pattern DOMAIN =
            Pattern.compile("(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*");
    private static final int LINE = 78;

    private final DkimKey key;
    private final String domain;
    private final String selector;
    private final List<String> signedHeaders;

    private DkimSigner(DkimKey key, String domain, String selector, List<String> signedHeaders) {
        this.key = key;
        this.domain = domain;
        this.selector = selector;
        this.signedHeaders = signedHeaders;
    }

    /**
     * A signer for {@code d=domain}, {@code s=selector}.
     *
     * @throws IllegalArgumentException when the domain or selector is not a DNS name (A-labels)
     */
    public static DkimSigner create(DkimKey key, String domain, String selector) {
        Objects.requireNonNull(key, "key");
        checkName(domain, "domain (d=)");
        checkName(selector, "selector (s=)");
        return new DkimSigner(key, domain, selector, DEFAULT_SIGNED_HEADERS);
    }

    /** The same signer, signing these header fields when present (From is always signed). */
    public DkimSigner withSignedHeaders(List<String> names) {
        List<String> copy = new ArrayList<>();
        copy.add("From");
        for (String n : names) {
            if (n.isEmpty() || n.chars().anyMatch(c -> c <= ' ' || c == ':' || c >= 127)) {
                throw new IllegalArgumentException("not a header field name: " + n);
            }
            if (copy.stream().noneMatch(n::equalsIgnoreCase)) {
                copy.add(n);
            }
        }
        return new DkimSigner(key, domain, selector, List.copyOf(copy));
    }

    private static void checkName(String name, String what) {
        Objects.requireNonNull(name, what);
        if (name.length() > 253 || !DOMAIN.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " must be a DNS name in A-labels, not: " + name);
        }
    }

    /** The key. */
    public DkimKey key() {
        return key;
    }

    /** The signing domain ({@code d=}). */
    public String domain() {
        return domain;
    }

    /** The selector ({@code s=}). */
    public String selector() {
        return selector;
    }

    /** The DNS name of the key record: {@code <selector>._domainkey.<domain>} (RFC 6376 §3.6.2.1). */
    public String keyRecordName() {
        return selector + "._domainkey." + domain;
    }

    /** {@code message} with a {@code DKIM-Signature} field in front, signed at {@code now}. */
    public byte[] sign(byte[] message, Instant now) {
        byte[] field = signatureField(message, now).getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[field.length + message.length];
        System.arraycopy(field, 0, out, 0, field.length);
        System.arraycopy(message, 0, out, field.length, message.length);
        return out;
    }

    /**
     * The {@code DKIM-Signature} field for {@code message} (CRLF line ends), folded, with its final CRLF.
     *
     * @throws IllegalArgumentException when the message has a bare CR or LF, no header, or no From field
     */
    public String signatureField(byte[] message, Instant now) {
        checkLineEnds(message);
        DkimCanonicalization.SplitMessage split = DkimCanonicalization.split(message);
        // RFC 6376 §3.7: the body hash over the canonicalized body (all of it: no l=, RFC 8460 §5.3).
        String bh = Base64.getEncoder().encodeToString(sha256(DkimCanonicalization.relaxedBody(split.body())));

        List<String> names = new ArrayList<>();
        StringBuilder hashed = new StringBuilder();
        for (String wanted : signedHeaders) {
            List<DkimCanonicalization.HeaderField> instances = split.headers().stream()
                    .filter(h -> h.name().strip().equalsIgnoreCase(wanted))
                    .toList();
            // RFC 6376 §5.4.2: several instances are signed from the bottom up.
            for (int i = instances.size() - 1; i >= 0; i--) {
                names.add(wanted.toLowerCase(Locale.ROOT));
                hashed.append(DkimCanonicalization.relaxedHeader(instances.get(i)));
            }
        }
        if (!names.contains("from")) {
            throw new IllegalArgumentException("the message has no From field; RFC 6376 §5.4 requires signing it");
        }
        List<String> tags = List.of(
                "v=1",
                "a=" + key.algorithm().tagValue(),
                "c=relaxed/relaxed",
                "d=" + domain,
                "s=" + selector,
                "t=" + now.getEpochSecond(),
                "h=" + String.join(":", names),
                "bh=" + bh);
        StringBuilder field = new StringBuilder("DKIM-Signature:");
        int lineLength = field.length();
        for (String tag : tags) {
            String piece = " " + tag + ";";
            if (lineLength + piece.length() > LINE) {
                // RFC 6376 §3.2: FWS is allowed between tags.
                field.append("\r\n\t").append(tag).append(';');
                lineLength = 1 + tag.length() + 1;
            } else {
                field.append(piece);
                lineLength += piece.length();
            }
        }
        field.append(" b=");
        lineLength += 3;
        // RFC 6376 §3.7: the signature field itself is hashed with an empty b= value and without its CRLF.
        String unsigned = field.substring("DKIM-Signature:".length());
        hashed.append(DkimCanonicalization.relaxedHeaderWithoutCrlf(
                new DkimCanonicalization.HeaderField("DKIM-Signature", unsigned)));
        String b;
        try {
            b = Base64.getEncoder()
                    .encodeToString(key.signRaw(hashed.toString().getBytes(StandardCharsets.ISO_8859_1)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing failed: " + e.getMessage(), e);
        }
        for (int i = 0; i < b.length(); ) {
            int room = LINE - lineLength;
            if (room < 8) {
                // RFC 6376 §3.5: FWS may appear inside the base64 value of b=; verifiers ignore it.
                field.append("\r\n\t");
                lineLength = 1;
                room = LINE - 1;
            }
            int n = Math.min(room, b.length() - i);
            field.append(b, i, i + n);
            lineLength += n;
            i += n;
        }
        return field.append("\r\n").toString();
    }

    private static void checkLineEnds(byte[] m) {
        for (int i = 0; i < m.length; i++) {
            if (m[i] == '\r' && (i + 1 >= m.length || m[i + 1] != '\n')
                    || m[i] == '\n' && (i == 0 || m[i - 1] != '\r')) {
                throw new IllegalArgumentException("the message has a bare CR or LF at offset " + i
                        + "; DKIM signs the message as sent, with CRLF line ends (RFC 5322 §2.1)");
            }
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
