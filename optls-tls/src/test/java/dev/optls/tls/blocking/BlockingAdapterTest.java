package dev.optls.tls.blocking;

import dev.optls.core.ClientOptions;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.tls.ClientTls;
import dev.optls.tls.ServerTls;
import dev.optls.tls.contract.AdapterContract;
import dev.optls.tls.contract.BlockingPeer;
import java.io.IOException;
import java.util.Optional;

/** The blocking adapter ({@link StartTlsServer}, {@link StartTlsClient}) against the adapter contract. */
class BlockingAdapterTest extends AdapterContract {
    @Override
    protected Server serveOnce(
            Protocol protocol, ServerOptions options, Optional<ServerTls> tls, CommandHandler handler, boolean implicit)
            throws IOException {
        return BlockingPeer.serveOnce(protocol, options, tls, handler, implicit, FAST);
    }

    @Override
    protected ClientView connect(Protocol protocol, ClientOptions options, ClientTls tls, int port, Timeouts timeouts) {
        return BlockingPeer.connect(protocol, options, tls, port, timeouts);
    }
}
