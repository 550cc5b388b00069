package dev.optls.core.smtp;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Client side of SMTP, submission and LMTP STARTTLS (RFC 3207, RFC 5321, RFC 2033).
 *
 * <p>Reads the greeting, sends EHLO (LHLO for LMTP), sends STARTTLS when offered or required, and after
 * the handshake sends EHLO again and reports what was advertised before and after TLS.
 */
public final class SmtpClient extends BaseNegotiation {

    private sealed interface State {}

    private record ExpectGreeting() implements State {}

    private record ExpectHelloReply() implements State {}

    private record ExpectStartTlsReply() implements State {}

    private record AwaitHandshake() implements State {}

    private record ExpectHelloReplyAfterTls() implements State {}

    private final ClientOptions options;
    private final SmtpReplyReader replies;
    private final String helloVerb;
    private State state = new ExpectGreeting();
    // Kept for the report only (Result.greeting / Result.before); never consulted after TLS.
    private String greetingForReport = "";
    private Capabilities beforeForReport = Capabilities.NONE;

    /**
     * A client for {@link Protocol#SMTP}, {@link Protocol#SUBMISSION} or {@link Protocol#LMTP}.
     *
     * @throws IllegalArgumentException for other protocols
     */
    public SmtpClient(Protocol protocol, ClientOptions options) {
        super(checkProtocol(protocol), options.limits());
        this.options = options;
        this.replies = new SmtpReplyReader(options.limits());
        // RFC 2033 §4.1: LMTP uses LHLO where SMTP uses EHLO, before and after TLS.
        this.helloVerb = protocol == Protocol.LMTP ? "LHLO" : "EHLO";
    }

    static Protocol checkProtocol(Protocol protocol) {
        if (protocol != Protocol.SMTP && protocol != Protocol.SUBMISSION && protocol != Protocol.LMTP) {
            throw new IllegalArgumentException("not an SMTP-family protocol: " + protocol);
        }
        return protocol;
    }

    @Override
    protected Phase phase() {
        if (state instanceof ExpectGreeting) {
            return Phase.GREETING;
        } else if (state instanceof ExpectHelloReply) {
            return Phase.CAPABILITIES;
        } else if (state instanceof ExpectStartTlsReply) {
            return Phase.UPGRADE;
        } else if (state instanceof AwaitHandshake) {
            return Phase.HANDSHAKE;
        }
        return Phase.CAPABILITIES_AFTER_TLS;
    }

    @Override
    protected boolean advance() {
        SmtpReply reply = readReply();
        if (reply == null) {
            return false;
        }
        if (state instanceof ExpectGreeting) {
            onGreeting(reply);
        } else if (state instanceof ExpectHelloReply) {
            onHelloReply(reply);
        } else if (state instanceof ExpectStartTlsReply) {
            onStartTlsReply(reply);
        } else if (state instanceof ExpectHelloReplyAfterTls) {
            onHelloReplyAfterTls(reply);
        } else {
            throw new IllegalStateException("input while awaiting the handshake");
        }
        return true;
    }

    private SmtpReply readReply() {
        while (true) {
            String line = nextLine();
            if (line == null) {
                return null;
            }
            try {
                SmtpReply reply = replies.accept(line);
                if (reply != null) {
                    return reply;
                }
            } catch (SmtpReplyReader.MalformedReplyException e) {
                throw peerFailure(e.kind(), e.getMessage());
            }
        }
    }

    private void onGreeting(SmtpReply reply) {
        if (reply.code() != 220) {
            // RFC 5321 §3.1: 554 (or 421) instead of 220 means no service; the client should QUIT.
            if (reply.code() == 554) {
                write("QUIT\r\n");
            }
            failNow(Failure.peer(FailureKind.SERVICE_UNAVAILABLE, Phase.GREETING, "server refused service: " + reply)
                    .withTemporary(reply.isTransient()));
            return;
        }
        greetingForReport = reply.text();
        if (options.greetingOnly()) {
            // The relay's client sends its own EHLO next (RFC 5321 §4.1.1.1: EHLO may be the first command).
            emit(new Step.Completed(result(Result.Ending.PLAINTEXT, false, Capabilities.NONE, Capabilities.NONE)));
            return;
        }
        sendHello();
        state = new ExpectHelloReply();
    }

    private void sendHello() {
        write(helloVerb + " " + options.helloName() + "\r\n");
    }

