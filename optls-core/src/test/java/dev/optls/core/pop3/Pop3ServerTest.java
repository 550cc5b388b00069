package dev.optls.core.pop3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Phase;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class Pop3ServerTest {
    private static final Capabilities CAPS = Capabilities.of("TOP", "UIDL", "USER", "SASL PLAIN");
    private static final ServerOptions OFFERING = ServerOptions.offering("mail.example.org", CAPS);

    private static Supplier<Negotiation> server(ServerOptions options) {
        return () -> new Pop3Server(options);
    }

    private static Result completed(Step step) {
        assertThat(step).isInstanceOf(Step.Completed.class);
        return ((Step.Completed) step).result();
    }

    private static Failure failed(Step step) {
        assertThat(step).isInstanceOf(Step.Failed.class);
        return ((Step.Failed) step).failure();
    }

    /** An application that accepts any credential and answers everything else with +OK. */
    private static final Function<Command, String> ACCEPT_ALL =
            c -> "+OK " + c.verb().toLowerCase();

    @Test
    void upgradeWithCapaBeforeAndAfter() {
        // protocols.md §4.1 from the server's side.
        Transcript.server("""
                        S: +OK ready
                        C: CAPA
                        S: +OK Capability list follows
                        S: TOP
                        S: UIDL
                        S: USER
                        S: SASL PLAIN
                        S: STLS
                        S: .
                        C: STLS
                        S: +OK Begin TLS negotiation
                        -- TLS
                        """).replayExpectingOutput(server(OFFERING), step -> {
            Result r = completed(step);
            assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(r.tlsActive()).isTrue();
            assertThat(r.after()).isEqualTo(CAPS);
        });
    }

    @Test
    void afterUpgradeNoGreetingAndNoStls() {
        Transcript.server("""
                        C: CAPA
                        S: +OK Capability list follows
                        S: TOP
                        S: UIDL
                        S: USER
                        S: SASL PLAIN
                        S: .
                        C: STLS
                        S: -ERR Command not permitted when TLS active
                        C: QUIT
                        S: +OK Bye
                        """).replayExpectingOutput(server(OFFERING.afterUpgrade()), step -> {
            Result r = completed(step);
            assertThat(r.ending()).isEqualTo(Result.Ending.CLOSED);
            assertThat(r.tlsActive()).isTrue();
        });
    }

    @Test
    void stlsNeverAdvertisedTwiceEvenIfTheApplicationListsIt() {
        var options = ServerOptions.offering("mx", Capabilities.of("STLS", "TOP"));
        Transcript.server("""
                        S: +OK ready
                        C: CAPA
                        S: +OK Capability list follows
                        S: TOP
                        S: STLS
                        S: .
                        """)
                .replayExpectingOutput(server(options), step -> assertThat(step).isEqualTo(Step.NEED_INPUT));
    }

    @Test
    void withoutTlsNoStlsAndStlsRefused() {
        Transcript.server("""
                        S: +OK ready
                        C: CAPA
                        S: +OK Capability list follows
                        S: USER
                        S: .
                        C: STLS
                        S: -ERR STLS not available
                        """)
                .replayExpectingOutput(
                        server(ServerOptions.withoutTls("mx", Capabilities.of("USER"))),
                        step -> assertThat(step).isEqualTo(Step.NEED_INPUT));
    }

    @Test
    void dotStuffsCapabilities() {
        Transcript.server("""
                        S: +OK ready
                        C: CAPA
                        S: +OK Capability list follows
                        S: ..ODD
                        S: .
                        """)
                .replayExpectingOutput(
                        server(ServerOptions.withoutTls("mx", Capabilities.of(".ODD"))),
                        step -> assertThat(step).isEqualTo(Step.NEED_INPUT));
    }

    @Test
    void commandInjectionAfterStlsGoesToTlsUnparsed() {
        // security.md §5 A.7: "STLS\r\nCAPA\r\n" and "STLS\r\nUSER u\r\n" in one write.
        for (String injected : new String[] {"CAPA\r\n", "USER u\r\n", "RS"}) {
            Transcript.server("S: +OK ready").raw("STLS\r\n" + injected).replay(server(OFFERING), ACCEPT_ALL, o -> {
                assertThat(o.output()).isEqualTo("+OK ready\r\n+OK Begin TLS negotiation\r\n");
                assertThat(o.last()).isInstanceOf(Step.BeginHandshake.class);
                assertThat(o.delivered()).isEmpty();
                assertThat(o.intoTls()).isEqualTo(injected);
            });
        }
    }

    @Test
    void commandInjectionInOneReadIsTlsInput() {
        var n = new Pop3Server(OFFERING);
        n.receive(ByteBuffer.wrap("STLS\r\nUSER u\r\n".getBytes(StandardCharsets.US_ASCII)));
        ByteBuffer out = ByteBuffer.allocate(100);
        Step step;
        while ((step = n.poll()) instanceof Step.WriteOutput) {
            n.drainOutput(out);
        }
        assertThat(new String(out.array(), 0, out.position(), StandardCharsets.US_ASCII))
                .isEqualTo("+OK ready\r\n+OK Begin TLS negotiation\r\n");
        assertThat(step).isInstanceOf(Step.BeginHandshake.class);
        ByteBuffer tls = ((Step.BeginHandshake) step).tlsInput();
        assertThat(StandardCharsets.US_ASCII.decode(tls).toString()).isEqualTo("USER u\r\n");
        assertThatThrownBy(() -> n.receive(ByteBuffer.wrap(new byte[] {1}))).isInstanceOf(IllegalStateException.class);
        n.handshakeCompleted(Transcript.TLS13);
        assertThat(completed(n.poll()).ending()).isEqualTo(Result.Ending.UPGRADED);
    }

    @Test
    void stlsWithArgumentsIsRefused() {
        // security.md §5 B.19.
        Transcript.server("""
                        S: +OK ready
                        C: STLS x
                        S: -ERR STLS takes no arguments
                        """)
                .replayExpectingOutput(
                        server(OFFERING), step -> assertThat(step).isEqualTo(Step.NEED_INPUT));
    }

    @Test
    void stlsAfterAuthenticationIsRefused() {
        Transcript.server("""
                        S: +OK ready
                        C: USER alice
                        S: +OK user
                        C: PASS secret
                        S: +OK pass
                        C: STLS
                        S: -ERR STLS not permitted after authentication
                        C: STAT
                        S: +OK stat
                        """).replay(server(OFFERING), ACCEPT_ALL, o -> {
            assertThat(o.output()).isEqualTo(Transcript.server("""
                            S: +OK ready
                            S: +OK user
                            S: +OK pass
                            S: -ERR STLS not permitted after authentication
                            S: +OK stat
                            """).expectedOutput());
            assertThat(o.delivered()).extracting(Command::verb).containsExactly("USER", "PASS", "STAT");
            assertThat(o.delivered().get(0).arguments()).isEqualTo("alice");
            assertThat(o.delivered().get(0).line()).isEqualTo("USER alice");
            assertThat(o.delivered().get(0).tlsActive()).isFalse();
            assertThat(o.delivered().get(0).tag()).isEmpty();
        });
    }

    @Test
    void failedLoginStaysInAuthorizationAndMayStillUpgrade() {
        Transcript.server("""
                        S: +OK ready
                        C: USER alice
                        S: +OK
                        C: PASS wrong
                        S: -ERR [AUTH] no
                        C: STLS
                        S: +OK Begin TLS negotiation
                        -- TLS
                        """)
                .replayExpectingOutput(
                        server(OFFERING),
                        c -> c.verb().equals("PASS") ? "-ERR [AUTH] no" : "+OK",
                        step -> assertThat(completed(step).ending()).isEqualTo(Result.Ending.UPGRADED));
    }

    private static final ServerOptions REQUIRED = OFFERING.withTlsRequired(true);

    @Test
    void requiredTlsRefusesCredentialsWithoutCheckingThem() {
        // security.md §5 B.21: USER/PASS/APOP/AUTH refused; the application never sees them.
        String refusal = "S: -ERR [AUTH] Plaintext authentication disallowed without TLS; issue STLS first\n";
        Transcript.server("S: +OK ready\n"
                        + "C: CAPA\n"
                        + "S: +OK Capability list follows\nS: TOP\nS: UIDL\nS: STLS\nS: .\n"
                        + "C: USER alice\n" + refusal
                        + "C: PASS secret\n" + refusal
                        + "C: APOP alice c4c9334bac560ecc979e58001b3e22fb\n" + refusal
                        + "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n" + refusal)
                .replay(server(REQUIRED), ACCEPT_ALL, o -> {
                    assertThat(o.delivered()).isEmpty();
                    assertThat(o.last()).isEqualTo(Step.NEED_INPUT);
                    assertThat(o.output())
                            .isEqualTo(Transcript.server("S: +OK ready\n"
                                            + "S: +OK Capability list follows\nS: TOP\nS: UIDL\nS: STLS\nS: .\n"
                                            + refusal.repeat(4))
                                    .expectedOutput());
                });
    }

    @Test
    void requiredTlsAllowsCredentialsOverTls() {
        Transcript.server("""
                        C: CAPA
                        S: +OK Capability list follows
                        S: TOP
                        S: UIDL
                        S: USER
                        S: SASL PLAIN
                        S: .
                        C: USER alice
                        S: +OK user
                        """).replay(server(REQUIRED.afterUpgrade()), ACCEPT_ALL, o -> {
            assertThat(o.delivered())
                    .singleElement()
                    .satisfies(c -> assertThat(c.tlsActive()).isTrue());
            assertThat(o.output()).endsWith("+OK user\r\n");
        });
    }

    @Test
    void quitInAuthorizationCloses() {
        Transcript.server("""
                        S: +OK ready
                        C: quit
                        S: +OK Bye
                        """).replayExpectingOutput(server(OFFERING), step -> {
            Result r = completed(step);
            assertThat(r.ending()).isEqualTo(Result.Ending.CLOSED);
            assertThat(r.tlsActive()).isFalse();
            assertThat(r.before()).isEqualTo(CAPS);
        });
    }

    @Test
    void quitInTransactionBelongsToTheApplication() {
        Transcript.server("""
                        S: +OK ready
                        C: USER a
                        S: +OK user
                        C: PASS b
                        S: +OK pass
                        C: QUIT
                        S: +OK quit
                        """)
                .replayExpectingOutput(
                        server(OFFERING),
                        ACCEPT_ALL,
                        step -> assertThat(completed(step).ending()).isEqualTo(Result.Ending.CLOSED));
    }

    @Test
    void multiLineAnswersFromTheApplicationAreWrittenAsGiven() {
        Transcript.server("""
                        S: +OK ready
                        C: USER a
                        S: +OK
                        C: PASS b
                        S: +OK
                        C: LIST
                        S: +OK 2 messages
                        S: 1 120
                        S: 2 200
                        S: .
                        """)
                .replayExpectingOutput(
                        server(OFFERING),
                        c -> c.verb().equals("LIST") ? "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n" : "+OK",
                        step -> assertThat(step).isEqualTo(Step.NEED_INPUT));
    }

    @Test
    void commandsOutsideTheirStateAndUnknownCommandsAreRefused() {
        Transcript.server("""
                        S: +OK ready
                        C: RETR 1
                        S: -ERR RETR is not valid in the AUTHORIZATION state
                        C: XYZZY
                        S: -ERR Unknown command
                        C:
                        S: -ERR Unknown command
                        C: CAPA now
                        S: -ERR CAPA takes no arguments
                        """).replay(server(OFFERING), ACCEPT_ALL, o -> {
            assertThat(o.delivered()).isEmpty();
            assertThat(o.output()).isEqualTo(Transcript.server("""
                                            S: +OK ready
                                            S: -ERR RETR is not valid in the AUTHORIZATION state
                                            S: -ERR Unknown command
                                            S: -ERR Unknown command
                                            S: -ERR CAPA takes no arguments
                                            """).expectedOutput());
        });
    }

    @Test
    void tooManyErrorsCloses() {
        var options = OFFERING.withLimits(new Limits(64, 8, 1024, 0, 2));
        Transcript.server("""
                        S: +OK ready
                        C: BAD1
                        S: -ERR Unknown command
                        C: BAD2
                        S: -ERR Unknown command
                        C: BAD3
                        S: -ERR Too many errors
                        """).replayExpectingOutput(server(options), step -> {
            Failure f = failed(step);
            assertThat(f.kind()).isEqualTo(FailureKind.TOO_MANY_ERRORS);
            assertThat(f.blame()).isEqualTo(Blame.PEER);
        });
    }

    @Test
    void overLongLineIsLimitExceeded() {
        var options = OFFERING.withLimits(new Limits(64, 8, 1024, 0, 2));
        Transcript.server("S: +OK ready\nC: USER " + "x".repeat(80)).replayExpectingOutput(server(options), step -> {
            Failure f = failed(step);
            assertThat(f.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
            assertThat(f.blame()).isEqualTo(Blame.PEER);
        });
        // Without a line end at all.
        Transcript.server("S: +OK ready")
                .raw("x".repeat(80))
                .replayExpectingOutput(
                        server(options), step -> assertThat(failed(step).kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
    }

    @Test
    void handOverReturnsTheCommandAndEverythingAfterIt() {
        Transcript.server("S: +OK ready")
                .raw("AUTH SCRAM-SHA-256\r\nbiwsbj1h\r\n")
                .replay(server(OFFERING.afterUpgrade().withGreeting("ready")), c -> null, o -> {
                    Result r = completed(o.last());
                    assertThat(r.ending()).isEqualTo(Result.Ending.HANDED_OVER);
                    // The rest may not have arrived yet when the input was cut; the command always has.
                    String remaining =
                            StandardCharsets.US_ASCII.decode(r.remaining()).toString();
                    assertThat(remaining).startsWith("AUTH SCRAM-SHA-256\r\n");
                    assertThat("AUTH SCRAM-SHA-256\r\nbiwsbj1h\r\n").startsWith(remaining);
                });
    }

    @Test
    void saslContinuationThroughRespondIsACallerBug() {
        var n = new Pop3Server(OFFERING.afterUpgrade());
        n.receive(ByteBuffer.wrap("AUTH PLAIN\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThat(n.poll()).isInstanceOf(Step.Deliver.class);
        assertThatThrownBy(() -> n.respond("+ "))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("handOver()");
    }

    @Test
    void replyThatIsNotAStatusLineIsACallerBug() {
        var n = new Pop3Server(OFFERING.afterUpgrade());
        n.receive(ByteBuffer.wrap("USER a\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThat(n.poll()).isInstanceOf(Step.Deliver.class);
        assertThatThrownBy(() -> n.respond("250 ok")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void authAcceptedWithInitialResponseEntersTransaction() {
        Transcript.server("""
                        C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
                        S: +OK auth
                        C: STLS
                        S: -ERR Command not permitted when TLS active
                        C: RETR 1
                        S: +OK retr
                        """)
                .replayExpectingOutput(
                        server(OFFERING.afterUpgrade()),
                        ACCEPT_ALL,
                        step -> assertThat(step).isEqualTo(Step.NEED_INPUT));
    }

    @Test
    void eofWhileWaitingForACommand() {
        var n = new Pop3Server(OFFERING);
        ByteBuffer out = ByteBuffer.allocate(100);
        assertThat(n.poll()).isInstanceOf(Step.WriteOutput.class);
        n.drainOutput(out);
        assertThat(n.poll()).isEqualTo(Step.NEED_INPUT);
        n.receiveEof();
        Failure f = failed(n.poll());
        assertThat(f.kind()).isEqualTo(FailureKind.UNEXPECTED_EOF);
        assertThat(f.phase()).isEqualTo(Phase.SESSION);
    }
}
