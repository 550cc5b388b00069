package dev.optls.core.xmpp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Limits;
import dev.optls.core.internal.InputBuffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The XML stream scanner on its own: namespaces, references, bounds, and cost per byte. */
class XmlStreamScannerTest {
    private static final String HEADER = "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns=\"jabber:client\""
            + " version='1.0' xml:lang='en'>";

    private final InputBuffer in = new InputBuffer(1 << 20);
    private final XmlStreamScanner scanner = new XmlStreamScanner(new Limits(4096, 256, 1 << 20, 0, 1));

    private XmlEvent feed(String text) {
        in.append(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
        return scanner.next(in);
    }

    @Test
    void resolvesPrefixesDefaultNamespacesAndXmlLang() {
        XmlEvent.StreamOpen open = (XmlEvent.StreamOpen) feed(HEADER);
        assertThat(open.header().is(XmppNames.STREAMS, "stream")).isTrue();
        assertThat(open.contentNamespace()).isEqualTo("jabber:client");
        assertThat(open.header().attribute(XmlStreamScanner.XML_NS, "lang")).contains("en");

        XmlEvent.Element e = (XmlEvent.Element)
                feed(
                        "<s:features><m:mechanisms xmlns:m='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                + "<m:mechanism>A&amp;B&#x263A;&#65;<![CDATA[<x>]]></m:mechanism></m:mechanisms><bind/></s:features>");
        assertThat(e.element().is(XmppNames.STREAMS, "features")).isTrue();
        XmlElement mech = e.element().children().get(0).children().get(0);
        assertThat(mech.is(XmppNames.SASL, "mechanism")).isTrue();
        assertThat(mech.text()).isEqualTo("A&B\u263AA<x>");
        // An unprefixed child inherits the stream's default namespace.
        assertThat(e.element().children().get(1).namespace()).isEqualTo("jabber:client");
        assertThat(new String(e.raw(), StandardCharsets.UTF_8))
                .startsWith("<s:features>")
                .endsWith("</s:features>");
        assertThat(in.size()).isZero();
    }

    @Test
    void waitsForCompleteElementsAndConsumesNothingBefore() {
        feed(HEADER);
        assertThat(feed("<iq id='1'><query xmlns='jabber:iq:roster'>")).isNull();
        assertThat(in.size()).isPositive();
        XmlEvent.Element e = (XmlEvent.Element) feed("</query></iq> <presence/>");
        assertThat(e.element().attribute("id")).contains("1");
        assertThat(((XmlEvent.Element) scanner.next(in)).element().localName()).isEqualTo("presence");
        assertThat(feed("</s:stream>")).isInstanceOf(XmlEvent.StreamClose.class);
    }

    @Test
    void refusesWhatRfc6120Section11Forbids() {
        feed(HEADER);
        for (String bad : new String[] {"<!-- x -->", "<?pi x?>", "<a>&ent;</a>", "<!DOCTYPE a>"}) {
            XmlStreamScanner fresh = new XmlStreamScanner(Limits.DEFAULT);
            InputBuffer buf = new InputBuffer(65536);
            buf.append(ByteBuffer.wrap((HEADER + bad).getBytes(StandardCharsets.UTF_8)));
            fresh.next(buf);
            assertThatThrownBy(() -> fresh.next(buf))
                    .as(bad)
                    .isInstanceOfSatisfying(
                            XmlStreamScanner.XmlException.class,
                            x -> assertThat(x.problem()).isEqualTo(XmlStreamScanner.Problem.RESTRICTED_XML));
        }
    }

    @Test
    void refusesANonUtf8Declaration() {
        assertThatThrownBy(() -> feed("<?xml version='1.0' encoding='ISO-8859-1'?>" + HEADER))
                .isInstanceOfSatisfying(
                        XmlStreamScanner.XmlException.class,
                        x -> assertThat(x.problem()).isEqualTo(XmlStreamScanner.Problem.UNSUPPORTED_ENCODING));
    }

    @Test
    void restartsWithANewDocumentAfterReset() {
        feed("<?xml version='1.0'?>" + HEADER);
        scanner.reset();
        assertThat(feed("<?xml version='1.0'?>" + HEADER)).isInstanceOf(XmlEvent.StreamOpen.class);
    }

    @Test
    void textFedOneByteAtATimeCostsLinearWork() {
        feed(HEADER);
        XmlStreamScanner big = new XmlStreamScanner(new Limits(200_000, 256, 1 << 20, 0, 1));
        InputBuffer buf = new InputBuffer(1 << 20);
        buf.append(ByteBuffer.wrap(HEADER.getBytes(StandardCharsets.UTF_8)));
        big.next(buf);
        byte[] body = ("<message><body>" + "x".repeat(150_000) + "</body></message>").getBytes(StandardCharsets.UTF_8);
        long start = System.nanoTime();
        XmlEvent last = null;
        for (byte b : body) {
            buf.append(ByteBuffer.wrap(new byte[] {b}));
            last = big.next(buf);
        }
        assertThat(last).isInstanceOf(XmlEvent.Element.class);
        // Quadratic re-scanning would take minutes here; linear work takes milliseconds.
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
    }
}
