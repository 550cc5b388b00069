package dev.optls.core.imap;

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
import java.util.ArrayList;
import java.util.List;

/**
 * IMAP client upgrade (RFC 9051 §6.2.1, RFC 3501, RFC 2595): read the greeting, learn the capabilities,
 * send {@code STARTTLS}, and after the handshake ask for the capabilities again.
 *
 * <p>The greeting's {@code [CAPABILITY ...]} code replaces the first {@code CAPABILITY} command when it
 * lists {@code STARTTLS} or when no upgrade is wanted; otherwise {@code CAPABILITY} is asked, because
 * some servers list {@code STARTTLS} in only one of the two places. After TLS, {@code CAPABILITY} is
 * always asked: nothing seen in plaintext is used (RFC 9051 §6.2.1, §11.3).
 */
public final class ImapClient extends BaseNegotiation {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private sealed interface State {}

    private record ExpectGreeting() implements State {}

    /** Waiting for the tagged reply to the plaintext CAPABILITY. */
    private record ExpectCapabilityReply(String tag, String greeting, List<String> collected, int untagged)
            implements State {}

    private record ExpectStartTlsReply(String tag, String greeting, Capabilities before, int untagged)
            implements State {}

    private record AwaitHandshake(String greeting, Capabilities before) implements State {}

    /** Waiting for the tagged reply to the CAPABILITY sent over TLS. */
    private record ExpectCapabilityReplyAfterTls(
            String tag, String greeting, Capabilities before, List<String> collected, int untagged) implements State {}

    private record Finished(Phase phase) implements State {}

    private final ClientOptions options;
    private ImapResponseParser parser;
    private State state = new ExpectGreeting();
    private int tagCounter;

    /** A client negotiation for {@code options}. */
    public ImapClient(ClientOptions options) {
        super(Protocol.IMAP, options.limits());
        this.options = options;
        this.parser = new ImapResponseParser(options.limits());
    }

    @Override
    protected boolean advance() {
        if (state instanceof AwaitHandshake || state instanceof Finished) {
            return false;
        }
        ImapResponse response;
        try {
            response = parser.next(in);
        } catch (ImapParseException e) {
            throw peerFailure(e.kind(), "malformed server response: " + e.getMessage());
        }
        if (response == null) {
            return false;
        }
        State s = state;
        if (s instanceof ExpectGreeting) {
            onGreeting(response);
        } else if (s instanceof ExpectCapabilityReply c) {
            onCapabilityReply(c, response);
        } else if (s instanceof ExpectStartTlsReply t) {
            onStartTlsReply(t, response);
        } else if (s instanceof ExpectCapabilityReplyAfterTls a) {
            onCapabilityReplyAfterTls(a, response);
        }
        return true;
    }

