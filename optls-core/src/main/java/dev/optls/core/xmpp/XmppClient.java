package dev.optls.core.xmpp;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import dev.optls.core.internal.NegotiationException;
import java.nio.ByteBuffer;
import java.util.Set;

/**
 * The initiating entity of an XMPP stream up to and including STARTTLS (RFC 6120 §4–5), for
 * client-to-server ({@link Protocol#XMPP}) and server-to-server ({@link Protocol#XMPP_SERVER}) streams.
 *
 * <p>It opens the stream ({@code to} = {@link ClientOptions#serviceDomain()}; for s2s also {@code from}
 * = {@link ClientOptions#helloName()} and {@code xmlns:db}), reads the server's stream header and
 * {@code <stream:features/>}, sends {@code <starttls/>} when offered (or when TLS is required, which then
 * fails closed if it is not offered), and on {@code <proceed/>} starts TLS; any byte after the {@code >}
 * of {@code <proceed/>} is response injection. After the handshake it opens a new stream (a new XML
 * document, RFC 6120 §5.4.3.3) and completes with the features of the new stream only. Offering
 * STARTTLS again over TLS is a protocol violation. On a direct-TLS connection (XEP-0368, {@code xmpps})
 * it only reads the header and the features.
 *
 * <p>The negotiation ends with the stream open (SASL comes next): the application continues on the same
 * stream. A stream header from the server that repeats the pre-TLS stream id is not checked: the
 * pre-TLS id was sent in plaintext and nothing learned before TLS is kept.
 *
 * <p>{@code <failure/>} ends the connection at every level: RFC 6120 §5.4.2.2 has the server close the
 * stream and the TCP connection after it, so there is no plaintext session to continue.
 */
public final class XmppClient extends BaseNegotiation {
    private static final String STARTTLS = "<starttls xmlns='" + XmppNames.TLS + "'/>";
    private static final String CLOSE = "</stream:stream>";

    /** RFC 6120 §4.9.3: conditions that say "try again later". */
    private static final Set<String> TEMPORARY =
            Set.of("connection-timeout", "remote-connection-failed", "resource-constraint", "system-shutdown");

    private final ClientOptions options;
    private final XmlStreamScanner scanner;
    private final String header;
    private State state;

    /**
     * A client negotiation; it writes its stream header at once.
     *
     * @throws IllegalArgumentException when {@code options} carry no service domain (the {@code to})
     */
    public XmppClient(Protocol protocol, ClientOptions options) {
        super(protocol, options.limits());
        if (protocol != Protocol.XMPP && protocol != Protocol.XMPP_SERVER) {
            throw new IllegalArgumentException("not an XMPP protocol: " + protocol);
        }
        this.options = options;
        this.scanner = new XmlStreamScanner(options.limits());
        String domain = options.serviceDomain()
                .orElseThrow(() -> new IllegalArgumentException(
                        "XMPP needs the domain to ask service for: ClientOptions.withServiceDomain(...)"));
        this.header = header(protocol, domain, options.helloName());
        write(header);
        state = new ExpectHeader();
    }

    /**
     * The stream header (RFC 6120 §4.7): {@code version='1.0'} is mandatory, or servers act as pre-RFC 3920
     * and send no features (protocols.md §5.1). s2s: {@code from} is our domain (RFC 6120 §4.7.1) and
     * {@code xmlns:db} is declared, or many servers offer no dialback (protocols.md §5.3).
     */
    private static String header(Protocol protocol, String domain, String from) {
        StringBuilder sb = new StringBuilder("<?xml version='1.0'?><stream:stream");
        if (protocol == Protocol.XMPP_SERVER) {
            sb.append(" from='").append(XmppNames.escape(from)).append('\'');
        }
        sb.append(" to='").append(XmppNames.escape(domain)).append("' version='1.0'");
        sb.append(" xmlns='")
                .append(protocol == Protocol.XMPP ? XmppNames.CLIENT : XmppNames.SERVER)
                .append('\'');
        if (protocol == Protocol.XMPP_SERVER) {
            sb.append(" xmlns:db='").append(XmppNames.DIALBACK).append('\'');
        }
        sb.append(" xmlns:stream='").append(XmppNames.STREAMS).append("'>");
        return sb.toString();
    }

    private sealed interface State {
        Phase phase();
    }

    private record ExpectHeader() implements State {
        @Override
        public Phase phase() {
            return Phase.GREETING;
        }
    }

