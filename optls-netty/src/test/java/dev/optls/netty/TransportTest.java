package dev.optls.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;

class TransportTest {
    /** The native epoll library is a dependency for linux-x86_64, the machines optls is built and run on. */
    @Test
    void epollIsTheBestTransportHere() {
        assertThat(Epoll.isAvailable()).as("%s", Epoll.unavailabilityCause()).isTrue();
        assertThat(Transport.best().name()).isEqualTo("epoll");
    }

    @Test
    void nioIsAlwaysThere() {
        assertThat(Transport.nio().serverChannel().getSimpleName()).isEqualTo("NioServerSocketChannel");
    }
}
