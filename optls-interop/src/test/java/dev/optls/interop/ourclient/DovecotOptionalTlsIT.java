package dev.optls.interop.ourclient;

import dev.optls.interop.peers.PeerTls;

/** {@link DovecotTlsChecks} against Dovecot with {@code ssl = yes}. */
class DovecotOptionalTlsIT extends DovecotTlsChecks {
    @Override
    PeerTls mode() {
        return PeerTls.OPTIONAL;
    }
}
