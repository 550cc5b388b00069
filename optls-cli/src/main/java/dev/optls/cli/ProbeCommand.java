package dev.optls.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.tls.TlsConfigException;
import dev.optls.tls.TrustAnchors;
import dev.optls.tls.blocking.Timeouts;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code optls probe <uri>}: connect, negotiate STARTTLS at a level, and report. */
@Command(
        name = "probe",
        mixinStandardHelpOptions = true,
        subcommands = {MailProbeCommand.class},
        description = {
            "Connect to a server, negotiate STARTTLS (or implicit TLS) at a security level, and report what was"
                    + " advertised before and after TLS, the TLS parameters and the certificate.",
            "",
            "With smtp://DOMAIN --mx: look up the MX hosts of DOMAIN and probe each (STARTTLS, TLS, certificate"
                    + " against the MX name) at --level; no DANE, MTA-STS or TLS-RPT: use 'optls probe mail DOMAIN'"
                    + " for those.",
            "",
            "Schemes: smtp (25), submission (587), lmtp (24), imap (143), pop3 (110), sieve (4190),"
                    + " nntp (119), irc (6667), postgres (5432), mysql (3306), ldap (389), ftp (21),"
                    + " xmpp (5222), xmpp-server (5269);"
                    + " implicit TLS: smtps/submissions (465), imaps (993), pop3s (995), nntps (563), ircs (6697), ldaps (636),"
                    + " ftps (990), xmpps (5223)."
        },
        footer = ExitCodes.HELP)
public final class ProbeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "URI",
            description = "e.g. smtp://mx.example.org or imaps://[::1]:993")
    String uri;

    @Option(
            names = "--mx",
            description = "smtp only: the URI host is a mail domain; probe each of its MX hosts (a port in the URI is a"
                    + " test override: only loopback addresses are then connected to)")
    boolean mx;

    @CommandLine.Mixin
    PolicyOptions policy;

    @Option(
            names = "--level",
            defaultValue = "verify",
            paramLabel = "LEVEL",
            description = "none | may | encrypt | verify (default: ${DEFAULT-VALUE}). may = opportunistic;"
                    + " encrypt = TLS required, certificate not checked; verify = TLS + chain + name.")
    String level;

    @Option(
            names = "--ca",
            paramLabel = "FILE",
            description = "PEM file of trusted CA certificates (default: the JDK's)")
    Path ca;

    @Option(
            names = "--servername",
            paramLabel = "NAME",
            description = "name to verify the certificate against and send as SNI (default: the URI host)")
    String serverName;

    @Option(
            names = "--ehlo",
            paramLabel = "NAME",
            defaultValue = "localhost",
            description = "EHLO/LHLO name (default: ${DEFAULT-VALUE})")
    String ehlo;

    @Option(
            names = "--xmpp-to",
            paramLabel = "DOMAIN",
            description = "XMPP: the domain for the stream's 'to' and the certificate check (default: --servername,"
                    + " else the URI host)")
    String xmppTo;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "30",
            description = "limit for connect, each reply, and the handshake (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @Option(
            names = "--list",
            arity = "0..1",
            fallbackValue = "",
            paramLabel = "PATH",
            description = "ftp/ftps only: log in, PBSZ 0 + PROT P, and list PATH (default: the login directory) over"
                    + " a TLS data channel that resumes the control connection's session")
    String list;

    @Option(
            names = "--user",
            defaultValue = "anonymous",
            paramLabel = "NAME",
            description = "ftp/ftps --list: login name (default: ${DEFAULT-VALUE})")
    String user;

    @Option(
            names = "--password",
            defaultValue = "optls@",
            paramLabel = "SECRET",
            description = "ftp/ftps --list: password (default: ${DEFAULT-VALUE}, as for anonymous FTP)")
    String password;

    @Override
    public Integer call() throws Exception {
        if (uri == null) {
            throw new Main.UsageException("give a URI to probe (e.g. smtp://mx.example.org), or 'probe mail DOMAIN'");
        }
        Target target;
        try {
            target = Target.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        SecurityLevel securityLevel = parseLevel(level);
        if (target.implicitTls() && securityLevel == SecurityLevel.NONE) {
            throw new Main.UsageException(target.scheme() + " is implicit TLS: --level none makes no sense there;"
                    + " use may, encrypt or verify, or the plaintext scheme "
                    + target.protocol().scheme());
        }
        if (timeoutSeconds <= 0) {
            throw new Main.UsageException("--timeout must be a positive number of seconds");
        }
        TrustAnchors trust;
        try {
            trust = ca == null ? TrustAnchors.jdkDefault() : TrustAnchors.fromPemFile(ca);
        } catch (TlsConfigException e) {
            throw new Main.UsageException(e.getMessage());
        }
        if (list != null && target.protocol() != Protocol.FTP) {
            throw new Main.UsageException("--list is for ftp:// and ftps:// only");
        }
        Timeouts timeouts = Timeouts.all(Duration.ofSeconds(timeoutSeconds));
        if (mx) {
            return probeMx(target, securityLevel, trust, timeouts);
        }
        FtpListing[] listing = new FtpListing[1];
        ProbeReport report = Prober.probe(
                target,
                new Prober.Options(
                        securityLevel,
                        trust,
                        Optional.ofNullable(serverName),
                        ehlo,
                        timeouts,
                        Optional.ofNullable(xmppTo)),
                (session, tls) -> {
                    if (list != null) {
                        listing[0] = FtpListing.run(session, tls, timeouts, list, user, password);
                    }
                });
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            if (listing[0] == null) {
                out.println(jsonMapper().writeValueAsString(report));
            } else {
                ObjectNode node = jsonMapper().valueToTree(report);
                node.set("listing", jsonMapper().valueToTree(listing[0]));
                out.println(jsonMapper().writeValueAsString(node));
            }
        } else {
            out.print(TextReport.render(report));
            if (listing[0] != null) {
                out.print(listing[0].render());
            }
        }
        out.flush();
        int code = Prober.exitCode(report);
        return code == ExitCodes.OK && listing[0] != null && listing[0].error() != null
                ? ExitCodes.PEER_VIOLATION
                : code;
    }

    private int probeMx(Target target, SecurityLevel securityLevel, TrustAnchors trust, Timeouts timeouts)
            throws Exception {
        if (target.protocol() != Protocol.SMTP || target.implicitTls()) {
            throw new Main.UsageException(
                    "--mx is for smtp://DOMAIN only (MX hosts take mail on port 25 with" + " STARTTLS)");
        }
        if (serverName != null || list != null || xmppTo != null) {
            throw new Main.UsageException(
                    "--mx checks each MX host against its own name: drop --servername, --list" + " and --xmpp-to");
        }
        boolean portOverride = target.port() != Protocol.SMTP.defaultPort();
        MailProber.Options options = new MailProber.Options(
                policy.resolver(),
                Optional.empty(),
                trust,
                ehlo,
                timeouts,
                host -> target.port(),
                portOverride,
                securityLevel,
                spec.commandLine().getErr());
        MailProbeReport report = MailProber.probeMx(MailProbeCommand.domainName(target.host()), options);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(jsonMapper().writeValueAsString(report));
        } else {
            out.print(MailTextReport.render(report));
        }
        out.flush();
        return MailProber.exitCode(report);
    }

    static SecurityLevel parseLevel(String text) {
        try {
            return SecurityLevel.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("unknown --level '" + text + "': use none, may, encrypt or verify");
        }
    }

    static ObjectMapper jsonMapper() {
        return new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT);
    }
}
