package dev.optls.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.tls.ServerTls;
import io.netty.handler.ssl.OpenSsl;
import org.junit.jupiter.api.Test;

/** The Netty server handlers with BoringSSL engines against the same adapter contract. */
class NettyBoringSslAdapterTest extends NettyAdapterTest {
    @Override
    ServerEngines engines(ServerTls tls) {
        ServerEngines engines = ServerEngines.of(tls, ServerEngines.Provider.BORINGSSL);
        assertThat(engines.provider()).isEqualTo(ServerEngines.Provider.BORINGSSL);
        return engines;
    }

    /** netty-tcnative-boringssl-static is a dependency: it must load here, or this whole class proves nothing. */
    @Test
    void boringSslLoads() {
        assertThat(OpenSsl.isAvailable())
                .as("%s", OpenSsl.unavailabilityCause())
                .isTrue();
        assertThat(OpenSsl.versionString()).containsIgnoringCase("BoringSSL");
    }
}
