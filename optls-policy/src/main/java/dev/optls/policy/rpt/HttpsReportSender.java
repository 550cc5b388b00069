package dev.optls.policy.rpt;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * Sends gzipped reports by HTTPS POST (RFC 8460 §5.4) with the JDK {@link HttpClient}: {@code Content-Type:
 * application/tlsrpt+gzip}, no redirects followed, a connect timeout and a limit for the whole exchange; a 2xx
 * status means the report was accepted. The response body is discarded.
 */
public final class HttpsReportSender {

    /** The default connect timeout. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** The default limit for one POST, response included. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final HttpClient client;
    private final Duration requestTimeout;

    private HttpsReportSender(SSLContext sslContext, Duration connectTimeout, Duration requestTimeout) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(connectTimeout);
        if (sslContext != null) {
            b.sslContext(sslContext);
        }
        this.client = b.build();
        this.requestTimeout = requestTimeout;
    }

    /** A sender trusting the JDK's default CAs, with the default time limits. */
    public static HttpsReportSender create() {
        return new HttpsReportSender(null, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT);
    }

    /** A sender with this TLS context (its trust decides which receivers are accepted) and time limits. */
    public static HttpsReportSender create(SSLContext sslContext, Duration connectTimeout, Duration requestTimeout) {
        Objects.requireNonNull(sslContext, "sslContext");
        if (connectTimeout.isNegative()
                || connectTimeout.isZero()
                || requestTimeout.isNegative()
                || requestTimeout.isZero()) {
            throw new IllegalArgumentException("time limits must be positive");
        }
        return new HttpsReportSender(sslContext, connectTimeout, requestTimeout);
    }

    /**
     * POSTs the gzipped report to {@code destination}, an {@code https:} URI from a TLS-RPT record; whatever the URI
     * or the receiver does is a {@link ReportDelivery}.
     *
     * @throws IllegalArgumentException if {@code destination} is not an {@code https:} URI (a caller bug)
     */
    public ReportDelivery post(URI destination, byte[] gzippedReport) {
        Objects.requireNonNull(gzippedReport, "gzippedReport");
        if (destination.getScheme() == null
                || !destination.getScheme().toLowerCase(Locale.ROOT).equals("https")) {
            throw new IllegalArgumentException("reports are posted to https: URIs only, not " + destination);
        }
        try {
            HttpRequest request = HttpRequest.newBuilder(destination)
                    .timeout(requestTimeout)
                    // RFC 8460 §5.4: the report is the body, with its media type.
                    .header("Content-Type", TlsRptFiles.GZIP_MEDIA_TYPE)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(gzippedReport))
                    .build();
            HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
            int status = response.statusCode();
            // RFC 8460 §5.4: "a 2xx ... response ... MUST be considered successful delivery".
            return status >= 200 && status < 300
                    ? new ReportDelivery.Accepted(destination, status)
                    : new ReportDelivery.Rejected(destination, status);
        } catch (HttpTimeoutException e) {
            return new ReportDelivery.Failed(destination, "timed out: " + e.getMessage());
        } catch (SSLException e) {
            return new ReportDelivery.Failed(destination, "TLS failed: " + e.getMessage());
        } catch (IOException e) {
            return new ReportDelivery.Failed(destination, "no answer: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ReportDelivery.Failed(destination, "interrupted");
        } catch (IllegalArgumentException e) {
            // The URI comes from the peer's DNS record: a port out of range or a host the JDK refuses is its fault.
            return new ReportDelivery.Failed(destination, "the JDK HTTP client refuses this URI: " + e.getMessage());
        }
    }

    /**
     * POSTs to each destination in order until one accepts (RFC 8460 §3: the report counts as delivered once one
     * endpoint accepts it); returns every attempt, the accepting one last.
     */
    public List<ReportDelivery> postUntilAccepted(List<URI> destinations, byte[] gzippedReport) {
        List<ReportDelivery> attempts = new ArrayList<>();
        for (URI d : destinations) {
            ReportDelivery r = post(d, gzippedReport);
            attempts.add(r);
            if (r instanceof ReportDelivery.Accepted) {
                break;
            }
        }
        return attempts;
    }
}
