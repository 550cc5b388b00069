package dev.optls.netty;

import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConfigException;
import dev.optls.tls.TlsProfile;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.internal.tcnative.SSL;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * Server-side TLS engines for one certificate: from the JDK (through {@link ServerTls}) or from BoringSSL
 * (netty-tcnative), with the same profile and ALPN id. The ALPN policy (ALPACA: refuse clients that offer
 * only foreign protocols) is enforced before the engine sees the ClientHello, by {@link AcceptTls}, so both
 * engines behave alike.
 */
public final class ServerEngines {
    /** Which TLS implementation to use. */
    public enum Provider {
        /** The JDK's SSLEngine. */
        JDK,
        /** BoringSSL through netty-tcnative-boringssl-static; fails to configure where it does not load. */
        BORINGSSL,
        /** BoringSSL where it loads, the JDK otherwise. */
        AUTO;

        /** The provider named in a configuration, case-insensitive ({@code jdk}, {@code boringssl}, {@code auto}). */
        public static Optional<Provider> named(String name) {
            for (Provider p : values()) {
                if (p.name().equalsIgnoreCase(name)) {
                    return Optional.of(p);
                }
            }
            return Optional.empty();
        }
    }

    private final Provider provider;
    private final List<X509Certificate> chain;
    private final Optional<String> alpn;
    private final Optional<ServerTls> jdk;
    private final Optional<SslContext> boringSsl;

    private ServerEngines(
            Provider provider,
            List<X509Certificate> chain,
            Optional<String> alpn,
            Optional<ServerTls> jdk,
            Optional<SslContext> boringSsl) {
        this.provider = provider;
        this.chain = List.copyOf(chain);
        this.alpn = alpn;
        this.jdk = jdk;
        this.boringSsl = boringSsl;
    }

    /**
     * Engines for {@code chain} (leaf first) and {@code key}.
     *
     * @param alpn our protocol's ALPN id, empty for protocols without one
     * @throws TlsConfigException if the key does not fit the chain, or BoringSSL was asked for and does not load
     */
    public static ServerEngines create(
            List<X509Certificate> chain, PrivateKey key, Optional<String> alpn, TlsProfile profile, Provider provider) {
        // Checks the pair and the profile for either engine.
        ServerTls jdk = ServerTls.create(chain, key, alpn, profile);
        Provider resolved =
                provider == Provider.AUTO ? (OpenSsl.isAvailable() ? Provider.BORINGSSL : Provider.JDK) : provider;
        if (resolved == Provider.JDK) {
            return new ServerEngines(Provider.JDK, chain, alpn, Optional.of(jdk), Optional.empty());
        }
        if (!OpenSsl.isAvailable()) {
            throw new TlsConfigException("BoringSSL (netty-tcnative) does not load on this machine ("
                    + OpenSsl.unavailabilityCause() + "); use the JDK engine or AUTO");
        }
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]))
                    .sslProvider(SslProvider.OPENSSL)
                    .protocols(profile.protocols())
                    // The handshake runs inline on the event loop: no delegated task and promise per step.
                    .option(OpenSslContextOption.USE_TASKS, false);
            if (!profile.cipherSuites().isEmpty()) {
                builder.ciphers(profile.cipherSuites());
            }
            alpn.ifPresent(id -> builder.applicationProtocolConfig(new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    id)));
            return new ServerEngines(Provider.BORINGSSL, chain, alpn, Optional.empty(), Optional.of(builder.build()));
        } catch (SSLException e) {
            throw new TlsConfigException("BoringSSL cannot use this certificate and key: " + e.getMessage(), e);
        }
    }

    /** The JDK engine for an existing {@link ServerTls}. */
    public static ServerEngines jdk(ServerTls tls) {
        return new ServerEngines(Provider.JDK, tls.chain(), tls.alpn(), Optional.of(tls), Optional.empty());
    }

    /** Engines from {@code provider} for the credential, ALPN id and profile of {@code tls}. */
    public static ServerEngines of(ServerTls tls, Provider provider) {
        return create(tls.chain(), tls.privateKey(), tls.alpn(), tls.profile(), provider);
    }

    /**
     * Whether {@code engine}'s completed handshake resumed an earlier session (a TLS 1.3 ticket, RFC 8446 §2.2, or
     * a TLS 1.2 ticket or session id) rather than making a new one; empty where it cannot be told: the JDK engine
     * does not say, and a BoringSSL engine already freed.
     */
    public static Optional<Boolean> resumed(SSLEngine engine) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            long ssl = openSsl.sslPointer();
            return ssl == 0 ? Optional.empty() : Optional.of(SSL.isSessionReused(ssl));
        }
        return Optional.empty();
    }

    /** The provider in use ({@code JDK} or {@code BORINGSSL}, never {@code AUTO}). */
    public Provider provider() {
        return provider;
    }

    /** The certificate chain presented, leaf first. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /**
     * Encrypts session tickets with {@code keys} (the first encrypts, all decrypt), so that several gateway
     * instances sharing the key file resume each other's sessions (RFC 8446 §4.6.1, RFC 5077). BoringSSL only:
     * the JDK keeps its ticket keys to itself.
     *
     * @throws TlsConfigException with the JDK engine
     */
    public ServerEngines withTicketKeys(TicketKeys keys) {
        SslContext context = boringSsl.orElseThrow(() -> new TlsConfigException(
                "session ticket keys need the BoringSSL engine (the JDK does not let them be set); "
                        + "use engine = \"boringssl\" or \"auto\" on a machine where BoringSSL loads"));
        ((OpenSslSessionContext) context.sessionContext()).setTicketKeys(keys.keys());
        return this;
    }

    /**
     * How many handshakes resumed a session from a ticket so far (BoringSSL); empty with the JDK engine, which
     * does not count them.
     */
    public OptionalLong ticketResumptions() {
        return boringSsl
                .map(c -> OptionalLong.of(
                        ((OpenSslSessionContext) c.sessionContext()).stats().ticketKeyResume()))
                .orElse(OptionalLong.empty());
    }

    /** Our ALPN id, for the ALPACA check. */
    public Optional<String> alpn() {
        return alpn;
    }

    /** A new server-mode engine. */
    public SSLEngine newEngine(ByteBufAllocator alloc) {
        if (jdk.isPresent()) {
            return jdk.get().newEngine();
        }
        return boringSsl.orElseThrow().newEngine(alloc);
    }

    @Override
    public String toString() {
        return "ServerEngines[" + provider.name().toLowerCase(Locale.ROOT) + ", alpn=" + alpn.orElse("none") + "]";
    }
}
