package dev.optls.tls;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLParameters;

/**
 * Which TLS versions and cipher suites a connection may use.
 *
 * <p>{@link #modern()} is the default: TLS 1.3 and TLS 1.2 only, and for TLS 1.2 only ECDHE key exchange
 * with AEAD ciphers (RFC 9325 §4.2). Profiles that weaken this say so in their name.
 */
public final class TlsProfile {
    private static final List<String> TLS13_SUITES =
            List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256");
    // RFC 9325 §4.2: ECDHE (forward secrecy) with AEAD ciphers only.
    private static final List<String> TLS12_ECDHE_AEAD_SUITES = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private static final TlsProfile MODERN =
            new TlsProfile("modern", List.of("TLSv1.3", "TLSv1.2"), concat(TLS13_SUITES, TLS12_ECDHE_AEAD_SUITES));
    private static final TlsProfile TLS13_ONLY = new TlsProfile("tls13-only", List.of("TLSv1.3"), TLS13_SUITES);
    private static final TlsProfile INSECURE_JDK_TLS12_SUITES =
            new TlsProfile("insecure-jdk-tls12-suites", List.of("TLSv1.3", "TLSv1.2"), List.of());

    private final String name;
    private final List<String> protocols;
    private final List<String> cipherSuites;

    private TlsProfile(String name, List<String> protocols, List<String> cipherSuites) {
        this.name = name;
        this.protocols = protocols;
        this.cipherSuites = cipherSuites;
    }

    /** TLS 1.3 preferred, TLS 1.2 with ECDHE + AEAD suites only. The default. */
    public static TlsProfile modern() {
        return MODERN;
    }

    /** TLS 1.3 only. */
    public static TlsProfile tls13Only() {
        return TLS13_ONLY;
    }

    /**
     * TLS 1.3 and 1.2 with every suite the JDK enables by default, including TLS 1.2 suites without
     * forward secrecy (static RSA) and CBC suites. Only for talking to old peers that cannot do better.
     */
    public static TlsProfile insecureJdkTls12Suites() {
        return INSECURE_JDK_TLS12_SUITES;
    }

    /** Short name for logs and reports, e.g. {@code modern}. */
    public String name() {
        return name;
    }

    /** Protocol versions in order of preference. */
    public List<String> protocols() {
        return protocols;
    }

    /** Cipher suites in order of preference; empty means "the JDK's enabled suites". */
    public List<String> cipherSuites() {
        return cipherSuites;
    }

    /**
     * Restricts {@code parameters} (taken from a socket or engine, so that its protocols and cipher suites
     * are the enabled ones) to this profile, keeping only what the JDK supports and has enabled, and
     * makes our cipher suite order win on servers.
     *
     * @throws IllegalStateException if nothing of the profile is enabled in this JDK
     */
    public void applyTo(SSLParameters parameters) {
        String[] enabledProtocols = intersect(protocols, parameters.getProtocols());
        if (enabledProtocols.length == 0) {
            throw new IllegalStateException("TLS profile " + name + " needs " + protocols
                    + " but this JDK enables only " + Arrays.toString(parameters.getProtocols()));
        }
        parameters.setProtocols(enabledProtocols);
        if (!cipherSuites.isEmpty()) {
            String[] suites = intersect(cipherSuites, parameters.getCipherSuites());
            if (suites.length == 0) {
                throw new IllegalStateException("TLS profile " + name + " needs one of " + cipherSuites
                        + " but this JDK enables only " + Arrays.toString(parameters.getCipherSuites()));
            }
            parameters.setCipherSuites(suites);
        }
        parameters.setUseCipherSuitesOrder(true);
    }

    @Override
    public String toString() {
        return "TlsProfile[" + name + "]";
    }

    private static String[] intersect(List<String> wanted, String[] available) {
        if (available == null) {
            return wanted.toArray(new String[0]);
        }
        Set<String> present = Set.of(available);
        return wanted.stream().filter(present::contains).toArray(String[]::new);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