    @Override
    protected Phase phase() {
        State s = state;
        if (s instanceof ExpectGreeting) {
            return Phase.GREETING;
        } else if (s instanceof ExpectCapabilityReply) {
            return Phase.CAPABILITIES;
        } else if (s instanceof ExpectStartTlsReply) {
            return Phase.UPGRADE;
        } else if (s instanceof AwaitHandshake) {
            return Phase.HANDSHAKE;
        } else if (s instanceof ExpectCapabilityReplyAfterTls) {
            return Phase.CAPABILITIES_AFTER_TLS;
        }
        return ((Finished) s).phase();
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake waiting)) {
            throw new IllegalStateException("handshakeCompleted() while not waiting for a handshake");
        }
        // RFC 9051 §6.2.1 / RFC 2595 §3.1: forget everything learned in plaintext (a fresh parser) and ask
        // for the capabilities again over TLS.
        parser = new ImapResponseParser(options.limits());
        String tag = send("CAPABILITY");
        state = new ExpectCapabilityReplyAfterTls(tag, waiting.greeting(), waiting.before(), List.of(), 0);
    }

    private void onGreeting(ImapResponse response) {
        if (!(response instanceof ImapResponse.UntaggedStatus greeting)) {
            // RFC 9051 §7.1: greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF
            throw peerFailure(
                    FailureKind.MALFORMED,
                    "expected a '* OK', '* PREAUTH' or '* BYE' greeting, got: " + describe(response));
        }
        String text = greeting.text();
        Capabilities codeCaps = greeting.capabilityCode().orElse(null);
        switch (greeting.status()) {
            case BYE ->
                throw peerFailure(FailureKind.SERVICE_UNAVAILABLE, "the server rejected the connection: * BYE " + text);
            case NO, BAD ->
                throw peerFailure(
                        FailureKind.MALFORMED,
                        "expected a '* OK', '* PREAUTH' or '* BYE' greeting, got: " + describe(response));
            case PREAUTH -> {
                if (!options.implicitTls() && options.level().requiresTls()) {
                    // RFC 9051 §7.1.4: a client that requires TLS MUST close the connection on PREAUTH
                    // received on an unprotected connection: STARTTLS is impossible in the authenticated
                    // state (RFC 2595 §3.1; CVE-2014-2567, CVE-2020-12398).
                    finish(Phase.GREETING);
                    failNow(Failure.policy(
                            FailureKind.PREAUTH_WITHOUT_TLS,
                            Phase.GREETING,
                            "the server greeted with PREAUTH on a plaintext connection, so STARTTLS is impossible"
                                    + " and TLS is required; closing. Use implicit TLS (imaps, port 993) or fix"
                                    + " the server not to pre-authenticate plaintext connections"));
                    return;
                }
                if (!options.implicitTls() && options.level() != dev.optls.core.SecurityLevel.NONE) {
                    finish(Phase.GREETING);
                    emit(new Step.UpgradeUnavailable(
                            Failure.peer(
                                    FailureKind.PREAUTH_WITHOUT_TLS,
                                    Phase.GREETING,
                                    "the server greeted with PREAUTH on a plaintext connection, so STARTTLS is"
                                            + " impossible (RFC 2595 §3.1); continuing in plaintext"),
                            plaintext(text, codeCaps == null ? Capabilities.NONE : codeCaps)));
                    return;
                }
                learnCapabilities(text, codeCaps);
            }
            case OK -> learnCapabilities(text, codeCaps);
        }
    }

    private void learnCapabilities(String greeting, Capabilities codeCaps) {
        if (options.greetingOnly()) {
            finish(Phase.GREETING);
            emit(new Step.Completed(plaintext(greeting, codeCaps == null ? Capabilities.NONE : codeCaps)));
            return;
        }
        boolean wantUpgrade = wantsUpgrade();
        // RFC 9051 §7.1: the greeting's CAPABILITY code saves the CAPABILITY command.
        if (codeCaps != null && (!wantUpgrade || codeCaps.has("STARTTLS"))) {
            afterCapabilities(greeting, codeCaps);
            return;
        }
        String tag = send("CAPABILITY");
        state = new ExpectCapabilityReply(tag, greeting, List.of(), 0);
    }

    private boolean wantsUpgrade() {
        return !options.implicitTls() && options.level() != dev.optls.core.SecurityLevel.NONE;
    }

    private void onCapabilityReply(ExpectCapabilityReply s, ImapResponse response) {
        if (response instanceof ImapResponse.Tagged tagged) {
            checkTag(s.tag(), tagged);
            Capabilities caps;
            if (tagged.status() == ImapResponse.Status.OK) {
                caps = s.collected().isEmpty()
                        ? tagged.capabilityCode().orElse(Capabilities.NONE)
                        : new Capabilities(s.collected());
            } else {
                // A server that refuses CAPABILITY (RFC 9051 §6.1.1 makes it mandatory) advertises nothing,
                // so in particular not STARTTLS.
                caps = Capabilities.NONE;
            }
            afterCapabilities(s.greeting(), caps);
            return;
        }
        state = new ExpectCapabilityReply(
                s.tag(), s.greeting(), collect(s.collected(), response), countUntagged(s.untagged(), response));
    }

    private void afterCapabilities(String greeting, Capabilities caps) {
        if (options.implicitTls()) {
            finish(Phase.CAPABILITIES);
            emit(new Step.Completed(new Result(
                    Protocol.IMAP, Result.Ending.IMPLICIT_TLS, true, greeting, Capabilities.NONE, caps, EMPTY)));
            return;
        }
        observe(plaintext(greeting, caps));
        if (options.level() == dev.optls.core.SecurityLevel.NONE) {
            finish(Phase.CAPABILITIES);
            emit(new Step.Completed(plaintext(greeting, caps)));
            return;
        }
        if (!caps.has("STARTTLS")) {
            finish(Phase.CAPABILITIES);
            String detail =
                    "the server does not advertise STARTTLS (capabilities: " + String.join(" ", caps.entries()) + ")";
            if (options.level().requiresTls()) {
                // RFC 2595 §3.1 / security.md N/O: required TLS fails closed; say goodbye first.
                send("LOGOUT");
                failNow(
                        Failure.policy(
                                FailureKind.STARTTLS_NOT_OFFERED,
                                Phase.CAPABILITIES,
                                detail
                                        + " and TLS is required; closing. Use implicit TLS (imaps, port 993) if the server"
                                        + " offers it, or lower the level to MAY to accept plaintext"),
                        plaintext(greeting, caps));
            } else {
                emit(new Step.UpgradeUnavailable(
                        Failure.peer(FailureKind.STARTTLS_NOT_OFFERED, Phase.CAPABILITIES, detail),
                        plaintext(greeting, caps)));
            }
            return;
        }
        // RFC 9051 §6.2.1: send STARTTLS alone and wait for its tagged response.
        String tag = send("STARTTLS");
        state = new ExpectStartTlsReply(tag, greeting, caps, 0);
    }

    private void onStartTlsReply(ExpectStartTlsReply s, ImapResponse response) {
        if (response instanceof ImapResponse.Tagged tagged) {
            checkTag(s.tag(), tagged);
            if (tagged.status() == ImapResponse.Status.OK) {
                // RFC 9051 §6.2.1: TLS starts right after this line's CRLF. Any [CAPABILITY] in it came in
                // plaintext and is ignored. Bytes already buffered after it are response injection
                // (security.md §1.1 B_R, CVE-2011-0411 class): beginClientHandshake() fails on them.
                beginClientHandshake();
                state = new AwaitHandshake(s.greeting(), s.before());
                return;
            }
            finish(Phase.UPGRADE);
            String detail = "the server refused STARTTLS: " + s.tag() + " " + tagged.status() + " " + tagged.text();
            Failure refused = Failure.peer(FailureKind.STARTTLS_REFUSED, Phase.UPGRADE, detail)
                    .withTemporary(tagged.status() == ImapResponse.Status.NO);
            if (options.level().requiresTls()) {
                send("LOGOUT");
                failNow(
                        new Failure(
                                dev.optls.core.Blame.POLICY,
                                refused.kind(),
                                refused.phase(),
                                detail + " and TLS is required; closing",
                                refused.temporary()),
                        plaintext(s.greeting(), s.before()));
            } else {
                emit(new Step.UpgradeUnavailable(refused, plaintext(s.greeting(), s.before())));
            }
            return;
        }
        // Untagged responses before the tagged STARTTLS reply are read and dropped: nothing sent in
        // plaintext may reach the session after TLS (security.md §1.1 T, CVE-2021-38370).
        checkUntagged(response);
        state = new ExpectStartTlsReply(s.tag(), s.greeting(), s.before(), countUntagged(s.untagged(), response));
    }

    private void onCapabilityReplyAfterTls(ExpectCapabilityReplyAfterTls s, ImapResponse response) {
        if (response instanceof ImapResponse.Tagged tagged) {
            checkTag(s.tag(), tagged);
            if (tagged.status() != ImapResponse.Status.OK) {
                throw peerFailure(
                        FailureKind.PROTOCOL_VIOLATION,
                        "the server refused CAPABILITY after TLS (RFC 9051 §6.1.1 makes it mandatory): "
                                + tagged.status() + " " + tagged.text());
            }
            Capabilities after = s.collected().isEmpty()
                    ? tagged.capabilityCode().orElse(Capabilities.NONE)
                    : new Capabilities(s.collected());
            finish(Phase.CAPABILITIES_AFTER_TLS);
            emit(new Step.Completed(
                    new Result(Protocol.IMAP, Result.Ending.UPGRADED, true, s.greeting(), s.before(), after, EMPTY)));
            return;
        }
        state = new ExpectCapabilityReplyAfterTls(
                s.tag(),
                s.greeting(),
                s.before(),
                collect(s.collected(), response),
                countUntagged(s.untagged(), response));
    }

    /** Capability atoms of a {@code * CAPABILITY} line; other untagged responses are checked and dropped. */
    private List<String> collect(List<String> collected, ImapResponse response) {
        checkUntagged(response);
        if (response instanceof ImapResponse.UntaggedData data && data.name().equals("CAPABILITY")) {
            List<String> all = new ArrayList<>(collected);
            all.addAll(data.capabilities().entries());
            return all;
        }
        return collected;
    }

    private void checkUntagged(ImapResponse response) {
        if (response instanceof ImapResponse.UntaggedStatus st && st.status() == ImapResponse.Status.BYE) {
            throw peerFailure(FailureKind.SERVICE_UNAVAILABLE, "the server closed the session: * BYE " + st.text());
        }
        if (response instanceof ImapResponse.Continuation) {
            // security.md §1.1 N/O O_4: a continuation where none was asked for.
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    "the server sent a continuation request ('+') although no literal was sent: " + describe(response));
        }
    }

    private int countUntagged(int untagged, ImapResponse response) {
        if (untagged + 1 > limits.maxReplyLines()) {
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED,
                    "more than " + limits.maxReplyLines() + " untagged responses before the tagged reply"
                            + " (Limits.maxReplyLines)");
        }
        return untagged + 1;
    }

    private void checkTag(String expected, ImapResponse.Tagged tagged) {
        if (!tagged.tag().equals(expected)) {
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    "tagged response for '" + tagged.tag() + "' while waiting for '" + expected + "'");
        }
    }

    private Result plaintext(String greeting, Capabilities caps) {
        return new Result(Protocol.IMAP, Result.Ending.PLAINTEXT, false, greeting, caps, Capabilities.NONE, EMPTY);
    }

    private String send(String command) {
        tagCounter++;
        // a001, a002...: RFC 9051 §2.2.1 only needs a tag unique on the connection.
        String digits = Integer.toString(tagCounter);
        String tag = "a" + "000".substring(Math.min(3, digits.length())) + digits;
        write(tag + " " + command + "\r\n");
        return tag;
    }

    private void finish(Phase phase) {
        state = new Finished(phase);
    }

    private static String describe(ImapResponse response) {
        String s = response.toString();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
