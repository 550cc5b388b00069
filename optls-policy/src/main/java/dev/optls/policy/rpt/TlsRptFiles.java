package dev.optls.policy.rpt;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** Report file names (RFC 8460 §5.1) and gzip (§5.3, {@code application/tlsrpt+gzip}). */
public final class TlsRptFiles {

    /** The media type of a gzipped report (RFC 8460 §6.4). */
    public static final String GZIP_MEDIA_TYPE = "application/tlsrpt+gzip";

    /** The media type of a plain JSON report (RFC 8460 §6.5). */
    public static final String JSON_MEDIA_TYPE = "application/tlsrpt+json";

    private TlsRptFiles() {}

    /**
     * The file name of a gzipped report, RFC 8460 §5.1: {@code
     * sender!policy-domain!begin-timestamp!end-timestamp[!unique-id].json.gz}, the timestamps in seconds since the
     * epoch.
     *
     * @param submitter the reporting domain, e.g. {@code mail.sender.example}
     * @param uniqueId an optional id to tell several reports for the same range apart, or {@code null}
     */
    public static String fileName(String submitter, String policyDomain, Instant begin, Instant end, String uniqueId) {
        Objects.requireNonNull(begin, "begin");
        Objects.requireNonNull(end, "end");
        StringBuilder b = new StringBuilder()
                .append(part(submitter, "submitter"))
                .append('!')
                .append(part(ReportPolicy.normalizeDomain(policyDomain), "policy domain"))
                .append('!')
                .append(begin.getEpochSecond())
                .append('!')
                .append(end.getEpochSecond());
        if (uniqueId != null) {
            b.append('!').append(part(uniqueId, "unique id"));
        }
        return b.append(".json.gz").toString();
    }

    /** The file name of {@code report} (submitter given, policy domain of its first policy). */
    public static String fileName(String submitter, TlsRptReport report, String uniqueId) {
        if (report.policies().isEmpty()) {
            throw new IllegalArgumentException("a report without policies has no policy domain");
        }
        return fileName(
                submitter, report.policies().get(0).policy().policyDomain(), report.start(), report.end(), uniqueId);
    }

    /** Gzips {@code bytes}. */
    public static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, bytes.length / 4));
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("gzip into memory failed", e);
        }
        return out.toByteArray();
    }

    /**
     * Gunzips {@code gz}, reading at most {@code maxBytes} (decompression bombs: RFC 8460 §7 asks receivers to
     * limit it); empty when the input is not gzip or inflates past the limit.
     */
    public static Optional<byte[]> gunzip(byte[] gz, int maxBytes) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                if (out.size() + n > maxBytes) {
                    return Optional.empty();
                }
                out.write(buf, 0, n);
            }
            return Optional.of(out.toByteArray());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String part(String s, String what) {
        Objects.requireNonNull(s, what);
        if (s.isEmpty() || s.indexOf('!') >= 0 || s.indexOf('/') >= 0 || s.indexOf('\\') >= 0) {
            throw new IllegalArgumentException("the " + what + " must be non-empty without '!', '/' or '\\': " + s);
        }
        return s;
    }
}
