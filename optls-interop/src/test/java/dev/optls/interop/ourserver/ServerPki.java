package dev.optls.interop.ourserver;

import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.testkit.TestPki;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;

/**
 * A throwaway CA, OUR server's certificate for {@code localhost} and {@code 127.0.0.1}, and the CA as a PEM
 * file in a temporary directory for command-line clients ({@code -CAfile}, {@code --cacert}).
 */
final class ServerPki implements AutoCloseable {
    private final TestPki pki;
    private final Credential credential;
    private final Peers.PeerDirectory dir;
    private final Path caPem;

    private ServerPki(String name) {
        this.pki = TestPki.create();
        this.credential =
                pki.leaf(Responder.HOSTNAME).ipAddresses(Peers.LOOPBACK).issue();
        this.dir = Peers.tempDir("ourserver-" + name);
        this.caPem = pki.writeCaPem(dir.resolve("ca.pem"));
    }

    /** A new CA and server certificate; {@code name} names the temporary directory. */
    static ServerPki create(String name) {
        return new ServerPki(name);
    }

    /** The server's certificate and key. */
    Credential credential() {
        return credential;
    }

    /** Another certificate from the same CA, for {@code dnsName} only (not for localhost or 127.0.0.1). */
    Credential credentialFor(String dnsName) {
        return pki.leaf(dnsName).issue();
    }

    /** The CA certificate as a PEM file. */
    Path caPem() {
        return caPem;
    }

    /** The directory holding {@link #caPem()}, for other files a client needs. */
    Peers.PeerDirectory dir() {
        return dir;
    }

    /** A client context trusting exactly this CA (no host name check by itself). */
    SSLContext clientContext() {
        return pki.clientContext();
    }

    @Override
    public void close() {
        dir.close();
    }
}
