package dev.optls.core.xmpp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.internal.InputBuffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Details of the XMPP dialects and the scanner that transcripts do not show well. */
class XmppDetailsTest {
    private static final String HEADER = "<stream:stream to='im.example.com' version='1.0' xmlns='jabber:client'"
            + " xmlns:stream='http://etherx.jabber.org/streams'>";

    private static String drain(Negotiation n) {
        StringBuilder sb = new StringBuilder();
        Step step;
        while ((step = n.poll()) instanceof Step.WriteOutput) {
            ByteBuffer out = ByteBuffer.allocate(8192);
            n.drainOutput(out);
            sb.append(new String(out.array(), 0, out.position(), StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    private static void feed(Negotiation n, String text) {
        n.receive(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void serverSaysPolicyViolationWhenTheInputBufferOverflows() {
        Limits small = new Limits(256, 1000, 512, 0, 5);
        XmppServer server = new XmppServer(
                Protocol.XMPP,
                ServerOptions.offering("im.example.com", Capabilities.NONE).withLimits(small));
        feed(server, HEADER);
        assertThat(drain(server)).contains("<stream:features>");
        feed(server, "<iq>" + "<b/>".repeat(100));
        feed(server, "<b/>".repeat(100));
        assertThat(drain(server)).startsWith("<stream:error><policy-violation").endsWith("</stream:stream>");
        assertThat(((Step.Failed) server.poll()).failure().kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
    }

    @Test
    void serverRejectsUnknownFeatureNamesAtConstruction() {
        assertThatThrownBy(() -> new XmppServer(
                        Protocol.XMPP, ServerOptions.offering("im.example.com", Capabilities.of("PIPELINING"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PIPELINING");
    }

    @Test
    void featuresRoundTripThroughCapabilities() {
        Capabilities caps =
                Capabilities.of("mechanisms SCRAM-SHA-256 PLAIN", "bind", "session", "sm", "csi", "ver", "dialback");
        InputBuffer in = new InputBuffer(65536);
        XmlStreamScanner scanner = new XmlStreamScanner(Limits.DEFAULT);
        in.append(ByteBuffer.wrap((HEADER + "<stream:features>" + XmppNames.featuresXml(caps)
                        + "<custom xmlns='urn:example'/></stream:features>")
                .getBytes(StandardCharsets.UTF_8)));
        scanner.next(in);
        XmlElement features = ((XmlEvent.Element) scanner.next(in)).element();
        assertThat(XmppNames.capabilities(features).entries())
                .containsExactly(
                        "mechanisms SCRAM-SHA-256 PLAIN", "bind", "session", "sm", "csi", "ver", "dialback", "custom");
    }

    @Test
    void scannerEdgeCases() {
        assertThat(scan("<iq id='a>b' to=\"x'y\"/>").attribute("id")).contains("a>b");
        assertThat(scan("<iq id='a>b' to=\"x'y\"/>").attribute("to")).contains("x'y");
        assertThat(scan("<iq id='a\tb\nc'/>").attribute("id")).contains("a b c");
        assertThat(scan("<x:iq xmlns:x='jabber:client' x:id='1'/>").attribute("jabber:client", "id"))
                .contains("1");
        assertThat(problem("<iq id='1' id='2'/>")).isEqualTo(XmlStreamScanner.Problem.NOT_WELL_FORMED);
        assertThat(problem("<iq y:id='1'/>")).isEqualTo(XmlStreamScanner.Problem.NOT_WELL_FORMED);
        assertThat(problem("<iq id=1/>")).isEqualTo(XmlStreamScanner.Problem.NOT_WELL_FORMED);
        assertThat(problem("<iq>&#0;</iq>")).isEqualTo(XmlStreamScanner.Problem.NOT_WELL_FORMED);
        assertThat(problem("<iq>&#xD800;</iq>")).isEqualTo(XmlStreamScanner.Problem.NOT_WELL_FORMED);
        assertThat(problem("<iq xmlns:p=''/>")).isEqualTo(XmlStreamScanner.Problem.NOT_WELL_FORMED);
        assertThat(problem("<" + "a".repeat(300) + "/>")).isEqualTo(XmlStreamScanner.Problem.LIMIT);
    }

    private static XmlElement scan(String stanza) {
        InputBuffer in = new InputBuffer(65536);
        XmlStreamScanner scanner = new XmlStreamScanner(new Limits(256, 256, 65536, 0, 1));
        in.append(ByteBuffer.wrap((HEADER + stanza).getBytes(StandardCharsets.UTF_8)));
        scanner.next(in);
        return ((XmlEvent.Element) scanner.next(in)).element();
    }

    private static XmlStreamScanner.Problem problem(String stanza) {
        try {
            scan(stanza);
        } catch (XmlStreamScanner.XmlException e) {
            return e.problem();
        }
        throw new AssertionError("accepted: " + stanza);
    }
}
