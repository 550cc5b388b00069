package dev.optls.policy.sts.internal;

import dev.optls.policy.sts.StsFetchFailure;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads the HTTP/1.1 response (RFC 9112) to a policy request: decides on status and headers before any body byte is
 * read (RFC 8461 §3.3: only 200, no redirects, {@code text/plain}) and reads at most {@code limit} body bytes, with
 * {@code Content-Length}, chunked transfer coding or to the end of the connection; a body that grows beyond the limit
 * is refused as soon as it does, whatever the server sends. Every line is bounded, and so is the number of header
 * fields. A response that is not HTTP is an {@link IOException} naming what was wrong.
 */
public final class PolicyResponse {

    /** What was made of the response. */
    public sealed interface Result permits Body, Rejected {}

    /** The whole body, within the limit. */
    public record Body(byte[] bytes) implements Result {}

    /** The response was refused, before or while reading the body. */
    public record Rejected(StsFetchFailure failure, String detail) implements Result {}

    /** The longest status, header or chunk-size line. */
    static final int MAX_LINE = 8192;

    /** The most header fields (and trailer fields) in a response. */
    static final int MAX_FIELDS = 100;

    /** The most interim (1xx) responses before the final one. */
    static final int MAX_INTERIM = 5;

    private final InputStream in;
    private final int limit;

    private PolicyResponse(InputStream in, int limit) {
        this.in = in;
        this.limit = limit;
    }

    /**
     * Reads the response from {@code in} (buffered by the caller), accepting a body of at most {@code limit} bytes.
     *
     * @throws IOException if the connection fails or closes early, or the response is not HTTP/1.x
     */
    public static Result read(InputStream in, int limit) throws IOException {
        return new PolicyResponse(in, limit).read();
    }

    private Result read() throws IOException {
        for (int interim = 0; ; interim++) {
            String statusLine = line("status line");
            int status = status(statusLine);
            Headers headers = headers();
            if (status >= 200) {
                return finalResponse(status, headers);
            }
            // RFC 9110 §15.2: interim responses (103 Early Hints) precede the final one.
            if (interim == MAX_INTERIM) {
                throw new IOException("more than " + MAX_INTERIM + " interim (1xx) responses");
            }
        }
    }

