package dev.optls.gateway;

import dev.optls.core.Protocol;
import dev.optls.netty.CertificateSelector;
import dev.optls.netty.ServerEngines;
import dev.optls.netty.TicketKeys;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConfigException;
import dev.optls.tls.TlsProfile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A route's certificates as files: the default one first, then those chosen by SNI (RFC 6066 §3) by the DNS
 * names of their leaf (RFC 9525 §6.3), and the session ticket keys applied to every one of them. Used at load
 * (with a problem per key) and on every reload (the whole set is re-read, or none of it is used).
 */
final class RouteCertificates {

    private RouteCertificates() {}

    /** Engines for one chain and key file pair. */
    static ServerEngines engines(Path chain, Path key, Protocol protocol, ServerEngines.Provider provider) {
        return ServerEngines.of(ServerTls.fromPemFiles(chain, key, protocol.alpn(), TlsProfile.modern()), provider);
    }

    /**
     * Re-reads every certificate of a route and its ticket key file.
     *
     * @param files the default certificate first
     * @throws TlsConfigException naming the file that cannot be used, or a DNS name two certificates share
     */
    static CertificateSelector load(
            List<GatewayConfig.CertificateFiles> files,
            Protocol protocol,
            ServerEngines.Provider provider,
            Optional<Path> ticketKeys) {
        List<ServerEngines> all = new ArrayList<>();
        for (GatewayConfig.CertificateFiles f : files) {
            try {
                all.add(engines(f.chain(), f.key(), protocol, provider));
            } catch (TlsConfigException e) {
                throw new TlsConfigException("cannot use " + f.chain() + " with " + f.key() + ": " + e.getMessage(), e);
            }
        }
        Map<String, Integer> owners = new HashMap<>();
        for (int i = 0; i < all.size(); i++) {
            if (i > 0 && CertificateSelector.dnsNames(all.get(i)).isEmpty()) {
                throw new TlsConfigException(files.get(i).chain() + " has no DNS names: no client can select it");
            }
            for (String name : CertificateSelector.dnsNames(all.get(i))) {
                Integer other = owners.putIfAbsent(name, i);
                if (other != null && other != i) {
                    throw new TlsConfigException(
                            files.get(i).chain() + " and " + files.get(other).chain() + " are both for " + name
                                    + ": give each name to one certificate");
                }
            }
        }
        if (ticketKeys.isPresent()) {
            TicketKeys keys = TicketKeys.read(ticketKeys.get());
            all.forEach(e -> e.withTicketKeys(keys));
        }
        return CertificateSelector.of(all);
    }
}