    private void onHelloReply(SmtpReply reply) {
        if (reply.code() == 421) {
            failNow(serviceClosing(reply));
            return;
        }
        if (!reply.isPositive()) {
            // RFC 5321 §4.1.4: a server that rejects EHLO may only know HELO, which has no extensions,
            // hence no STARTTLS (security.md §5 D.34: never fall back to HELO when TLS is required).
            Failure refused = Failure.peer(
                            FailureKind.EXTENDED_HELLO_REFUSED,
                            Phase.CAPABILITIES,
                            helloVerb + " refused (" + reply + "); a HELO-only server cannot offer STARTTLS")
                    .withTemporary(reply.isTransient());
            downgradeOrFail(refused, Capabilities.NONE);
            return;
        }
        Capabilities capabilities = capabilitiesOf(reply);
        if (options.implicitTls()) {
            emit(new Step.Completed(result(Result.Ending.IMPLICIT_TLS, true, Capabilities.NONE, capabilities)));
            return;
        }
        beforeForReport = capabilities;
        observe(result(Result.Ending.PLAINTEXT, false, capabilities, Capabilities.NONE));
        switch (options.level()) {
            case NONE ->
                emit(new Step.Completed(result(Result.Ending.PLAINTEXT, false, capabilities, Capabilities.NONE)));
            case MAY, ENCRYPT, VERIFY -> {
                if (!capabilities.has("STARTTLS")) {
                    downgradeOrFail(
                            Failure.peer(
                                    FailureKind.STARTTLS_NOT_OFFERED,
                                    Phase.CAPABILITIES,
                                    "the server's " + helloVerb + " reply does not list STARTTLS"),
                            capabilities);
                    return;
                }
                // RFC 3207 §4 / RFC 2920 §3.1: STARTTLS is sent alone, never pipelined with anything after it.
                write("STARTTLS\r\n");
                state = new ExpectStartTlsReply();
            }
        }
    }

    private void onStartTlsReply(SmtpReply reply) {
        if (reply.code() == 220) {
            // RFC 3207 §4.2: TLS starts right after the 220's CRLF; nothing may be buffered beyond it.
            beginClientHandshake();
            state = new AwaitHandshake();
            return;
        }
        if (reply.code() == 421) {
            failNow(serviceClosing(reply));
            return;
        }
        if (reply.code() / 100 == 4 || reply.code() / 100 == 5) {
            // RFC 3207 §4: 454 TLS not available (temporary); 501 syntax; 502/500 not implemented.
            downgradeOrFail(
                    Failure.peer(FailureKind.STARTTLS_REFUSED, Phase.UPGRADE, "STARTTLS refused: " + reply)
                            .withTemporary(reply.isTransient()),
                    beforeForReport);
            return;
        }
        // Anything else (e.g. 354, 250) is not an answer to STARTTLS: the session is no longer sane.
        failNow(Failure.peer(FailureKind.PROTOCOL_VIOLATION, Phase.UPGRADE, "unexpected reply to STARTTLS: " + reply));
    }

    private void onHelloReplyAfterTls(SmtpReply reply) {
        if (!reply.isPositive()) {
            write("QUIT\r\n");
            failNow(Failure.peer(
                            FailureKind.EXTENDED_HELLO_REFUSED,
                            Phase.CAPABILITIES_AFTER_TLS,
                            helloVerb + " after TLS refused: " + reply)
                    .withTemporary(reply.isTransient()));
            return;
        }
        emit(new Step.Completed(result(Result.Ending.UPGRADED, true, beforeForReport, capabilitiesOf(reply))));
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        // RFC 3207 §4.2: the client MUST discard any knowledge obtained from the server before TLS and
        // SHOULD send EHLO as the first command after a successful negotiation.
        state = new ExpectHelloReplyAfterTls();
        sendHello();
    }

    /** MAY continues in plaintext; from ENCRYPT up the failure is final and the client says QUIT. */
    private void downgradeOrFail(Failure reason, Capabilities before) {
        if (options.level().requiresTls() || options.implicitTls()) {
            write("QUIT\r\n");
            failNow(reason.asPolicy(), result(Result.Ending.PLAINTEXT, false, before, Capabilities.NONE));
        } else {
            emit(new Step.UpgradeUnavailable(
                    reason, result(Result.Ending.PLAINTEXT, false, before, Capabilities.NONE)));
        }
    }

    private Failure serviceClosing(SmtpReply reply) {
        // RFC 5321 §3.8: 421 means the server is closing the transmission channel.
        return Failure.peer(FailureKind.SERVICE_UNAVAILABLE, phase(), "server is closing the connection: " + reply)
                .withTemporary(true);
    }

    private Result result(Result.Ending ending, boolean tls, Capabilities before, Capabilities after) {
        return new Result(protocol, ending, tls, greetingForReport, before, after, ByteBuffer.allocate(0));
    }

    /** RFC 5321 §4.1.1.1: the first line of the EHLO reply is the greeting; each later line is a keyword. */
    static Capabilities capabilitiesOf(SmtpReply reply) {
        List<String> lines = reply.lines();
        return new Capabilities(lines.subList(1, lines.size()).stream()
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList());
    }
}
