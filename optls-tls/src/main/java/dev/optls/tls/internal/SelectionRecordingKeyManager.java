package dev.optls.tls.internal;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager that remembers for which connections it chose a server certificate. JSSE has no "was
 * this session resumed" flag; a handshake that chose no certificate resumed a session (RFC 8446 §2.2 PSK,
 * RFC 5246 §7.3 abbreviated handshake). Weak keys: entries go away with their sockets.
 */
public final class SelectionRecordingKeyManager extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager delegate;
    private final Map<Object, Boolean> chosen = Collections.synchronizedMap(new WeakHashMap<>());

    /** Wraps the JDK's key manager. */
    public SelectionRecordingKeyManager(X509ExtendedKeyManager delegate) {
        this.delegate = delegate;
    }

    /** Whether a certificate was chosen during the handshake of this socket (or engine). */
    public boolean choseCertificateFor(Object connection) {
        return chosen.containsKey(connection);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        String alias = delegate.chooseServerAlias(keyType, issuers, socket);
        if (alias != null && socket != null) {
            chosen.put(socket, Boolean.TRUE);
        }
        return alias;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        String alias = delegate.chooseEngineServerAlias(keyType, issuers, engine);
        if (alias != null && engine != null) {
            chosen.put(engine, Boolean.TRUE);
        }
        return alias;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return delegate.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return delegate.chooseEngineClientAlias(keyType, issuers, engine);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return delegate.getPrivateKey(alias);
    }
}