    private record ExpectFeatures(String greeting) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES;
        }
    }

    private record ExpectProceed(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.UPGRADE;
        }
    }

    private record AwaitHandshake(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.HANDSHAKE;
        }
    }

    /** The new stream was opened over TLS; {@code greeting}/{@code before} are kept for the report only. */
    private record ExpectHeaderAfterTls(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES_AFTER_TLS;
        }
    }

    private record ExpectFeaturesAfterTls(String greeting, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.CAPABILITIES_AFTER_TLS;
        }
    }

    private record Done(Phase phase) implements State {}

    @Override
    protected Phase phase() {
        return state.phase();
    }

    @Override
    protected boolean advance() {
        if (state instanceof AwaitHandshake || state instanceof Done) {
            return false;
        }
        XmlEvent event;
        try {
            event = scanner.next(in);
        } catch (XmlStreamScanner.XmlException e) {
            throw peerFailure(
                    e.problem() == XmlStreamScanner.Problem.LIMIT ? FailureKind.LIMIT_EXCEEDED : FailureKind.MALFORMED,
                    "the server's XML stream is not acceptable (" + e.problem().condition() + "): " + e.getMessage());
        }
        if (event == null) {
            return false;
        }
        if (event instanceof XmlEvent.StreamClose) {
            throw peerFailure(FailureKind.SERVICE_UNAVAILABLE, "the server closed the XML stream");
        }
        if (event instanceof XmlEvent.Element e && e.element().is(XmppNames.STREAMS, "error")) {
            throw streamError(e.element());
        }
        State s = state;
        // Java 17: no pattern matching for switch yet, hence the instanceof chain.
        if (s instanceof ExpectHeader && event instanceof XmlEvent.StreamOpen open) {
            state = onHeader(open);
        } else if (s instanceof ExpectFeatures f && isFeatures(event)) {
            state = onFeatures(f, XmppNames.capabilities(((XmlEvent.Element) event).element()));
        } else if (s instanceof ExpectProceed p && event instanceof XmlEvent.Element e) {
            state = onStartTlsAnswer(p, e.element());
        } else if (s instanceof ExpectHeaderAfterTls h && event instanceof XmlEvent.StreamOpen open) {
            requireVersion1(open);
            state = new ExpectFeaturesAfterTls(h.greeting(), h.before());
        } else if (s instanceof ExpectFeaturesAfterTls f && isFeatures(event)) {
            state = onFeaturesAfterTls(f, XmppNames.capabilities(((XmlEvent.Element) event).element()));
        } else {
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    "unexpected " + describe(event) + " while waiting for " + waitingFor(s));
        }
        return true;
    }

    private static boolean isFeatures(XmlEvent event) {
        return event instanceof XmlEvent.Element e && e.element().is(XmppNames.STREAMS, "features");
    }

    private static String describe(XmlEvent event) {
        if (event instanceof XmlEvent.Element e) {
            return "<" + e.element().qualifiedName() + "> in namespace '"
                    + e.element().namespace() + "'";
        }
        return event instanceof XmlEvent.StreamOpen ? "stream header" : "stream close";
    }

    private static String waitingFor(State s) {
        if (s instanceof ExpectProceed) {
            return "<proceed/> or <failure/>";
        }
        if (s instanceof ExpectFeatures || s instanceof ExpectFeaturesAfterTls) {
            return "<stream:features/>";
        }
        return "the stream header";
    }

    private NegotiationException streamError(XmlElement error) {
        // RFC 6120 §4.9: the condition is the child in the streams-errors namespace; <text/> is optional.
        String condition = error.firstChildIn(XmppNames.STREAM_ERRORS)
                .filter(c -> !c.localName().equals("text"))
                .map(XmlElement::localName)
                .orElse("undefined-condition");
        String text = error.child(XmppNames.STREAM_ERRORS, "text")
                .map(t -> ": " + t.text().strip())
                .orElse("");
        String hint = condition.equals("host-unknown")
                ? " (the server does not serve this domain; set the XMPP domain, e.g. --xmpp-to)"
                : "";
        return new NegotiationException(new Failure(
                Blame.PEER,
                FailureKind.SERVICE_UNAVAILABLE,
                state.phase(),
                "the server ended the stream with the stream error <" + condition + "/>" + text + hint,
                TEMPORARY.contains(condition)));
    }

    private State onHeader(XmlEvent.StreamOpen open) {
        XmlElement h = open.header();
        String greeting = h.attribute("from").orElse("") + " (XMPP "
                + h.attribute("version").orElse("0.9") + ")";
        if (!version1(h)) {
            // RFC 6120 §4.7.5: without version='1.0' the server speaks pre-XMPP-1.0 and sends no features,
            // hence no STARTTLS.
            return unavailable(
                    FailureKind.STARTTLS_NOT_OFFERED,
                    Phase.GREETING,
                    "the server's stream header has no version='1.0', so it offers no stream features",
                    plaintext(greeting.strip(), Capabilities.NONE));
        }
        return new ExpectFeatures(greeting.strip());
    }

    private static boolean version1(XmlElement header) {
        String v = header.attribute("version").orElse("");
        int dot = v.indexOf('.');
        try {
            return dot > 0 && Integer.parseInt(v.substring(0, dot)) >= 1;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private void requireVersion1(XmlEvent.StreamOpen open) {
        if (!version1(open.header())) {
            throw peerFailure(FailureKind.PROTOCOL_VIOLATION, "the stream header over TLS has no version='1.0'");
        }
    }

    private State onFeatures(ExpectFeatures s, Capabilities caps) {
        if (options.implicitTls()) {
            if (caps.has("starttls")) {
                // RFC 6120 §5.4.3.3 / XEP-0368: STARTTLS is never offered once TLS is active.
                throw peerFailure(
                        FailureKind.PROTOCOL_VIOLATION, "the server offers STARTTLS on a direct-TLS connection");
            }
            return complete(new Result(
                    protocol, Result.Ending.IMPLICIT_TLS, true, s.greeting(), Capabilities.NONE, caps, none()));
        }
        Result plaintext = plaintext(s.greeting(), caps);
        observe(plaintext);
        if (options.level() == SecurityLevel.NONE) {
            return complete(plaintext);
        }
        if (!caps.has("starttls")) {
            return unavailable(
                    FailureKind.STARTTLS_NOT_OFFERED,
                    Phase.CAPABILITIES,
                    "the server's stream features do not offer <starttls/>",
                    plaintext);
        }
        // RFC 6120 §5.4.2.1: <starttls/> alone; nothing more may be sent before <proceed/> or <failure/>.
        write(STARTTLS);
        return new ExpectProceed(s.greeting(), caps);
    }

    private State onStartTlsAnswer(ExpectProceed s, XmlElement answer) {
        if (answer.is(XmppNames.TLS, "proceed")) {
            // RFC 6120 §5.4.2.3: TLS starts right after the '>' of <proceed/>. Anything buffered after it was
            // sent in plaintext: response injection (security.md §5 E).
            beginClientHandshake();
            return new AwaitHandshake(s.greeting(), s.before());
        }
        if (answer.is(XmppNames.TLS, "failure")) {
            // RFC 6120 §5.4.2.2: the server closes the stream and the TCP connection after <failure/>.
            Failure refused = Failure.peer(
                    FailureKind.STARTTLS_REFUSED, Phase.UPGRADE, "the server answered <starttls/> with <failure/>");
            failNow(options.level().requiresTls() ? refused.asPolicy() : refused, plaintext(s.greeting(), s.before()));
            return new Done(Phase.UPGRADE);
        }
        throw peerFailure(
                FailureKind.PROTOCOL_VIOLATION,
                "the server answered <starttls/> with <" + answer.qualifiedName() + "> instead of <proceed/>");
    }

    private State unavailable(FailureKind kind, Phase phase, String detail, Result plaintext) {
        if (options.level().requiresTls()) {
            // protocols.md §0.1.6: required TLS fails closed; the stream is closed politely.
            write(CLOSE);
            failNow(
                    new Failure(
                            Blame.POLICY,
                            kind,
                            phase,
                            detail + "; TLS is required at level " + options.level()
                                    + ", so the connection is closed (lower the level to MAY to allow plaintext)",
                            false),
                    plaintext);
            return new Done(phase);
        }
        if (options.level() == SecurityLevel.NONE) {
            return complete(plaintext);
        }
        emit(new Step.UpgradeUnavailable(Failure.peer(kind, phase, detail), plaintext));
        return new Done(phase);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake s)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        // RFC 6120 §5.4.3.3: a new stream over TLS, without closing the old one; the parser starts a new XML
        // document and everything learned in plaintext (stream id, features) is forgotten.
        scanner.reset();
        write(header);
        state = new ExpectHeaderAfterTls(s.greeting(), s.before());
    }

    private State onFeaturesAfterTls(ExpectFeaturesAfterTls s, Capabilities after) {
        if (after.has("starttls")) {
            // RFC 6120 §5.4.3.3: the receiving entity MUST NOT offer STARTTLS again once TLS is in place.
            throw peerFailure(FailureKind.PROTOCOL_VIOLATION, "the server offers <starttls/> again over TLS");
        }
        return complete(new Result(protocol, Result.Ending.UPGRADED, true, s.greeting(), s.before(), after, none()));
    }

    private Result plaintext(String greeting, Capabilities caps) {
        return new Result(protocol, Result.Ending.PLAINTEXT, false, greeting, caps, Capabilities.NONE, none());
    }

    private State complete(Result result) {
        emit(new Step.Completed(result));
        return new Done(state.phase());
    }

    private static ByteBuffer none() {
        return ByteBuffer.allocate(0);
    }
}
