package dev.optls.interop.ourclient;

import dev.optls.interop.peers.PeerTls;

/** {@link DovecotTlsChecks} against Dovecot with {@code ssl = required}: LOGINDISABLED before STARTTLS. */
class DovecotRequiredTlsIT extends DovecotTlsChecks {
    @Override
    PeerTls mode() {
        return PeerTls.REQUIRED;
    }
}
