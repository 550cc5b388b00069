package dev.optls.netty;

import dev.optls.tls.ClientTls;
import dev.optls.tls.TlsConfigException;
import dev.optls.tls.TlsProfile;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Client-side BoringSSL engines (netty-tcnative) for {@link ClientTls#newEngine(String, int,
 * ClientTls.EngineSource)}: much cheaper per handshake than the JDK's (its P-256 is native), which is what a
 * load generator needs. One BoringSSL context serves every engine; its trust manager hands each engine's
 * certificate check to that engine's own {@code ClientTls} trust manager, so verification, the recorded
 * chain and the failure reasons are those of the JDK path. No session is ever resumed, so every handshake is a
 * full one (what a load generator counts): engines are made without the peer's host and port, which is the
 * key Netty's client session cache stores tickets under and looks them up by.
 */
public final class ClientEngines implements ClientTls.EngineSource {
    private final SslContext context;
    private final Map<SSLEngine, X509ExtendedTrustManager> checks = Collections.synchronizedMap(new WeakHashMap<>());

    private ClientEngines(SslContext context) {
        this.context = context;
    }

    /**
     * BoringSSL engines offering {@code alpn} (RFC 7301; the same id as the {@code ClientTls}).
     *
     * @throws TlsConfigException where BoringSSL does not load
     */
    public static ClientEngines boringSsl(Optional<String> alpn, TlsProfile profile) {
        return boringSsl(alpn, profile, List.of());
    }

    /**
     * BoringSSL engines offering {@code alpn} and, when {@code groups} is not empty, only those key-exchange
     * groups in that order (BoringSSL names, e.g. {@code X25519}, {@code X25519MLKEM768}, {@code P-256}; RFC 8446
     * §4.2.7); empty keeps BoringSSL's default list.
     *
     * @throws TlsConfigException where BoringSSL does not load, or a group is unknown to it
     */
    public static ClientEngines boringSsl(Optional<String> alpn, TlsProfile profile, List<String> groups) {
        if (!OpenSsl.isAvailable()) {
            throw new TlsConfigException("BoringSSL (netty-tcnative) does not load on this machine ("
                    + OpenSsl.unavailabilityCause() + "); use the JDK engine");
        }
        ClientEngines[] self = new ClientEngines[1];
        X509ExtendedTrustManager dispatch = new Dispatch(engine -> self[0].checks.get(engine));
        try {
            SslContextBuilder builder = SslContextBuilder.forClient()
                    .sslProvider(SslProvider.OPENSSL)
                    .protocols(profile.protocols())
                    .trustManager(dispatch)
                    .sessionCacheSize(1)
                    .sessionTimeout(1)
                    // The handshake runs inline on the event loop: no delegated task and promise per step.
                    .option(OpenSslContextOption.USE_TASKS, false);
            if (!groups.isEmpty()) {
                builder.option(OpenSslContextOption.GROUPS, groups.toArray(new String[0]));
            }
            if (!profile.cipherSuites().isEmpty()) {
                builder.ciphers(profile.cipherSuites());
            }
            alpn.ifPresent(id -> builder.applicationProtocolConfig(new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    id)));
            self[0] = new ClientEngines(builder.build());
            return self[0];
        } catch (SSLException | IllegalArgumentException e) {
            // An unknown group name is refused when the context is built.
            throw new TlsConfigException("BoringSSL cannot build a client context: " + e.getMessage(), e);
        }
    }

    @Override
    public SSLEngine create(X509ExtendedTrustManager trustManager, String host, int port) {
        // Not newEngine(alloc, host, port): with a peer key, Netty offers the server's last ticket (TLS 1.3 PSK),
        // and about 3 in 10 handshakes of a load run resumed. SNI comes from the SSLParameters ClientTls sets.
        SSLEngine engine = context.newEngine(ByteBufAllocator.DEFAULT);
        checks.put(engine, trustManager);
        return engine;
    }

    /** Hands the check of an engine's server chain to that engine's trust manager; client side only. */
    private static final class Dispatch extends X509ExtendedTrustManager {
        private final java.util.function.Function<SSLEngine, X509ExtendedTrustManager> lookup;

        Dispatch(java.util.function.Function<SSLEngine, X509ExtendedTrustManager> lookup) {
            this.lookup = lookup;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            X509ExtendedTrustManager delegate = lookup.apply(engine);
            if (delegate == null) {
                throw new CertificateException("no certificate check registered for this connection");
            }
            delegate.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("BoringSSL client engines are checked per engine, not per socket");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("BoringSSL client engines are checked per engine");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("a client does not check client certificates");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("a client does not check client certificates");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a client does not check client certificates");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
