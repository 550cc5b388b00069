package dev.optls.interop.peers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** Unit tests of {@link Peers}: no daemons needed. */
class PeersTest {

    @Test
    void missingPeerFailsOnCiAndSkipsElsewhereNamingThePackageAndTheScript() {
        assertThatThrownBy(() -> Peers.require(false, "command 'postfix'", "postfix", true))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("apt-get install postfix")
                .hasMessageContaining("scripts/install-peers.sh")
                .hasMessageContaining("CI=true");
        assertThatThrownBy(() -> Peers.require(false, "command 'postfix'", "postfix", false))
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("apt-get install postfix")
                .hasMessageContaining("scripts/install-peers.sh");
        Peers.require(true, "anything", "anything", true);
    }

    @Test
    void commandsMapToTheirDebianPackages() {
        assertThat(Peers.debianPackageOf("postconf")).isEqualTo("postfix");
        assertThat(Peers.debianPackageOf("dovecot")).isEqualTo("dovecot-core");
        assertThat(Peers.debianPackageOf("swaks")).isEqualTo("swaks");
    }

    @Test
    void freePortsAreDistinctAndBindable() throws Exception {
        int first = Peers.freePort();
        int second = Peers.freePort();
        assertThat(first).isNotEqualTo(second).isGreaterThanOrEqualTo(1024);
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(Peers.LOOPBACK), first));
            assertThat(Peers.accepts(Peers.LOOPBACK, first)).isTrue();
            Peers.awaitPort(Peers.LOOPBACK, first, Duration.ofSeconds(1));
        }
        assertThat(Peers.awaitPortClosed(Peers.LOOPBACK, first, Duration.ofSeconds(1)))
                .isTrue();
        assertThatThrownBy(() -> Peers.awaitPort(Peers.LOOPBACK, first, Duration.ofMillis(200)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(String.valueOf(first));
    }

    @Test
    void runCapturesOutputAndExitCodeAndKillsOnTimeout() {
        Peers.CommandResult ok = Peers.run(Duration.ofSeconds(10), "in", List.of("sh", "-c", "cat; echo err >&2"));
        assertThat(ok.exitCode()).isZero();
        assertThat(ok.output()).contains("in", "err");
        Peers.CommandResult failed = Peers.run(Duration.ofSeconds(10), "sh", "-c", "echo nope; exit 3");
        assertThat(failed.succeeded()).isFalse();
        assertThatThrownBy(failed::orThrow)
                .hasMessageContaining("exited with 3")
                .hasMessageContaining("nope");
        long start = System.nanoTime();
        assertThatThrownBy(() -> Peers.run(Duration.ofMillis(300), "sh", "-c", "echo started; sleep 30"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("did not finish")
                .hasMessageContaining("started");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void tempDirIsDeletedWithItsContentsOnClose() {
        Path path;
        try (Peers.PeerDirectory dir = Peers.tempDir("unit")) {
            path = dir.path();
            dir.write("a/b/file.txt", "x");
            assertThat(path.resolve("a/b/file.txt")).hasContent("x");
        }
        assertThat(Files.exists(path)).isFalse();
    }
}
