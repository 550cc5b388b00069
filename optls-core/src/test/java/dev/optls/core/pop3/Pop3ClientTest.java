package dev.optls.core.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class Pop3ClientTest {

    private static Supplier<dev.optls.core.Negotiation> client(SecurityLevel level) {
        return () -> new Pop3Client(ClientOptions.of(level));
    }

    private static Result completed(Step step) {
        assertThat(step).isInstanceOf(Step.Completed.class);
        return ((Step.Completed) step).result();
    }

    private static dev.optls.core.Failure failed(Step step) {
        assertThat(step).isInstanceOf(Step.Failed.class);
        return ((Step.Failed) step).failure();
    }

    private static Step.UpgradeUnavailable unavailable(Step step) {
        assertThat(step).isInstanceOf(Step.UpgradeUnavailable.class);
        return (Step.UpgradeUnavailable) step;
    }

    /** protocols.md §4.1, with a post-TLS list that differs (security.md §5 E.58). */
    private static final String SUCCESS = """
            S: +OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>
            C: CAPA
            S: +OK Capability list follows
            S: TOP
            S: UIDL
            S: RESP-CODES
            S: STLS
            S: SASL
            S: .
            C: STLS
            S: +OK Begin TLS negotiation
            -- TLS
            C: CAPA
            S: +OK Capability list follows
            S: TOP
            S: USER
            S: SASL PLAIN SCRAM-SHA-256
            S: .
            """;

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAndForgetsWhatWasSaidBeforeTls(SecurityLevel level) {
        Transcript.client(SUCCESS).replayExpectingOutput(client(level), step -> {
            Result r = completed(step);
            assertThat(r.protocol()).isEqualTo(Protocol.POP3);
            assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(r.tlsActive()).isTrue();
            assertThat(r.greeting()).isEqualTo("Dovecot ready. <1896.697170952@dbc.mtview.ca.us>");
            assertThat(r.before().entries()).containsExactly("TOP", "UIDL", "RESP-CODES", "STLS", "SASL");
            assertThat(r.after().entries()).containsExactly("TOP", "USER", "SASL PLAIN SCRAM-SHA-256");
            assertThat(r.remaining().remaining()).isZero();
        });
    }

    @Test
    void levelNoneReadsCapabilitiesAndStaysInPlaintext() {
        Transcript.client("""
                        S: +OK ready
                        C: CAPA
                        S: +OK
                        S: STLS
                        S: USER
                        S: .
                        """).replayExpectingOutput(client(SecurityLevel.NONE), step -> {
            Result r = completed(step);
            assertThat(r.ending()).isEqualTo(Result.Ending.PLAINTEXT);
            assertThat(r.tlsActive()).isFalse();
            assertThat(r.before().entries()).containsExactly("STLS", "USER");
            assertThat(r.after()).isEqualTo(Capabilities.NONE);
        });
    }

    @Test
    void implicitTlsNeverSendsStls() {
        Transcript.client("""
                        S: +OK pop3s ready
                        C: CAPA
                        S: +OK
                        S: USER
                        S: SASL PLAIN
                        S: .
                        """)
                .replayExpectingOutput(
                        () -> new Pop3Client(
                                ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true)),
                        step -> {
                            Result r = completed(step);
                            assertThat(r.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
                            assertThat(r.tlsActive()).isTrue();
                            assertThat(r.before()).isEqualTo(Capabilities.NONE);
                            assertThat(r.after().entries()).containsExactly("USER", "SASL PLAIN");
                        });
    }

    @Test
    void implicitTlsWithoutCapaHasEmptyCapabilities() {
        Transcript.client("""
                        S: +OK pop3s ready
                        C: CAPA
                        S: -ERR unknown command
                        """)
                .replayExpectingOutput(
                        () -> new Pop3Client(ClientOptions.of(SecurityLevel.MAY).withImplicitTls(true)),
                        step -> assertThat(completed(step).after()).isEqualTo(Capabilities.NONE));
    }

    private static final String CAPA_REFUSED_STLS_ACCEPTED = """
            S: +OK old server
            C: CAPA
            S: -ERR unknown command
            C: STLS
            S: +OK go ahead
            -- TLS
            C: CAPA
            S: -ERR still no CAPA
            """;

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void capaRefusedThenStlsSentBlindly(SecurityLevel level) {
        Transcript.client(CAPA_REFUSED_STLS_ACCEPTED).replayExpectingOutput(client(level), step -> {
            Result r = completed(step);
            assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(r.before()).isEqualTo(Capabilities.NONE);
            assertThat(r.after()).isEqualTo(Capabilities.NONE);
        });
    }

    @Test
    void capaRefusedAtLevelNoneStaysPlaintextWithoutStls() {
        Transcript.client("""
                        S: +OK old server
                        C: CAPA
                        S: -ERR unknown command
                        """).replayExpectingOutput(client(SecurityLevel.NONE), step -> {
            assertThat(completed(step).ending()).isEqualTo(Result.Ending.PLAINTEXT);
            assertThat(completed(step).before()).isEqualTo(Capabilities.NONE);
        });
    }

    private static final String CAPA_AND_STLS_REFUSED = """
            S: +OK old server
            C: CAPA
            S: -ERR unknown command
            C: STLS
            S: -ERR unknown command
            """;

    @Test
    void capaAndStlsRefusedAtMayContinuesInPlaintext() {
        Transcript.client(CAPA_AND_STLS_REFUSED).replayExpectingOutput(client(SecurityLevel.MAY), step -> {
            Step.UpgradeUnavailable u = unavailable(step);
            assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(u.reason().blame()).isEqualTo(Blame.PEER);
            assertThat(u.plaintext().ending()).isEqualTo(Result.Ending.PLAINTEXT);
            assertThat(u.plaintext().tlsActive()).isFalse();
        });
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void capaAndStlsRefusedWhenRequiredQuitsAndFails(SecurityLevel level) {
        Transcript.client(CAPA_AND_STLS_REFUSED + "C: QUIT\n").replayExpectingOutput(client(level), step -> {
            var f = failed(step);
            assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(f.blame()).isEqualTo(Blame.POLICY);
        });
    }

    private static final String STLS_ABSENT = """
            S: +OK stripped
            C: CAPA
            S: +OK
            S: USER
            S: SASL PLAIN LOGIN
            S: .
            """;

    @Test
    void stlsAbsentAtMayIsUpgradeUnavailable() {
        Transcript.client(STLS_ABSENT).replayExpectingOutput(client(SecurityLevel.MAY), step -> {
            Step.UpgradeUnavailable u = unavailable(step);
            assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(u.reason().blame()).isEqualTo(Blame.PEER);
            assertThat(u.reason().phase()).isEqualTo(Phase.CAPABILITIES);
            assertThat(u.plaintext().before().entries()).containsExactly("USER", "SASL PLAIN LOGIN");
            assertThat(u.plaintext().tlsActive()).isFalse();
        });
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void stlsAbsentWhenRequiredQuitsAndFailsClosed(SecurityLevel level) {
        // security.md §5 D.39: no USER/PASS/APOP/AUTH, only QUIT.
        Transcript.client(STLS_ABSENT + "C: QUIT\n").replayExpectingOutput(client(level), step -> {
            var f = failed(step);
            assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(f.blame()).isEqualTo(Blame.POLICY);
            assertThat(f.detail()).contains("STLS", level.name());
        });
    }

    @Test
    void stlsAbsentAtNoneIsNotAProblem() {
        Transcript.client(STLS_ABSENT)
                .replayExpectingOutput(
                        client(SecurityLevel.NONE),
                        step -> assertThat(completed(step).ending()).isEqualTo(Result.Ending.PLAINTEXT));
    }

    private static final String STLS_REFUSED = """
            S: +OK ready
            C: CAPA
            S: +OK
            S: STLS
            S: .
            C: STLS
            S: -ERR [SYS/TEMP] TLS not available right now
            """;

    @Test
    void stlsRefusedAtMayIsTemporaryUpgradeUnavailable() {
        Transcript.client(STLS_REFUSED).replayExpectingOutput(client(SecurityLevel.MAY), step -> {
            Step.UpgradeUnavailable u = unavailable(step);
            assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_REFUSED);
            assertThat(u.reason().temporary()).isTrue();
            assertThat(u.reason().blame()).isEqualTo(Blame.PEER);
            assertThat(u.plaintext().before().entries()).containsExactly("STLS");
        });
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void stlsRefusedWhenRequiredQuitsAndFails(SecurityLevel level) {
        Transcript.client(STLS_REFUSED + "C: QUIT\n").replayExpectingOutput(client(level), step -> {
            var f = failed(step);
            assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_REFUSED);
            assertThat(f.blame()).isEqualTo(Blame.POLICY);
            assertThat(f.temporary()).isTrue();
            assertThat(f.phase()).isEqualTo(Phase.UPGRADE);
        });
    }

    @Test
    void permanentStlsRefusalIsNotTemporary() {
        Transcript.client(STLS_REFUSED.replace("[SYS/TEMP] ", ""))
                .replayExpectingOutput(
                        client(SecurityLevel.MAY),
                        step -> assertThat(unavailable(step).reason().temporary())
                                .isFalse());
    }

    private static final String BEFORE_GO_AHEAD = """
            S: +OK ready
            C: CAPA
            S: +OK
            S: STLS
            S: .
            C: STLS
            """;

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void responseInjectionAfterGoAheadAborts(SecurityLevel level) {
        // security.md §5 E.51, first case.
        Transcript.client(BEFORE_GO_AHEAD)
                .raw("+OK Begin TLS\r\n+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n")
                .replay(client(level), o -> {
                    assertThat(o.output()).isEqualTo("CAPA\r\nSTLS\r\n");
                    assertInjectionCaught(o, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
                });
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void binaryGarbageAfterGoAheadAborts(SecurityLevel level) {
        // security.md §5 E.51, second case.
        String garbage = "\u0016\u0003\u0001\u0000\u00ff\u0000\u00fe\r\n\u0080\u0000";
        Transcript.client(BEFORE_GO_AHEAD).raw("+OK Begin TLS\r\n" + garbage).replay(client(level), o -> {
            assertThat(o.output()).isEqualTo("CAPA\r\nSTLS\r\n");
            assertInjectionCaught(o, garbage);
        });
    }

    /**
     * Either the client saw the injected bytes with the go-ahead and failed, or (input cut exactly after
     * the go-ahead) it began the handshake at once and the bytes go to TLS, never to the POP3 parser.
     */
    private static void assertInjectionCaught(Transcript.Outcome o, String injected) {
        if (o.last() instanceof Step.BeginHandshake) {
            assertThat(o.intoTls()).isEqualTo(injected);
            return;
        }
        var f = failed(o.last());
        assertThat(f.kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
        assertThat(f.blame()).isEqualTo(Blame.PEER);
        assertThat(f.phase()).isEqualTo(Phase.UPGRADE);
        assertThat(o.events()).noneMatch(e -> e instanceof Step.BeginHandshake);
    }

    @Test
    void stlsListedAgainAfterTlsIsAProtocolViolation() {
        Transcript.client("""
                        S: +OK ready
                        C: CAPA
                        S: +OK
                        S: STLS
                        S: .
                        C: STLS
                        S: +OK
                        -- TLS
                        C: CAPA
                        S: +OK
                        S: STLS
                        S: .
                        """).replayExpectingOutput(client(SecurityLevel.MAY), step -> {
            var f = failed(step);
            assertThat(f.kind()).isEqualTo(FailureKind.PROTOCOL_VIOLATION);
            assertThat(f.phase()).isEqualTo(Phase.CAPABILITIES_AFTER_TLS);
        });
    }

    @Test
    void dotStuffedCapabilityLinesAreUnstuffed() {
        Transcript.client("""
                        S: +OK ready
                        C: CAPA
                        S: +OK
                        S: ..HIDDEN
                        S: ...
                        S: X-DOT .
                        S: .
                        """)
                .replayExpectingOutput(
                        client(SecurityLevel.NONE),
                        step -> assertThat(completed(step).before().entries())
                                .containsExactly(".HIDDEN", "..", "X-DOT ."));
    }

    @Test
    void greetingErrIsServiceUnavailable() {
        Transcript.client("S: -ERR [SYS/TEMP] too many connections")
                .replayExpectingOutput(client(SecurityLevel.MAY), step -> {
                    var f = failed(step);
                    assertThat(f.kind()).isEqualTo(FailureKind.SERVICE_UNAVAILABLE);
                    assertThat(f.phase()).isEqualTo(Phase.GREETING);
                    assertThat(f.temporary()).isTrue();
                });
    }

    @Test
    void garbageGreetingIsMalformed() {
        Transcript.client("S: * OK IMAP4rev1 ready").replayExpectingOutput(client(SecurityLevel.MAY), step -> {
            var f = failed(step);
            assertThat(f.kind()).isEqualTo(FailureKind.MALFORMED);
            assertThat(f.detail()).contains("* OK IMAP4rev1 ready");
        });
    }

    @Test
    void garbageStlsReplyIsMalformed() {
        Transcript.client(BEFORE_GO_AHEAD + "S: 220 go ahead\n")
                .replayExpectingOutput(
                        client(SecurityLevel.ENCRYPT),
                        step -> assertThat(failed(step).kind()).isEqualTo(FailureKind.MALFORMED));
    }

    @Test
    void overLongLineIsLimitExceeded() {
        Limits small = new Limits(64, 8, 1024, 0, 3);
        Transcript.client("S: +OK " + "x".repeat(100))
                .replayExpectingOutput(
                        () -> new Pop3Client(ClientOptions.of(SecurityLevel.MAY).withLimits(small)), step -> {
                            var f = failed(step);
                            assertThat(f.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
                            assertThat(f.phase()).isEqualTo(Phase.GREETING);
                        });
    }

    @Test
    void tooManyCapaLinesIsLimitExceeded() {
        Limits small = new Limits(64, 8, 1024, 0, 3);
        StringBuilder t = new StringBuilder("S: +OK ready\nC: CAPA\nS: +OK\n");
        for (int i = 0; i < 9; i++) {
            t.append("S: X-CAP-").append(i).append('\n');
        }
        t.append("S: .\n");
        Transcript.client(t.toString())
                .replayExpectingOutput(
                        () -> new Pop3Client(ClientOptions.of(SecurityLevel.MAY).withLimits(small)), step -> {
                            var f = failed(step);
                            assertThat(f.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
                            assertThat(f.phase()).isEqualTo(Phase.CAPABILITIES);
                        });
    }

    @Test
    void exactlyMaxCapaLinesIsFine() {
        Limits small = new Limits(64, 8, 1024, 0, 3);
        StringBuilder t = new StringBuilder("S: +OK ready\nC: CAPA\nS: +OK\n");
        for (int i = 0; i < 8; i++) {
            t.append("S: X-CAP-").append(i).append('\n');
        }
        t.append("S: .\n");
        Transcript.client(t.toString())
                .replayExpectingOutput(
                        () -> new Pop3Client(
                                ClientOptions.of(SecurityLevel.NONE).withLimits(small)),
                        step -> assertThat(completed(step).before().entries()).hasSize(8));
    }

    @Test
    void eofInTheMiddleOfTheCapaBodyIsUnexpectedEof() {
        Transcript t = Transcript.client("""
                S: +OK ready
                C: CAPA
                S: +OK
                S: USER
                """);
        t.replay(client(SecurityLevel.MAY), o -> {
            // The script ran out: the client still waits for the rest of the body.
            assertThat(o.last()).isEqualTo(Step.NEED_INPUT);
            assertThat(o.output()).isEqualTo("CAPA\r\n");
        });
        var n = new Pop3Client(ClientOptions.of(SecurityLevel.MAY));
        var o = t.run(n, c -> "+OK");
        assertThat(o.last()).isEqualTo(Step.NEED_INPUT);
        n.receiveEof();
        var f = failed(n.poll());
        assertThat(f.kind()).isEqualTo(FailureKind.UNEXPECTED_EOF);
        assertThat(f.phase()).isEqualTo(Phase.CAPABILITIES);
    }

    @Test
    void eofInTheMiddleOfALineSaysSo() {
        var n = new Pop3Client(ClientOptions.of(SecurityLevel.MAY));
        n.receive(java.nio.ByteBuffer.wrap("+OK rea".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        assertThat(n.poll()).isEqualTo(Step.NEED_INPUT);
        n.receiveEof();
        var f = failed(n.poll());
        assertThat(f.kind()).isEqualTo(FailureKind.UNEXPECTED_EOF);
        assertThat(f.detail()).contains("middle of a line");
    }

    @Test
    void handshakeCompletedOutOfTurnIsACallerBug() {
        var n = new Pop3Client(ClientOptions.of(SecurityLevel.MAY));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> n.handshakeCompleted(Transcript.TLS13))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void stepsAreStickyOnceTheNegotiationEnded() {
        var n = new Pop3Client(ClientOptions.of(SecurityLevel.MAY));
        Transcript.client(STLS_ABSENT).run(n, c -> "+OK");
        Step first = n.poll();
        n.receive(java.nio.ByteBuffer.wrap(new byte[] {'x', '\r', '\n'}));
        assertThat(n.poll()).isEqualTo(first).isInstanceOf(Step.UpgradeUnavailable.class);
    }
}
