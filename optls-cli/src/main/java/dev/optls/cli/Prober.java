package dev.optls.cli;

import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Phase;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ReferenceIdentity;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.Verification;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.StartTlsClient;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/** Probes one target at one level and describes what it found. */
public final class Prober {

    /**
     * What to probe with.
     *
     * @param level the security level to demand
     * @param trust trust anchors for the certificate check
     * @param serverName reference identity and SNI; defaults to the target host
     * @param helloName the EHLO/LHLO argument
     * @param timeouts per-phase limits
     * @param serviceDomain the XMPP stream's {@code to} domain; defaults to the server name, else the host
     */
    public record Options(
            SecurityLevel level,
            TrustAnchors trust,
            Optional<String> serverName,
            String helloName,
            Timeouts timeouts,
            Optional<String> serviceDomain) {

        /** Options without a service domain. */
        public Options(
                SecurityLevel level,
                TrustAnchors trust,
                Optional<String> serverName,
                String helloName,
                Timeouts timeouts) {
            this(level, trust, serverName, helloName, timeouts, Optional.empty());
        }
    }

    private Prober() {}

    /** Runs the probe; never throws for anything the network or the server does. */
    public static ProbeReport probe(Target target, Options options) {
        return probe(target, options, (session, tls) -> {});
    }

    /** Runs the probe and, while the connection is still open, {@code whileOpen} (e.g. an FTP listing). */
    static ProbeReport probe(
            Target target, Options options, java.util.function.BiConsumer<ClientSession, ClientTls> whileOpen) {
        long start = System.nanoTime();
        // Implicit TLS always runs TLS; at levels below ENCRYPT the certificate is simply not enforced.
        SecurityLevel tlsLevel =
                target.implicitTls() && !options.level().requiresTls() ? SecurityLevel.ENCRYPT : options.level();
        ClientTls tls = ClientTls.create(
                tlsLevel == SecurityLevel.NONE ? SecurityLevel.MAY : tlsLevel,
                options.trust(),
                // XMPP: the domain is checked as DNS-ID, SRV-ID or XmppAddr (RFC 6120 §13.7.1.2).
                ReferenceIdentity.forProtocol(
                        target.protocol(),
                        options.serverName().or(options::serviceDomain).orElse(target.host())),
                target.protocol().alpn(),
                TlsProfile.modern());
        ClientOptions clientOptions = new ClientOptions(
                options.level(), options.helloName(), target.implicitTls(), Limits.DEFAULT, options.serviceDomain());
        StartTlsClient client = new StartTlsClient(target.protocol(), clientOptions, tls, options.timeouts());
        ClientSession session = client.connect(target.host(), target.port());
        whileOpen.accept(session, tls);
        try {
            session.close();
        } catch (IOException ignored) {
            // The probe is done with the connection either way.
        }
        return report(target, options.level(), session, (System.nanoTime() - start) / 1_000_000);
    }

    static ProbeReport report(Target target, SecurityLevel level, ClientSession session, long millis) {
        String outcome = outcome(session);
        boolean satisfied = switch (outcome) {
            case "tls" -> true;
            case "plaintext" -> level == SecurityLevel.NONE;
            case "starttls-not-offered", "starttls-refused" ->
                !level.requiresTls() && session.status() == ClientSession.Status.PLAINTEXT;
            default -> false;
        };
        Optional<Result> result = session.result();
        Optional<TlsConnection> tls = session.tls();
        return new ProbeReport(
                target.uri(),
                target.scheme(),
                target.host(),
                target.port(),
                level.name().toLowerCase(java.util.Locale.ROOT),
                outcome,
                satisfied,
                result.map(Result::greeting).filter(g -> !g.isEmpty()).orElse(null),
                result.map(r -> new ProbeReport.Capabilities(
                                r.before().entries(), r.after().entries()))
                        .orElse(null),
                tls.map(t -> new ProbeReport.Tls(
                                t.protocolVersion(),
                                t.cipherSuite(),
                                t.applicationProtocol().isEmpty() ? null : t.applicationProtocol()))
                        .orElse(null),
                session.peerChain().isEmpty() ? null : certificate(session.peerChain()),
                session.verification().map(v -> verification(v, level)).orElse(null),
                session.failure().map(Prober::failure).orElse(null),
                millis);
    }

