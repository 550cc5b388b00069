package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * {@code optls probe mail} and {@code probe --mx} on the command line: usage errors, the test port override, the
 * text rendering and the exit code of each verdict. Runs against real DNS, Postfix and HTTPS are in optls-interop's
 * MailProbeIT.
 */
class MailProbeCommandTest {

    @Test
    void probeWithoutUriOrSubcommandIsAUsageError() {
        CliRun run = CliRun.of("probe");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("give a URI to probe").contains("probe mail DOMAIN");
    }

    @Test
    void mxIsForSmtpOnly() {
        CliRun run = CliRun.of("probe", "imap://example.test", "--mx");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("--mx is for smtp://DOMAIN only");
    }

    @Test
    void mailWantsADomainName() {
        CliRun run = CliRun.of("probe", "mail", "not a domain", "--dns", "127.0.0.1");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("is not a domain name");
    }

    @Test
    void aBadPortOverrideIsAUsageError() {
        CliRun run = CliRun.of("probe", "mail", "example.test", "--dns", "127.0.0.1", "--port", "mx.example.test=0");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("--port wants PORT or HOST=PORT");
    }

    @Test
    void mailHelpListsThePolicyOptionsAndTheExitCodes() {
        CliRun run = CliRun.of("probe", "mail", "--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out())
                .contains("--dns=ADDRESS[:PORT]", "--dnssec-anchors", "--mta-sts-ca", "--port=[HOST=]PORT", "--json")
                .contains("12  probe mail: no MX host meets the policy");
    }

    @Test
    void thePortOverrideAppliesToEveryHostOrToOne() {
        ToIntFunction<String> ports = MailProbeCommand.portOverride(List.of("2525", "MX1.example.test.=2526"));
        assertThat(ports.applyAsInt("mx1.example.test")).isEqualTo(2526);
        assertThat(ports.applyAsInt("mx2.example.test")).isEqualTo(2525);
        assertThat(MailProbeCommand.portOverride(List.of()).applyAsInt("mx.example.test"))
                .isEqualTo(25);
        assertThatThrownBy(() -> MailProbeCommand.portOverride(List.of("x=y"))).isInstanceOf(Main.UsageException.class);
    }

    @Test
    void domainNamesAreNormalized() {
        assertThat(MailProbeCommand.domainName("Example.ORG.")).isEqualTo("example.org");
        assertThatThrownBy(() -> MailProbeCommand.domainName("-bad.example")).isInstanceOf(Main.UsageException.class);
        assertThatThrownBy(() -> MailProbeCommand.domainName(".")).isInstanceOf(Main.UsageException.class);
    }

    private static MailProbeReport report(String status, String reason) {
        MailProbeReport.Host host = new MailProbeReport.Host(
                "mx.example.test",
                10,
                "dane",
                "1 usable TLSA record(s)",
                List.of(new MailProbeReport.Address("192.0.2.1", "secure")),
                "192.0.2.1",
                "offered",
                "mx.example.test ESMTP",
                new ProbeReport.Tls("TLSv1.3", "TLS_AES_128_GCM_SHA256", null),
                null,
                new MailProbeReport.Pkix(false, true, "issuer not trusted"),
                new MailProbeReport.Dane(
                        "required",
                        "1 usable TLSA record(s)",
                        "_25._tcp.mx.example.test",
                        "secure",
                        List.of(new MailProbeReport.TlsaMatch("3 1 1 AB", true, "match", "DANE-EE")),
                        true),
                null,
                null,
                new MailProbeReport.Verdict("ok", "mx.example.test authenticated by DANE"));
        return new MailProbeReport(
                "example.test",
                new MailProbeReport.Verdict(status, reason),
                new MailProbeReport.Policy("dane", "deliver", "DANE applies to 1 of 1 MX host(s)"),
                new MailProbeReport.Mx("records", "secure", null, List.of(host)),
                new MailProbeReport.MtaSts("absent", null, "secure", null, null, null, null, null, "not consulted"),
                new MailProbeReport.TlsRpt("valid", List.of("mailto:tlsrpt@example.test"), null),
                12);
    }

    @Test
    void theTextReportShowsEveryPartAndTheVerdict() {
        String text = MailTextReport.render(report("secure", "DANE: all MX authenticated"));
        assertThat(text)
                .contains("example.test  (mail domain)")
                .contains("\n  MX             records, DNSSEC secure\n")
                .contains("10 mx.example.test  [dane]")
                .contains("192.0.2.1 (secure)")
                .contains("    STARTTLS     offered at 192.0.2.1\n")
                .contains("    WebPKI       NOT valid (issuer not trusted)\n")
                .contains("    DANE         required, authenticated\n")
                .contains("        match    3 1 1 AB\n")
                .contains("  TLS-RPT        valid rua=mailto:tlsrpt@example.test\n")
                .endsWith("  verdict        secure: DANE: all MX authenticated\n");
    }

    @Test
    void eachVerdictHasItsExitCode() {
        assertThat(MailProber.exitCode(report("secure", "r"))).isEqualTo(ExitCodes.OK);
        assertThat(MailProber.exitCode(report("ok", "r"))).isEqualTo(ExitCodes.OK);
        assertThat(MailProber.exitCode(report("opportunistic", "r"))).isEqualTo(ExitCodes.MAIL_OPPORTUNISTIC);
        assertThat(MailProber.exitCode(report("degraded", "r"))).isEqualTo(ExitCodes.MAIL_DEGRADED);
        assertThat(MailProber.exitCode(report("fail", "r"))).isEqualTo(ExitCodes.MAIL_FAILED);
    }
}
