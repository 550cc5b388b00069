package dev.optls.core.xmpp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.ClientOptions;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Chunks;
import dev.optls.core.testing.Drive;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a peer sends, in whatever chunks, an XMPP negotiation neither throws nor produces undefined steps. */
class XmppPropertiesTest {
    private static final Limits SMALL = new Limits(256, 8, 1024, 64, 5);

    /** Bytes cut into pieces. */
    record Input(List<byte[]> chunks) {}

    @Provide
    Arbitrary<Input> randomBytes() {
        return Arbitraries.bytes()
                .array(byte[].class)
                .ofMaxSize(64)
                .list()
                .ofMaxSize(12)
                .map(Input::new);
    }

    /** XMPP-shaped pieces, so that the negotiation often gets past the header. */
    @Provide
    Arbitrary<Input> xmppPieces() {
        Arbitrary<String> token = Arbitraries.of(
                "<?xml version='1.0'?>",
                "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'"
                        + " to='im.example.com' from='im.example.com' id='x'>",
                "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
                "<stream:features>",
                "</stream:features>",
                "<features xmlns=\"http://etherx.jabber.org/streams\"/>",
                "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
                "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>",
                "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
                "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
                "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
                "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>",
                "<iq type='get' id='1'/>",
                "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>=</auth>",
                "</stream:stream>",
                "&amp;&#x41;&bad;",
                "<!-- c -->",
                "<![CDATA[x]]>",
                "<!DOCTYPE x>",
                "<a><b><c>",
                "</c></b></a>",
                " ",
                "\r\n",
                "\u0000\u00ff",
                "x".repeat(70));
        Arbitrary<byte[]> stream =
                token.list().ofMaxSize(30).map(list -> String.join("", list).getBytes(StandardCharsets.ISO_8859_1));
        return Chunks.split(stream, 900).map(Input::new);
    }

    private static ClientOptions client(SecurityLevel level, boolean implicit) {
        return new ClientOptions(level, "a.example", implicit, SMALL).withServiceDomain("im.example.com");
    }

    @Property(tries = 300)
    void clientSurvivesRandomBytes(
            @ForAll("randomBytes") Input input, @ForAll SecurityLevel level, @ForAll boolean implicit) {
        drive(new XmppClient(Protocol.XMPP, client(level, implicit)), input, 0);
    }

    @Property(tries = 500)
    void clientSurvivesXmppShapedInput(
            @ForAll("xmppPieces") Input input,
            @ForAll SecurityLevel level,
            @ForAll boolean implicit,
            @ForAll boolean s2s) {
        drive(new XmppClient(s2s ? Protocol.XMPP_SERVER : Protocol.XMPP, client(level, implicit)), input, 0);
    }

    @Property(tries = 300)
    void serverSurvivesRandomBytes(@ForAll("randomBytes") Input input, @ForAll boolean required, @ForAll int answers) {
        drive(new XmppServer(Protocol.XMPP, serverOptions(required)), input, answers);
    }

    @Property(tries = 500)
    void serverSurvivesXmppShapedInput(
            @ForAll("xmppPieces") Input input,
            @ForAll boolean required,
            @ForAll boolean active,
            @ForAll boolean s2s,
            @ForAll int answers) {
        ServerOptions options = serverOptions(required);
        drive(
                new XmppServer(s2s ? Protocol.XMPP_SERVER : Protocol.XMPP, active ? options.afterUpgrade() : options),
                input,
                answers);
    }

    private static ServerOptions serverOptions(boolean required) {
        return ServerOptions.offering("im.example.com", XmppTranscriptTest.PLAIN)
                .withTlsCapabilities(XmppTranscriptTest.TLS)
                .withTlsRequired(required)
                .withLimits(SMALL);
    }

    /** Acts on every step as an adapter would; see {@link Drive#toEnd}. */
    private static void drive(Negotiation n, Input input, int answers) {
        Step end = Drive.toEnd(
                n,
                input.chunks(),
                n instanceof XmppClient,
                answers,
                List.of("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "<iq type='result' id='1'/>"));
        assertThat(end).isInstanceOfAny(Step.Completed.class, Step.Failed.class, Step.UpgradeUnavailable.class);
    }
}