    private Result finalResponse(int status, Headers headers) throws IOException {
        if (status >= 300 && status < 400) {
            // RFC 8461 §3.3: 3xx redirects must not be followed.
            return new Rejected(
                    StsFetchFailure.REDIRECT,
                    "HTTP " + status + " redirect to " + headers.location.orElse("(no Location)")
                            + "; redirects are not followed (RFC 8461 §3.3)");
        }
        if (status != 200) {
            // RFC 8461 §3.3: only an HTTP 200 response carries a policy.
            return new Rejected(StsFetchFailure.HTTP_STATUS, "HTTP " + status + " instead of 200");
        }
        String type = headers.contentType.orElse("");
        // RFC 8461 §3.3: the policy is served as "text/plain"; parameters such as charset may follow.
        String mediaType = type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("text/plain")) {
            return new Rejected(
                    StsFetchFailure.CONTENT_TYPE, "Content-Type is '" + type + "', not text/plain (RFC 8461 §3.3)");
        }
        // RFC 9112 §6.3: a transfer coding overrides Content-Length; chunked must be the final coding, otherwise
        // the body ends with the connection.
        if (headers.transferEncoding.isPresent()) {
            return headers.transferEncoding.get().endsWith("chunked") ? chunked() : toEnd();
        }
        if (headers.contentLength >= 0) {
            if (headers.contentLength > limit) {
                return tooLarge("Content-Length " + headers.contentLength);
            }
            return new Body(exactly((int) headers.contentLength));
        }
        return toEnd();
    }

    /** RFC 9112 §4: {@code HTTP/1.x SP 3DIGIT SP [reason]}. */
    private static int status(String line) throws IOException {
        if (!line.startsWith("HTTP/1.") || line.length() < 12 || line.charAt(8) != ' ') {
            throw new IOException("not an HTTP/1.x response: '" + printable(line) + "'");
        }
        String code = line.substring(9, 12);
        if (!code.chars().allMatch(c -> c >= '0' && c <= '9') || line.length() > 12 && line.charAt(12) != ' ') {
            throw new IOException("no status code in '" + printable(line) + "'");
        }
        return Integer.parseInt(code);
    }

    /** The fields the fetch looks at. */
    private static final class Headers {
        Optional<String> contentType = Optional.empty();
        Optional<String> location = Optional.empty();
        Optional<String> transferEncoding = Optional.empty();
        long contentLength = -1;
    }

    private Headers headers() throws IOException {
        Headers h = new Headers();
        for (int n = 0; ; n++) {
            String line = line("header field");
            if (line.isEmpty()) {
                return h;
            }
            if (n == MAX_FIELDS) {
                throw new IOException("more than " + MAX_FIELDS + " header fields");
            }
            int colon = line.indexOf(':');
            // RFC 9112 §5.2: obsolete line folding is refused like any field without a name.
            if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                throw new IOException("malformed header field '" + printable(line) + "'");
            }
            String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            switch (name) {
                case "content-type" -> h.contentType = h.contentType.or(() -> Optional.of(value));
                case "location" -> h.location = h.location.or(() -> Optional.of(value));
                case "transfer-encoding" ->
                    h.transferEncoding = Optional.of(
                            h.transferEncoding.map(t -> t + ", ").orElse("") + value.toLowerCase(Locale.ROOT));
                case "content-length" -> {
                    long length = contentLength(value);
                    // RFC 9112 §6.3: differing lengths make the framing unknowable.
                    if (h.contentLength >= 0 && h.contentLength != length) {
                        throw new IOException("two different Content-Length fields");
                    }
                    h.contentLength = length;
                }
                default -> {
                    // not needed
                }
            }
        }
    }

    private static long contentLength(String value) throws IOException {
        if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IOException("invalid Content-Length '" + printable(value) + "'");
        }
        return Long.parseLong(value);
    }

    /** RFC 9112 §7.1: chunk-size [chunk-ext] CRLF, the data, CRLF; a zero size, trailer fields and CRLF end it. */
    private Result chunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String line = line("chunk size");
            int semicolon = line.indexOf(';');
            String hex = (semicolon < 0 ? line : line.substring(0, semicolon)).strip();
            if (hex.isEmpty() || hex.length() > 8 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                throw new IOException("invalid chunk size '" + printable(line) + "'");
            }
            long size = Long.parseLong(hex, 16);
            if (size == 0) {
                for (int n = 0; !line("trailer field").isEmpty(); n++) {
                    if (n == MAX_FIELDS) {
                        throw new IOException("more than " + MAX_FIELDS + " trailer fields");
                    }
                }
                return new Body(body.toByteArray());
            }
            if (body.size() + size > limit) {
                return tooLarge("the body (more than " + limit + " bytes announced in chunks)");
            }
            body.writeBytes(exactly((int) size));
            if (!line("chunk end").isEmpty()) {
                throw new IOException("a chunk does not end where its size says");
            }
        }
    }

    private Result toEnd() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            if (body.size() + n > limit) {
                return tooLarge("the body (more than " + limit + " bytes read)");
            }
            body.write(buffer, 0, n);
        }
        return new Body(body.toByteArray());
    }

    private byte[] exactly(int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new IOException("the connection closed after " + bytes.length + " of " + length + " body bytes");
        }
        return bytes;
    }

    private Rejected tooLarge(String what) {
        return new Rejected(
                StsFetchFailure.TOO_LARGE,
                what + " is more than the " + limit + " bytes a policy may have (RFC 8461 §3.3)");
    }

    /** One line without its CRLF (or bare LF), at most {@link #MAX_LINE} bytes. */
    private String line(String what) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed in a " + what);
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
            }
            if (line.size() == MAX_LINE) {
                throw new IOException("a " + what + " longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
    }

    private static String printable(String text) {
        String cut = text.length() > 80 ? text.substring(0, 80) + "…" : text;
        StringBuilder b = new StringBuilder();
        for (char c : cut.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f || c == '…' ? c : '?');
        }
        return b.toString();
    }
}
