package dev.optls.core.xmpp;

import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * The receiving entity of an XMPP stream (RFC 6120 §4–5), client-to-server or server-to-server, up to
 * and including STARTTLS.
 *
 * <p>It waits for the initiating entity's stream header and checks it: the stream namespace (scanner),
 * the content namespace ({@code jabber:client} / {@code jabber:server}, else {@code invalid-namespace}),
 * {@code version='1.0'} (else {@code unsupported-version}) and {@code to}, which must name {@link
 * ServerOptions#hostname()} (case-insensitively; else {@code host-unknown}, RFC 6120 §4.9.3.6; a missing
 * {@code to} means the default domain). It answers with its own header carrying a fresh random stream id
 * (RFC 6120 §4.7.3) and {@code <stream:features/>}: {@code <starttls/>} while the upgrade is offered
 * ({@code <required/>} inside when {@link ServerOptions#tlsRequired()}), then the application's features
 * from {@link ServerOptions#advertised()} (see {@link XmppNames#featuresXml}), which are left out while
 * TLS is required and not active.
 *
 * <p>{@code <starttls/>} gets {@code <proceed/>} and {@link Step.BeginHandshake} with every byte after
 * it, unparsed (CVE-2011-0411). Without TLS available, or over TLS, it gets {@code <failure/>} and the
 * stream is closed (RFC 6120 §5.4.2.2). While TLS is required and not active, any other element ends the
 * stream with {@code <policy-violation/>} (RFC 6120 §5.3.1, §4.9.3.14). Otherwise each first-level
 * element is delivered as a {@link Command} (verb = local name as sent, arguments = namespace, line =
 * the element's XML) for the application to answer with XML through {@link #respond(String)} or to take
 * over with {@link #handOver()}. {@code </stream:stream>} is answered in kind ({@link
 * Result.Ending#CLOSED}).
 *
 * <p>After the handshake it completes with {@link Result.Ending#UPGRADED}; the application continues
 * with a new {@code XmppServer} built from {@link ServerOptions#afterUpgrade()}, which waits for the new
 * stream header (a new XML document) and sends a new id and features without STARTTLS. A direct-TLS
 * listener (XEP-0368) uses {@link ServerOptions#implicitTls()} the same way.
 */
public final class XmppServer extends BaseNegotiation {
    private static final String PROCEED = "<proceed xmlns='" + XmppNames.TLS + "'/>";
    private static final String FAILURE = "<failure xmlns='" + XmppNames.TLS + "'/>";
    private static final String CLOSE = "</stream:stream>";

    private final ServerOptions options;
    private final RandomGenerator random;
    private final XmlStreamScanner scanner;
    private final String featuresXml;
    private State state;

    /** A server negotiation whose stream ids come from the JDK's {@code SecureRandom} (looked up by name). */
    public XmppServer(Protocol protocol, ServerOptions options) {
        this(protocol, options, RandomGenerator.of("SecureRandom"));
    }

    /**
     * A server negotiation; stream ids come from {@code random} (RFC 6120 §13.12: ids must be
     * unpredictable, so a strong generator outside tests). It writes nothing until the stream header.
     *
     * @throws IllegalArgumentException when the advertised capabilities name unknown features
     */
    public XmppServer(Protocol protocol, ServerOptions options, RandomGenerator random) {
        super(protocol, options.limits());
        if (protocol != Protocol.XMPP && protocol != Protocol.XMPP_SERVER) {
            throw new IllegalArgumentException("not an XMPP protocol: " + protocol);
        }
        this.options = options;
        this.random = random;
        this.scanner = new XmlStreamScanner(options.limits());
        this.featuresXml = XmppNames.featuresXml(options.advertised());
        state = new ExpectHeader();
    }

    private sealed interface State {}

    private record ExpectHeader() implements State {}

    /** Our header and features were sent; reading first-level elements. */
    private record InStream() implements State {}

    private record AwaitAnswer() implements State {}

    private record AwaitHandshake() implements State {}

    private record Done() implements State {}

    @Override
    protected Phase phase() {
        if (state instanceof ExpectHeader) {
            return Phase.GREETING;
        }
        return state instanceof AwaitHandshake ? Phase.HANDSHAKE : Phase.SESSION;
    }

    @Override
    protected String farewell(Failure failure) {
        return streamErrorXml("policy-violation", "input limit exceeded");
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof ExpectHeader || state instanceof InStream)) {
            return false;
        }
        XmlEvent event;
        try {
            event = scanner.next(in);
        } catch (XmlStreamScanner.XmlException e) {
            return streamError(
                    e.problem().condition(),
                    e.problem() == XmlStreamScanner.Problem.LIMIT ? FailureKind.LIMIT_EXCEEDED : FailureKind.MALFORMED,
                    "the client's XML stream is not acceptable: " + e.getMessage());
        }
        if (event == null) {
            return false;
        }
        if (event instanceof XmlEvent.StreamOpen open) {
            return onHeader(open);
        }
        if (event instanceof XmlEvent.StreamClose) {
            // RFC 6120 §4.4: the other side closes its stream too.
            write(CLOSE);
            finish(Result.Ending.CLOSED);
            return true;
        }
        return onElement((XmlEvent.Element) event);
    }

    private boolean onHeader(XmlEvent.StreamOpen open) {
        XmlElement h = open.header();
        String content = protocol == Protocol.XMPP ? XmppNames.CLIENT : XmppNames.SERVER;
        if (!open.contentNamespace().equals(content)) {
            // RFC 6120 §4.8.2 / §4.9.3.10: the content namespace must be jabber:client (c2s) or jabber:server (s2s).
            return streamError(
                    "invalid-namespace",
                    FailureKind.PROTOCOL_VIOLATION,
                    "the client's stream uses content namespace '" + open.contentNamespace() + "', not " + content);
        }
        String version = h.attribute("version").orElse("");
        if (!version.startsWith("1.")) {
            // RFC 6120 §4.7.5: a stream without version='1.0' is pre-XMPP-1.0; only 1.x is spoken here.
            return streamError(
                    "unsupported-version",
                    FailureKind.PROTOCOL_VIOLATION,
                    "the client's stream header has version '" + version + "', not 1.0");
        }
        String to = h.attribute("to").orElse(options.hostname());
        if (!to.toLowerCase(Locale.ROOT).equals(options.hostname().toLowerCase(Locale.ROOT))) {
            // RFC 6120 §4.9.3.6: a 'to' we do not serve is host-unknown.
            return streamError(
                    "host-unknown",
                    FailureKind.PROTOCOL_VIOLATION,
                    "the client asked for domain '" + to + "', this server is " + options.hostname());
        }
        write(header(h.attribute("from").orElse(null)));
        write(features());
        state = new InStream();
        return true;
    }

    /** RFC 6120 §4.7: our stream header with a fresh id; {@code to} echoes the initiator's {@code from}. */
    private String header(String peer) {
        byte[] id = new byte[16];
        random.nextBytes(id);
        StringBuilder sb = new StringBuilder("<?xml version='1.0'?><stream:stream from='")
                .append(XmppNames.escape(options.hostname()))
                .append("' id='")
                .append(HexFormat.of().formatHex(id))
                .append('\'');
        if (peer != null) {
            sb.append(" to='").append(XmppNames.escape(peer)).append('\'');
        }
        sb.append(" version='1.0' xml:lang='en' xmlns='")
                .append(protocol == Protocol.XMPP ? XmppNames.CLIENT : XmppNames.SERVER)
                .append('\'');
        if (protocol == Protocol.XMPP_SERVER) {
            sb.append(" xmlns:db='").append(XmppNames.DIALBACK).append('\'');
        }
        return sb.append(" xmlns:stream='")
                .append(XmppNames.STREAMS)
                .append("'>")
                .toString();
    }

    private String features() {
        StringBuilder sb = new StringBuilder("<stream:features>");
        if (options.upgradeOffered()) {
            // RFC 6120 §5.4.1: offered only before TLS; <required/> when it is mandatory-to-negotiate.
            sb.append("<starttls xmlns='").append(XmppNames.TLS).append('\'');
            sb.append(options.tlsRequired() ? "><required/></starttls>" : "/>");
        }
        if (!tlsStillRequired()) {
            sb.append(featuresXml);
        }
        return sb.append("</stream:features>").toString();
    }

    private boolean tlsStillRequired() {
        return options.tlsRequired() && !options.tlsActive();
    }

    private boolean onElement(XmlEvent.Element event) {
        XmlElement e = event.element();
        if (e.is(XmppNames.TLS, "starttls")) {
            if (!options.upgradeOffered()) {
                // RFC 6120 §5.4.2.2: <failure/>, then the stream and the connection are closed. Over TLS the
                // feature is never offered (§5.4.3.3), so asking again fails the same way.
                write(FAILURE + CLOSE);
                finish(Result.Ending.CLOSED);
                return true;
            }
            state = new AwaitHandshake();
            // RFC 6120 §5.4.2.3 / CVE-2011-0411: bytes after <starttls/> go to TLS unparsed.
            beginServerHandshake(PROCEED);
            return true;
        }
        if (e.is(XmppNames.STREAMS, "error")) {
            write(CLOSE);
            failNow(Failure.peer(
                    FailureKind.PROTOCOL_VIOLATION,
                    Phase.SESSION,
                    "the client ended the stream with a stream error: "
                            + e.firstChildIn(XmppNames.STREAM_ERRORS)
                                    .map(XmlElement::localName)
                                    .orElse("undefined-condition")));
            state = new Done();
            return true;
        }
        if (tlsStillRequired()) {
            // RFC 6120 §5.3.1: STARTTLS is mandatory-to-negotiate here; nothing else is processed before it.
            return streamError(
                    "policy-violation",
                    FailureKind.PROTOCOL_VIOLATION,
                    "the client sent <" + e.qualifiedName() + "> before STARTTLS, which this server requires");
        }
        String xml = new String(event.raw(), StandardCharsets.UTF_8);
        state = new AwaitAnswer();
        deliver(new Command("", e.localName(), e.namespace(), xml, options.tlsActive()), event.raw());
        return true;
    }

    /** RFC 6120 §4.9.1: the error, then the close tag; a header first if none was sent yet (§4.9.1.1). */
    private String streamErrorXml(String condition, String text) {
        String prefix = state instanceof ExpectHeader ? header(null) : "";
        return prefix + "<stream:error><" + condition + " xmlns='" + XmppNames.STREAM_ERRORS + "'/><text xmlns='"
                + XmppNames.STREAM_ERRORS + "'>" + XmppNames.escape(text) + "</text></stream:error>" + CLOSE;
    }

    private boolean streamError(String condition, FailureKind kind, String detail) {
        write(streamErrorXml(condition, detail));
        failNow(Failure.peer(kind, phase(), detail));
        state = new Done();
        return true;
    }

    private void finish(Result.Ending ending) {
        emit(new Step.Completed(sessionResult(options, ending, ByteBuffer.allocate(0))));
        state = new Done();
    }

    @Override
    protected void onResponded(String reply) {
        if (!(state instanceof AwaitAnswer)) {
            throw new IllegalStateException("respond() without a delivered element");
        }
        state = new InStream();
    }

    @Override
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        state = new Done();
        return sessionResult(options, Result.Ending.HANDED_OVER, remaining);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        state = new Done();
        // RFC 6120 §5.4.3.3: the client opens a new stream over TLS; a new XmppServer from
        // options.afterUpgrade() reads it, knowing nothing of the plaintext stream.
        emit(new Step.Completed(upgradedResult(options)));
    }
}
