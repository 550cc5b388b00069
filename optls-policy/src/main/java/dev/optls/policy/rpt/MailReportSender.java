package dev.optls.policy.rpt;

import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.smtp.MailEnvelope;
import dev.optls.core.smtp.MailOutcome;
import dev.optls.core.smtp.SmtpReply;
import dev.optls.policy.dkim.DkimSigner;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.MailTransactions;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Sends report mail (RFC 8460 §5.3) to the {@code mailto:} destinations of a TLS-RPT record through a configured
 * relay (submission or an outbound MTA): signs the message with DKIM, opens one SMTP session with STARTTLS (required
 * and verified by default), and runs one mail transaction with every address as a recipient, so that the relay's
 * answer to each {@code RCPT TO} gives each destination its own outcome.
 *
 * <p>RFC 8460 §3: with several rua destinations the reporter MAY try each of them, and the report counts as delivered
 * once one accepted it ({@link ReportDelivery#accepted()}). This sender tries every {@code mailto:} destination it is
 * given (one transaction); {@link HttpsReportSender} does the {@code https:} ones.
 *
 * <p>The relay then delivers to the receiving domain's MX; the message carries {@code TLS-Required: No} (RFC 8689
 * §5, set by {@link TlsRptMail}) so that a relay that implements it does not let a TLS failure at the receiver stop
 * the report (RFC 8460 §5.3).
 *
 * <pre>{@code
 * MailReportSender sender = MailReportSender.builder("relay.example.org", 587, signer)
 *         .helloName("reporter.example.org")
 *         .build();
 * List<ReportDelivery> results = sender.send(message, record.rua(), "tlsrpt-noreply@example.org");
 * }</pre>
 */
public final class MailReportSender {

    /** How the connection to the relay is protected. */
    public enum RelayTls {
        /** STARTTLS required, the certificate verified against the trust anchors and the relay's name (default). */
        VERIFY(SecurityLevel.VERIFY),
        /** STARTTLS required, the certificate not checked (Postfix {@code encrypt}): no protection against MITM. */
        ENCRYPT(SecurityLevel.ENCRYPT),
        /**
         * Opportunistic (Postfix {@code may}): STARTTLS when the relay offers it, plaintext otherwise. Insecure: anyone
         * on the path can strip TLS and read or change the report.
         */
        INSECURE_MAY(SecurityLevel.MAY);

        private final SecurityLevel level;

        RelayTls(SecurityLevel level) {
            this.level = level;
        }

        /** The SMTP client level this maps to. */
        public SecurityLevel level() {
            return level;
        }
    }

    private final String host;
    private final int port;
    private final DkimSigner signer;
    private final StartTlsClient client;
    private final Timeouts timeouts;
    private final Clock clock;

    private MailReportSender(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.signer = b.signer;
        this.timeouts = b.timeouts;
        this.clock = b.clock;
        ClientOptions options = new ClientOptions(b.tls.level(), b.helloName, b.implicitTls, Limits.DEFAULT);
        ClientTls tls = ClientTls.create(
                b.tls.level(),
                b.trust,
                ReferenceIdentity.forProtocol(Protocol.SMTP, b.serverName == null ? b.host : b.serverName),
                Optional.empty(),
                TlsProfile.modern());
        this.client = new StartTlsClient(Protocol.SMTP, options, tls, b.timeouts);
    }

    /**
     * A builder for a sender through {@code host:port}, signing with {@code signer} (RFC 8460 §5.3: report mail MUST
     * carry a valid DKIM signature of the reporting domain; receivers ignore unsigned reports).
     */
    public static Builder builder(String host, int port, DkimSigner signer) {
        return new Builder(host, port, signer);
    }

    /** Configures a {@link MailReportSender}. */
    public static final class Builder {
        private final String host;
        private final int port;
        private final DkimSigner signer;
        private RelayTls tls = RelayTls.VERIFY;
        private TrustAnchors trust = TrustAnchors.jdkDefault();
        private String serverName;
        private String helloName = "localhost";
        private boolean implicitTls;
        private Timeouts timeouts = new Timeouts(Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(60));
        private Clock clock = Clock.systemUTC();

        private Builder(String host, int port, DkimSigner signer) {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("the relay host is required");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("the relay port must be 1..65535, not " + port);
            }
            this.host = host;
            this.port = port;
            this.signer = Objects.requireNonNull(signer, "signer");
        }

        /** How the relay connection is protected; default {@link RelayTls#VERIFY}. */
        public Builder tls(RelayTls level) {
            this.tls = Objects.requireNonNull(level, "level");
            return this;
        }

        /** The anchors the relay's certificate chain must lead to (default: the JDK's CAs). */
        public Builder trust(TrustAnchors anchors) {
            this.trust = Objects.requireNonNull(anchors, "anchors");
            return this;
        }

        /** The name the relay's certificate must carry (default: the host connected to). */
        public Builder serverName(String name) {
            this.serverName = Objects.requireNonNull(name, "name");
            return this;
        }

        /** The EHLO name (default {@code localhost}; use this host's name). */
        public Builder helloName(String name) {
            this.helloName = Objects.requireNonNull(name, "name");
            return this;
        }

        /** The relay port speaks TLS from the first byte (RFC 8314, port 465), not STARTTLS. */
        public Builder implicitTls(boolean implicit) {
            this.implicitTls = implicit;
            return this;
        }

        /**
         * Time limits: connect, each reply, handshake. Default 30 s, 5 min (RFC 5321 §4.5.3.2 suggests 5 min for
         * commands and 10 for the end of the data), 60 s.
         */
        public Builder timeouts(Timeouts t) {
            this.timeouts = Objects.requireNonNull(t, "timeouts");
            return this;
        }

        /** The clock for the signature time ({@code t=}); default UTC system clock. */
        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        /** The sender. */
        public MailReportSender build() {
            return new MailReportSender(this);
        }
    }

    /** This sender as the {@link ReportSchedule}'s mail delivery, with {@code envelopeFrom} as the envelope sender. */
    public MailReportDelivery delivery(String envelopeFrom) {
        if (!envelopeFrom.isEmpty()) {
            MailEnvelope.checkMailbox(envelopeFrom, "envelopeFrom");
        }
        return (message, mailto) -> send(message, mailto, envelopeFrom);
    }

    /**
     * Signs {@code message} and sends it to every {@code mailto:} URI in one transaction through the relay.
     *
     * @param message the report message ({@link TlsRptMail#build}), CRLF line ends, not yet signed
     * @param mailtoUris the {@code mailto:} destinations of the TLS-RPT record (RFC 6068; several addresses in one URI
     *     are separated by a percent-encoded comma, header fields after {@code ?} are ignored)
     * @param envelopeFrom the envelope sender ({@code MAIL FROM}); where bounces go, empty for none
     * @return one delivery per URI, in the given order
     * @throws IllegalArgumentException for a URI that is not {@code mailto:}, an invalid envelope sender, or a
     *     message DKIM or SMTP cannot carry (bare CR/LF, no From, lines over 998 octets)
     */
    public List<ReportDelivery> send(byte[] message, List<URI> mailtoUris, String envelopeFrom) {
        Objects.requireNonNull(message, "message");
        if (!envelopeFrom.isEmpty()) {
            MailEnvelope.checkMailbox(envelopeFrom, "envelopeFrom");
        }
        Map<URI, List<String>> addresses = new LinkedHashMap<>();
        Set<String> recipients = new LinkedHashSet<>();
        Map<URI, String> unusable = new LinkedHashMap<>();
        for (URI uri : mailtoUris) {
            if (uri.getScheme() == null
                    || !uri.getScheme().toLowerCase(Locale.ROOT).equals("mailto")) {
                throw new IllegalArgumentException("reports are mailed to mailto: URIs only, not " + uri);
            }
            List<String> parsed = addressesOf(uri);
            Set<String> with = new LinkedHashSet<>(recipients);
            with.addAll(parsed);
            if (parsed.isEmpty()) {
                unusable.put(uri, "no usable address in " + uri + " (RFC 6068 mailto: with an RFC 5321 mailbox)");
            } else if (with.size() > MailEnvelope.MAX_RECIPIENTS) {
                unusable.put(
                        uri,
                        "more than " + MailEnvelope.MAX_RECIPIENTS + " addresses in one report; " + uri
                                + " was left out");
            } else {
                addresses.put(uri, parsed);
                recipients.addAll(parsed);
            }
        }
        Map<URI, ReportDelivery> byUri = new LinkedHashMap<>();
        unusable.forEach((uri, reason) -> byUri.put(uri, new ReportDelivery.Failed(uri, reason)));
        if (!recipients.isEmpty()) {
            byte[] signed = signer.sign(message, clock.instant());
            deliver(signed, new MailEnvelope(envelopeFrom, List.copyOf(recipients)), addresses, byUri);
        }
        List<ReportDelivery> results = new ArrayList<>();
        for (URI uri : mailtoUris) {
            results.add(byUri.get(uri));
        }
        return results;
    }

    private void deliver(
            byte[] signed, MailEnvelope envelope, Map<URI, List<String>> addresses, Map<URI, ReportDelivery> byUri) {
        try (ClientSession session = client.connect(host, port)) {
            if (session.status() == ClientSession.Status.FAILED) {
                String reason = "relay " + host + ":" + port + ": "
                        + session.failure().map(Object::toString).orElse("failed");
                addresses.keySet().forEach(uri -> byUri.put(uri, new ReportDelivery.Failed(uri, reason)));
                return;
            }
            MailTransactions.Attempt attempt = MailTransactions.send(session, envelope, signed, timeouts);
            if (attempt.failure().isPresent()) {
                String reason =
                        "relay " + host + ":" + port + ": " + attempt.failure().get();
                addresses.keySet().forEach(uri -> byUri.put(uri, new ReportDelivery.Failed(uri, reason)));
                return;
            }
            MailOutcome outcome = attempt.outcome().orElseThrow();
            addresses.forEach((uri, addrs) -> byUri.put(uri, deliveryFor(uri, addrs, outcome)));
        } catch (IOException e) {
            // Closing the relay connection failed after the outcome was known: nothing to change.
        }
    }

    private static ReportDelivery deliveryFor(URI uri, List<String> addrs, MailOutcome outcome) {
        if (outcome instanceof MailOutcome.NotSent n) {
            return new ReportDelivery.MailRefused(uri, "not sent: " + n.reason(), true);
        }
        List<MailOutcome.RecipientResult> results = outcome instanceof MailOutcome.Delivered d
                ? d.recipients()
                : ((MailOutcome.Refused) outcome).recipients();
        for (String a : addrs) {
            Optional<SmtpReply> refusedAtRcpt = results.stream()
                    .filter(r -> r.recipient().equals(a) && !r.accepted())
                    .map(MailOutcome.RecipientResult::reply)
                    .findFirst();
            if (refusedAtRcpt.isPresent()) {
                return refused(uri, refusedAtRcpt.get());
            }
        }
        if (outcome instanceof MailOutcome.Delivered d) {
            return new ReportDelivery.MailAccepted(uri, addrs, d.reply().toString());
        }
        return refused(uri, ((MailOutcome.Refused) outcome).reply());
    }

    private static ReportDelivery refused(URI uri, SmtpReply reply) {
        return new ReportDelivery.MailRefused(uri, reply.toString(), reply.code() / 100 == 5);
    }

    /**
     * The addresses of a {@code mailto:} URI (RFC 6068 §2: {@code mailto:addr1,addr2?hfields}); RFC 8460 §3 requires
     * the comma to be percent-encoded inside a TLS-RPT record, so it is looked for after decoding. Addresses that are
     * not RFC 5321 mailboxes are left out.
     */
    static List<String> addressesOf(URI uri) {
        String ssp = uri.getSchemeSpecificPart();
        if (ssp == null) {
            return List.of();
        }
        int q = ssp.indexOf('?');
        String to = q < 0 ? ssp : ssp.substring(0, q);
        List<String> out = new ArrayList<>();
        for (String a : to.split(",")) {
            String address = a.strip();
            if (MailEnvelope.isMailbox(address) && !out.contains(address)) {
                out.add(address);
            }
        }
        return out;
    }
}
