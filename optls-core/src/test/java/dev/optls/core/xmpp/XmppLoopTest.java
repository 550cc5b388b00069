package dev.optls.core.xmpp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Loop;
import dev.optls.core.testing.Replay;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Our XMPP client against our server, in memory, c2s and s2s, at every level. */
class XmppLoopTest {
    private static final ServerOptions OFFERING = ServerOptions.offering("im.example.com", Capabilities.of("dialback"))
            .withTlsCapabilities(Capabilities.of("mechanisms SCRAM-SHA-1 PLAIN", "bind"));

    private static ClientOptions client(SecurityLevel level) {
        return ClientOptions.of(level).withServiceDomain("im.example.com").withHelloName("a.example");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void c2sUpgradesAndReadsTheNewFeatures(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new XmppClient(Protocol.XMPP, client(level)),
                new XmppServer(Protocol.XMPP, OFFERING),
                () -> new XmppServer(Protocol.XMPP, OFFERING.afterUpgrade()),
                verb -> "");

        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(result.before().entries()).containsExactly("starttls", "dialback");
        assertThat(result.after().entries()).containsExactly("mechanisms SCRAM-SHA-1 PLAIN", "bind");
        assertThat(ends.server()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void s2sRequiredTlsShowsOnlyStarttlsBeforeTls() {
        ServerOptions required = ServerOptions.offering("im.example.com", Capabilities.of("dialback"))
                .withTlsCapabilities(Capabilities.of("mechanisms EXTERNAL", "dialback"))
                .withTlsRequired(true);
        Loop.Ends ends = Loop.run(
                new XmppClient(Protocol.XMPP_SERVER, client(SecurityLevel.VERIFY)),
                new XmppServer(Protocol.XMPP_SERVER, required),
                () -> new XmppServer(Protocol.XMPP_SERVER, required.afterUpgrade()),
                verb -> "");

        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.before().entries()).containsExactly("starttls required");
        assertThat(result.after().entries()).containsExactly("mechanisms EXTERNAL", "dialback");
    }

    @Test
    void mayFallsBackWithoutTls() {
        Loop.Ends ends = Loop.run(
                new XmppClient(Protocol.XMPP, client(SecurityLevel.MAY)),
                new XmppServer(Protocol.XMPP, ServerOptions.withoutTls("im.example.com", Capabilities.of("bind"))),
                null,
                v -> "");
        Step.UpgradeUnavailable u = (Step.UpgradeUnavailable) ends.client();
        assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        assertThat(u.plaintext().before().entries()).containsExactly("bind");
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsFailClosedWithoutTls(SecurityLevel level) {
        Loop.Ends ends = Loop.run(
                new XmppClient(Protocol.XMPP, client(level)),
                new XmppServer(Protocol.XMPP, ServerOptions.withoutTls("im.example.com", Capabilities.of("bind"))),
                null,
                v -> "");
        assertThat(((Step.Failed) ends.client()).failure().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
        // The client closed its stream; the server answered in kind.
        assertThat(((Step.Completed) ends.server()).result().ending()).isEqualTo(Result.Ending.CLOSED);
    }

    @Test
    void wrongDomainIsHostUnknown() {
        Loop.Ends ends = Loop.run(
                new XmppClient(
                        Protocol.XMPP, ClientOptions.of(SecurityLevel.MAY).withServiceDomain("other.example")),
                new XmppServer(Protocol.XMPP, OFFERING),
                null,
                v -> "");
        assertThat(((Step.Failed) ends.client()).failure().detail()).contains("<host-unknown/>");
        assertThat(((Step.Failed) ends.server()).failure().detail()).contains("other.example");
    }

    @Test
    void implicitTlsReadsFeaturesOnly() {
        Loop.Ends ends = Loop.run(
                new XmppClient(Protocol.XMPP, client(SecurityLevel.VERIFY).withImplicitTls(true)),
                new XmppServer(Protocol.XMPP, OFFERING.implicitTls()),
                null,
                v -> "");
        Result result = ((Step.Completed) ends.client()).result();
        assertThat(result.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        assertThat(result.after().entries()).containsExactly("mechanisms SCRAM-SHA-1 PLAIN", "bind");
    }

    @Test
    void everyStreamGetsAFreshId() {
        String first = streamId(new XmppServer(Protocol.XMPP, OFFERING));
        String second = streamId(new XmppServer(Protocol.XMPP, OFFERING.afterUpgrade()));
        assertThat(first).hasSize(32).isNotEqualTo(second);
    }

    private static String streamId(Negotiation server) {
        server.receive(ByteBuffer.wrap(("<stream:stream to='im.example.com' version='1.0' xmlns='jabber:client'"
                        + " xmlns:stream='http://etherx.jabber.org/streams'>")
                .getBytes(StandardCharsets.UTF_8)));
        assertThat(server.poll()).isInstanceOf(Step.WriteOutput.class);
        ByteBuffer out = ByteBuffer.allocate(4096);
        server.drainOutput(out);
        Matcher m = Pattern.compile("id='([0-9a-f]+)'")
                .matcher(new String(out.array(), 0, out.position(), StandardCharsets.UTF_8));
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    @Test
    void clientNeedsAServiceDomain() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> new XmppClient(Protocol.XMPP, ClientOptions.of(SecurityLevel.MAY)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("withServiceDomain");
        assertThat(Replay.FAKE_TLS).isNotNull();
    }
}
