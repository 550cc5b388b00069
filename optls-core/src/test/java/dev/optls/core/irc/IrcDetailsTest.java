package dev.optls.core.irc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parser details, long CAP lists, injection and bounds. */
class IrcDetailsTest {
    @Test
    void parsesTagsPrefixCommandAndTrailing() {
        String line = "@id=1;time=x :nick!u@h PRIVMSG #chan  :hello : world";
        IrcMessage m = IrcMessage.parse(line, line.length() + 2).message();
        assertThat(m.tags()).isEqualTo("id=1;time=x");
        assertThat(m.prefix()).isEqualTo("nick!u@h");
        assertThat(m.command()).isEqualTo("PRIVMSG");
        assertThat(m.params()).containsExactly("#chan", "hello : world");
    }

    @Test
    void emptyTrailingAndNoParams() {
        assertThat(IrcMessage.parse("cap ls :", 10).message().params()).containsExactly("ls", "");
        assertThat(IrcMessage.parse("STARTTLS", 10).message().params()).isEmpty();
        assertThat(IrcMessage.parse("", 2).message()).isNull();
        assertThat(IrcMessage.parse("", 2).problem()).isNull();
        assertThat(IrcMessage.parse("PR!V x", 8).problem()).isEqualTo(IrcMessage.Problem.MALFORMED);
    }

    @Test
    void longCapabilityListsAreSplitAndReassembled() {
        List<String> caps = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            caps.add("example.org/capability-" + i);
        }
        ServerOptions options = ServerOptions.offering("irc.test", new Capabilities(caps));
        IrcServer server = new IrcServer(options);
        server.receive(ByteBuffer.wrap("CAP LS 302\r\n".getBytes(StandardCharsets.US_ASCII)));
        String reply = drain(server);
        String[] lines = reply.split("\r\n");
        assertThat(lines.length).isGreaterThan(2);
        for (int i = 0; i < lines.length; i++) {
            assertThat(lines[i].length() + 2).isLessThanOrEqualTo(512);
            assertThat(lines[i]).startsWith(i < lines.length - 1 ? ":irc.test CAP * LS * :" : ":irc.test CAP * LS :");
        }

        IrcClient client = new IrcClient(ClientOptions.of(SecurityLevel.VERIFY));
        drain(client);
        client.receive(ByteBuffer.wrap(reply.getBytes(StandardCharsets.US_ASCII)));
        assertThat(drain(client)).isEqualTo("STARTTLS\r\n");
        assertThat(client.observed().orElseThrow().before().entries())
                .hasSize(61)
                .contains("tls");
    }

    @Test
    void serverHandsRegistrationPipelinedAfterStarttlsToTls() {
        IrcServer server = new IrcServer(ServerOptions.offering("irc.test", Capabilities.of("sasl")));
        server.receive(ByteBuffer.wrap("STARTTLS\r\nNICK x\r\nUSER x 0 * :x\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThat(drain(server)).isEqualTo(":irc.test 670 * :STARTTLS successful, go ahead with TLS handshake\r\n");
        Step step = server.poll();
        assertThat(step).isInstanceOf(Step.BeginHandshake.class);
        ByteBuffer tls = ((Step.BeginHandshake) step).tlsInput();
        assertThat(StandardCharsets.US_ASCII.decode(tls).toString()).isEqualTo("NICK x\r\nUSER x 0 * :x\r\n");
    }

    @Test
    void clientRejectsBytesAfter670() {
        IrcClient client = new IrcClient(ClientOptions.of(SecurityLevel.MAY));
        drain(client);
        client.receive(ByteBuffer.wrap(":s CAP * LS :tls\r\n".getBytes(StandardCharsets.US_ASCII)));
        drain(client);
        client.receive(ByteBuffer.wrap(
                ":s 670 * :STARTTLS successful\r\n:srv 001 x :Welcome\r\n".getBytes(StandardCharsets.US_ASCII)));
        Step step = client.poll();
        assertThat(step).isInstanceOf(Step.Failed.class);
        assertThat(((Step.Failed) step).failure().kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
    }

    @Test
    void skippedNoticesAreBounded() {
        IrcClient client =
                new IrcClient(ClientOptions.of(SecurityLevel.MAY).withLimits(new Limits(4096, 3, 65536, 1024, 20)));
        drain(client);
        client.receive(ByteBuffer.wrap(":s NOTICE * :***\r\n".repeat(4).getBytes(StandardCharsets.US_ASCII)));
        Step step = client.poll();
        assertThat(((Step.Failed) step).failure().kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
    }

    @Test
    void endlessLineWithoutLineEndIsLimited() {
        IrcServer server = new IrcServer(ServerOptions.offering("irc.test", Capabilities.NONE));
        server.receive(ByteBuffer.wrap("x".repeat(5000).getBytes(StandardCharsets.US_ASCII)));
        assertThat(drain(server)).startsWith("ERROR :Closing link");
        assertThat(((Step.Failed) server.poll()).failure().kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
    }

    private static String drain(dev.optls.core.Negotiation n) {
        StringBuilder text = new StringBuilder();
        while (n.poll() instanceof Step.WriteOutput) {
            ByteBuffer buf = ByteBuffer.allocate(65536);
            n.drainOutput(buf);
            buf.flip();
            text.append(StandardCharsets.UTF_8.decode(buf));
        }
        return text.toString();
    }
}
