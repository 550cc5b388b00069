package dev.optls.core.nntp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Application mistakes on the server side are caller bugs: they throw and fail the negotiation. */
class NntpServerTest {
    private static final ServerOptions OPTIONS = ServerOptions.offering("nntp.test", Capabilities.of("READER"));

    private static NntpServer delivered(String command) {
        NntpServer server = new NntpServer(OPTIONS);
        assertThat(server.poll()).isInstanceOf(Step.WriteOutput.class);
        server.drainOutput(ByteBuffer.allocate(256));
        server.receive(ByteBuffer.wrap(command.getBytes(StandardCharsets.US_ASCII)));
        assertThat(server.poll()).isInstanceOf(Step.Deliver.class);
        return server;
    }

    @Test
    void aPostContinuationThroughRespondThrows() {
        NntpServer server = delivered("POST\r\n");
        assertThatThrownBy(() -> server.respond("340 send article"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("handOver()");
        assertThat(((Step.Failed) server.poll()).failure().blame()).isEqualTo(Blame.LOCAL);
    }

    @Test
    void aReplyWithoutStatusCodeThrows() {
        NntpServer server = delivered("MODE READER\r\n");
        assertThatThrownBy(() -> server.respond("+OK pop3")).isInstanceOf(IllegalStateException.class);
        assertThat(server.poll()).isInstanceOf(Step.Failed.class);
    }

    @Test
    void theGreetingNamesTheHost() {
        NntpServer server = new NntpServer(OPTIONS.withGreeting("optls news"));
        ByteBuffer out = ByteBuffer.allocate(256);
        server.poll();
        server.drainOutput(out);
        assertThat(new String(out.array(), 0, out.position(), StandardCharsets.US_ASCII))
                .isEqualTo("200 nntp.test optls news\r\n");
    }
}
