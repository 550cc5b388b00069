package dev.optls.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

class TlsProfileTest {
    private static SSLParameters jdkDefaults() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        return context.getDefaultSSLParameters();
    }

    @Test
    void modernIsTls13ThenTls12WithEcdheAeadOnly() throws Exception {
        SSLParameters parameters = jdkDefaults();
        TlsProfile.modern().applyTo(parameters);

        assertThat(parameters.getProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(parameters.getUseCipherSuitesOrder()).isTrue();
        assertThat(parameters.getCipherSuites())
                .isNotEmpty()
                .allSatisfy(suite -> assertThat(suite.matches("TLS_(AES_\\d+_GCM|CHACHA20_POLY1305)_SHA\\d+")
                                || suite.matches(
                                        "TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_\\d+_GCM_SHA\\d+|CHACHA20_POLY1305_SHA256)"))
                        .as(suite)
                        .isTrue());
        // TLS 1.3 suites come first
        assertThat(parameters.getCipherSuites()[0]).startsWith("TLS_AES_");
    }

    @Test
    void tls13OnlyHasNoTls12() throws Exception {
        SSLParameters parameters = jdkDefaults();
        TlsProfile.tls13Only().applyTo(parameters);
        assertThat(parameters.getProtocols()).containsExactly("TLSv1.3");
        assertThat(List.of(parameters.getCipherSuites())).noneMatch(s -> s.contains("_WITH_"));
    }

    @Test
    void insecureProfileSaysSoAndKeepsJdkSuites() throws Exception {
        SSLParameters parameters = jdkDefaults();
        String[] before = parameters.getCipherSuites();
        TlsProfile.insecureJdkTls12Suites().applyTo(parameters);
        assertThat(TlsProfile.insecureJdkTls12Suites().name()).startsWith("insecure");
        assertThat(parameters.getCipherSuites()).containsExactly(before);
        assertThat(parameters.getProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
    }
}