    /** The outcome word for JSON and text. */
    static String outcome(ClientSession session) {
        if (session.status() == ClientSession.Status.TLS) {
            return "tls";
        }
        Optional<Failure> failure = session.failure();
        if (failure.isEmpty()) {
            return "plaintext";
        }
        FailureKind kind = failure.get().kind();
        Phase phase = failure.get().phase();
        switch (kind) {
            case STARTTLS_NOT_OFFERED, EXTENDED_HELLO_REFUSED, PREAUTH_WITHOUT_TLS:
                return "starttls-not-offered";
            case STARTTLS_REFUSED:
                return "starttls-refused";
            case CERTIFICATE_INVALID:
                return "certificate-invalid";
            case HANDSHAKE_FAILED:
                return "handshake-failed";
            case CONNECT_FAILED:
                return "connect-failed";
            case TIMEOUT:
                return phase == Phase.CONNECT
                        ? "connect-failed"
                        : phase == Phase.HANDSHAKE ? "handshake-failed" : "peer-violation";
            default:
                return "peer-violation";
        }
    }

    private static ProbeReport.Verification verification(Verification v, SecurityLevel level) {
        String result = v.valid() ? "valid" : level.verifiesCertificate() ? "invalid" : "invalid-not-enforced";
        return new ProbeReport.Verification(result, v.chainValid(), v.nameMatches(), v.reason());
    }

    private static ProbeReport.FailureInfo failure(Failure f) {
        return new ProbeReport.FailureInfo(
                f.kind().wireName(),
                f.blame().name().toLowerCase(java.util.Locale.ROOT),
                f.phase().name().toLowerCase(java.util.Locale.ROOT),
                f.detail(),
                f.temporary());
    }

    static ProbeReport.Certificate certificate(List<X509Certificate> chain) {
        X509Certificate leaf = chain.get(0);
        List<String> sans = new ArrayList<>();
        try {
            if (leaf.getSubjectAlternativeNames() != null) {
                for (List<?> san : leaf.getSubjectAlternativeNames()) {
                    int type = (Integer) san.get(0);
                    if (type == 0 && san.get(1) instanceof byte[] der) {
                        // otherName: SRV-ID or XmppAddr (RFC 6120 §13.7.1.2), decoded for the report.
                        sans.add(ReferenceIdentity.describeOtherName(der).orElse("otherName"));
                        continue;
                    }
                    String prefix = type == 2 ? "DNS:" : type == 7 ? "IP:" : type == 6 ? "URI:" : type + ":";
                    sans.add(prefix + san.get(1));
                }
            }
        } catch (CertificateParsingException e) {
            sans.add("unparseable: " + e.getMessage());
        }
        return new ProbeReport.Certificate(
                leaf.getSubjectX500Principal().getName(),
                sans,
                leaf.getIssuerX500Principal().getName(),
                leaf.getNotBefore().toInstant().toString(),
                leaf.getNotAfter().toInstant().toString(),
                sha256(encoded(leaf)),
                sha256(leaf.getPublicKey().getEncoded()),
                chain.size());
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (CertificateEncodingException e) {
            return new byte[0];
        }
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }

    /** The exit code for a report. */
    public static int exitCode(ProbeReport report) {
        if (report.satisfied()) {
            return ExitCodes.OK;
        }
        return switch (report.outcome()) {
            case "connect-failed" -> ExitCodes.CONNECT_FAILED;
            case "starttls-not-offered", "starttls-refused", "plaintext" -> ExitCodes.NO_TLS;
            case "handshake-failed" -> ExitCodes.HANDSHAKE_FAILED;
            case "certificate-invalid" -> ExitCodes.CERTIFICATE_INVALID;
            default -> ExitCodes.PEER_VIOLATION;
        };
    }
}
