package dev.optls.core.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
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
import org.junit.jupiter.params.provider.ValueSource;

class ImapClientTranscriptTest {

    private static Supplier<ImapClient> client(SecurityLevel level) {
        return () -> new ImapClient(ClientOptions.of(level));
    }

    private static Result completed(ImapTranscript.Outcome o) {
        assertThat(o.output()).isEqualTo(o.expectedOutput());
        assertThat(o.last()).isInstanceOf(Step.Completed.class);
        assertThat(o.unfed()).isEmpty();
        assertThat(o.tlsBytes()).isEmpty();
        return ((Step.Completed) o.last()).result();
    }

    private static Failure failed(ImapTranscript.Outcome o) {
        assertThat(o.output()).isEqualTo(o.expectedOutput());
        assertThat(o.last()).isInstanceOf(Step.Failed.class);
        return ((Step.Failed) o.last()).failure();
    }

    private static Step.UpgradeUnavailable unavailable(ImapTranscript.Outcome o) {
        assertThat(o.output()).isEqualTo(o.expectedOutput());
        assertThat(o.last()).isInstanceOf(Step.UpgradeUnavailable.class);
        return (Step.UpgradeUnavailable) o.last();
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void rfc9051Example(SecurityLevel level) {
        // RFC 9051 §6.2.1; the greeting's CAPABILITY code lists STARTTLS, so CAPABILITY is not asked first.
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR ID ENABLE IDLE STARTTLS LOGINDISABLED] ready.
                C: a001 STARTTLS
                S: a001 OK Begin TLS negotiation now
                TLS
                C: a002 CAPABILITY
                S: * CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN
                S: a002 OK CAPABILITY completed
                """).check(client(level), o -> {
            Result r = completed(o);
            assertThat(r.protocol()).isEqualTo(Protocol.IMAP);
            assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(r.tlsActive()).isTrue();
            assertThat(r.greeting()).isEqualTo("ready.");
            assertThat(r.before().entries())
                    .containsExactly(
                            "IMAP4rev1", "IMAP4rev2", "SASL-IR", "ID", "ENABLE", "IDLE", "STARTTLS", "LOGINDISABLED");
            assertThat(r.after().entries()).containsExactly("IMAP4rev1", "IMAP4rev2", "AUTH=PLAIN");
            assertThat(r.remaining().remaining()).isZero();
        });
    }

    @Test
    void greetingWithoutCapabilityCodeAsksCapability() {
        ImapTranscript.client("""
                S: * OK Dovecot ready.
                C: a001 CAPABILITY
                S: * CAPABILITY IMAP4rev1 STARTTLS
                S: * CAPABILITY LOGINDISABLED
                S: a001 OK Pre-login capabilities listed, post-login capabilities have more.
                C: a002 STARTTLS
                S: a002 OK [CAPABILITY IMAP4rev1 AUTH=EVIL] Begin TLS negotiation now.
                TLS
                C: a003 CAPABILITY
                S: * CAPABILITY IMAP4rev1 AUTH=PLAIN
                S: a003 OK done
                """).check(client(SecurityLevel.ENCRYPT), o -> {
            Result r = completed(o);
            assertThat(r.greeting()).isEqualTo("Dovecot ready.");
            assertThat(r.before().entries()).containsExactly("IMAP4rev1", "STARTTLS", "LOGINDISABLED");
            // The [CAPABILITY] code of the STARTTLS OK arrived in plaintext: ignored.
            assertThat(r.after().entries()).containsExactly("IMAP4rev1", "AUTH=PLAIN");
        });
    }

    @Test
    void greetingCodeWithoutStartTlsStillAsksCapability() {
        // protocols.md §3.4: some servers list STARTTLS only in CAPABILITY, not in the greeting code.
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1] hi
                C: a001 CAPABILITY
                S: * CAPABILITY IMAP4rev1 STARTTLS
                S: a001 OK done
                C: a002 STARTTLS
                S: a002 OK go
                TLS
                C: a003 CAPABILITY
                S: a003 OK [CAPABILITY IMAP4rev2 AUTH=SCRAM-SHA-256] done
                """).check(client(SecurityLevel.VERIFY), o -> {
            Result r = completed(o);
            assertThat(r.before().entries()).containsExactly("IMAP4rev1", "STARTTLS");
            // No untagged CAPABILITY after TLS: the tagged OK's code (sent over TLS) is used.
            assertThat(r.after().entries()).containsExactly("IMAP4rev2", "AUTH=SCRAM-SHA-256");
        });
    }

    @Test
    void levelNoneStaysInPlaintext() {
        ImapTranscript.client("""
                S: * OK ready
                C: a001 CAPABILITY
                S: * CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN
                S: a001 OK done
                """).check(client(SecurityLevel.NONE), o -> {
            Result r = completed(o);
            assertThat(r.ending()).isEqualTo(Result.Ending.PLAINTEXT);
            assertThat(r.tlsActive()).isFalse();
            assertThat(r.before().entries()).containsExactly("IMAP4rev1", "STARTTLS", "AUTH=PLAIN");
            assertThat(r.after()).isEqualTo(Capabilities.NONE);
        });
    }

    @Test
    void implicitTlsNeverSendsStartTls() {
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready
                """)
                .check(
                        () -> new ImapClient(
                                ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true)),
                        o -> {
                            Result r = completed(o);
                            assertThat(r.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
                            assertThat(r.tlsActive()).isTrue();
                            assertThat(r.before()).isEqualTo(Capabilities.NONE);
                            assertThat(r.after().entries()).containsExactly("IMAP4rev1", "AUTH=PLAIN");
                        });
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void preauthFailsClosedWhenTlsIsRequired(SecurityLevel level) {
        // RFC 9051 §7.1.4; security.md §5 D.37 (EAST P_1..P_5): close immediately, send nothing.
        ImapTranscript.client("""
                S: * PREAUTH [CAPABILITY IMAP4REV1 STARTTLS LOGINDISABLED] IMAP server ready.
                """).check(client(level), o -> {
            Failure f = failed(o);
            assertThat(o.output()).isEmpty();
            assertThat(f.kind()).isEqualTo(FailureKind.PREAUTH_WITHOUT_TLS);
            assertThat(f.blame()).isEqualTo(Blame.POLICY);
            assertThat(f.phase()).isEqualTo(Phase.GREETING);
        });
    }

    @Test
    void preauthAtMayIsUpgradeUnavailable() {
        ImapTranscript.client("""
                S: * PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome
                """).check(client(SecurityLevel.MAY), o -> {
            Step.UpgradeUnavailable u = unavailable(o);
            assertThat(o.output()).isEmpty();
            assertThat(u.reason().kind()).isEqualTo(FailureKind.PREAUTH_WITHOUT_TLS);
            assertThat(u.plaintext().ending()).isEqualTo(Result.Ending.PLAINTEXT);
            assertThat(u.plaintext().tlsActive()).isFalse();
            assertThat(u.plaintext().before().entries()).containsExactly("IMAP4rev1", "STARTTLS");
        });
    }

    @Test
    void preauthAtNoneAndImplicitTlsCompletes() {
        ImapTranscript t = ImapTranscript.client("""
                S: * PREAUTH welcome
                C: a001 CAPABILITY
                S: * CAPABILITY IMAP4rev1
                S: a001 OK done
                """);
        t.check(
                client(SecurityLevel.NONE),
                o -> assertThat(completed(o).ending()).isEqualTo(Result.Ending.PLAINTEXT));
        t.check(() -> new ImapClient(ClientOptions.of(SecurityLevel.ENCRYPT).withImplicitTls(true)), o -> {
            Result r = completed(o);
            assertThat(r.ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
            assertThat(r.after().entries()).containsExactly("IMAP4rev1");
        });
    }

    @Test
    void byeGreetingIsServiceUnavailable() {
        ImapTranscript.client("""
                S: * BYE Call 555-0100 to restore your account
                """).check(client(SecurityLevel.MAY), o -> {
            Failure f = failed(o);
            assertThat(f.kind()).isEqualTo(FailureKind.SERVICE_UNAVAILABLE);
            assertThat(f.blame()).isEqualTo(Blame.PEER);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"* NO go away", "a001 OK hi", "+ hi", "* CAPABILITY IMAP4rev1", "hello", "* OK\\x00bad"})
    void malformedGreeting(String greeting) {
        ImapTranscript.client("S: " + greeting + "\n")
                .check(
                        client(SecurityLevel.MAY),
                        o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.MALFORMED));
    }

    @Test
    void startTlsNotOfferedAtMay() {
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4REV1 AUTH=PLAIN AUTH=LOGIN] IMAP server ready.
                C: a001 CAPABILITY
                S: * CAPABILITY IMAP4REV1 AUTH=PLAIN AUTH=LOGIN
                S: a001 OK done
                """).check(client(SecurityLevel.MAY), o -> {
            Step.UpgradeUnavailable u = unavailable(o);
            assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(u.reason().blame()).isEqualTo(Blame.PEER);
            assertThat(u.plaintext().before().entries()).containsExactly("IMAP4REV1", "AUTH=PLAIN", "AUTH=LOGIN");
        });
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void startTlsNotOfferedWhenRequired(SecurityLevel level) {
        // security.md §1.1 N/O O_1 and N/D D_1: STARTTLS stripped; LOGOUT then close, no LOGIN.
        ImapTranscript.client("""
                S: * OK IMAP server ready.
                C: a001 CAPABILITY
                S: * CAPABILITY IMAP4
                S: a001 OK done
                C: a002 LOGOUT
                """).check(client(level), o -> {
            Failure f = failed(o);
            assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED);
            assertThat(f.blame()).isEqualTo(Blame.POLICY);
            assertThat(f.phase()).isEqualTo(Phase.CAPABILITIES);
        });
    }

    @Test
    void capabilityRefusedMeansNothingAdvertised() {
        ImapTranscript.client("""
                S: * OK ready
                C: a001 CAPABILITY
                S: a001 BAD what?
                C: a002 LOGOUT
                """)
                .check(
                        client(SecurityLevel.ENCRYPT),
                        o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.STARTTLS_NOT_OFFERED));
    }

    @ParameterizedTest
    @ValueSource(strings = {"BAD STARTTLS not supported.", "NO TLS temporarily unavailable", "bad nope"})
    void startTlsRefusedAtMay(String reply) {
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                C: a001 STARTTLS
                S: a001 %s
                """.formatted(reply)).check(client(SecurityLevel.MAY), o -> {
            Step.UpgradeUnavailable u = unavailable(o);
            assertThat(u.reason().kind()).isEqualTo(FailureKind.STARTTLS_REFUSED);
            assertThat(u.reason().temporary()).isEqualTo(reply.startsWith("NO"));
            assertThat(u.plaintext().before().entries()).containsExactly("IMAP4rev1", "STARTTLS");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"BAD STARTTLS not supported.", "NO STARTTLS not supported."})
    void startTlsRefusedWhenRequired(String reply) {
        // security.md §5 D.35 (EAST O_1..O_3): abort with LOGOUT, never LOGIN.
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                C: a001 STARTTLS
                S: a001 %s
                C: a002 LOGOUT
                """.formatted(reply)).check(client(SecurityLevel.ENCRYPT), o -> {
            Failure f = failed(o);
            assertThat(f.kind()).isEqualTo(FailureKind.STARTTLS_REFUSED);
            assertThat(f.blame()).isEqualTo(Blame.POLICY);
            assertThat(f.phase()).isEqualTo(Phase.UPGRADE);
        });
    }

    @Test
    void continuationToStartTlsIsAProtocolViolation() {
        // security.md §1.1 N/O O_4: "+ continue with something."
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                C: a001 STARTTLS
                S: + continue with something.
                """)
                .check(
                        client(SecurityLevel.MAY),
                        o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.PROTOCOL_VIOLATION));
    }

    @Test
    void byeInsteadOfStartTlsReply() {
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                C: a001 STARTTLS
                S: * BYE shutting down
                """)
                .check(
                        client(SecurityLevel.MAY),
                        o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.SERVICE_UNAVAILABLE));
    }

    @Test
    void taggedReplyForAnotherTag() {
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                C: a001 STARTTLS
                S: B OK answer future login command
                """)
                .check(
                        client(SecurityLevel.MAY),
                        o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.PROTOCOL_VIOLATION));
    }

    /**
     * Response injection (security.md §1.1 B_R, §5 E.49): bytes after the STARTTLS OK. Read in the same
     * chunk as the OK line they fail the negotiation; arriving after the client has started TLS they go to
     * the TLS engine, never to IMAP.
     */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "S: B OK answer future login command", // libetpan #386, E.49
                "S: * CAPABILITY IMAP4REV1 AUTH=PLAIN AUTH=LOGIN\nS: B OK capability done.", // E.49
                "S: * CAPABILITY IMAP4REV1 AUTH=PLAIN AUTH=LOGIN\nS: 2 OK capability done.", // EAST imap B_1
                "S: * OK [ALERT] Attacker-controlled text", // B_2 suffix ALERT
                "S: * BYE", // B_3
                "S: * OK\\c", // trailing partial line (nodemailer #1835)
                "S: \\x16\\x03\\x01\\x00\\c", // garbage
                "S: \\r\\n\\c" // even an empty line
            })
    void responseInjectionAfterStartTlsOk(String injected) {
        ImapTranscript t = ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                C: a001 STARTTLS
                S: a001 OK begin TLS
                %s
                """.formatted(injected));
        String okLine = "a001 OK begin TLS\r\n";
        int okEnd = t.peerText().indexOf(okLine) + okLine.length();
        String injectedText = t.peerText().substring(okEnd);
        for (SecurityLevel level : new SecurityLevel[] {SecurityLevel.MAY, SecurityLevel.ENCRYPT}) {
            t.check(client(level), o -> {
                assertThat(o.output()).isEqualTo(o.expectedOutput());
                if (o.splits().contains(okEnd)) {
                    // The OK line arrived alone: the client rightly started TLS; the rest went to TLS.
                    assertThat(o.last()).isInstanceOf(Step.BeginHandshake.class);
                    assertThat(o.tlsBytes()).isEqualTo(injectedText);
                } else {
                    Failure f = failed(o);
                    assertThat(f.kind()).isEqualTo(FailureKind.BYTES_AFTER_UPGRADE_REPLY);
                    assertThat(f.blame()).isEqualTo(Blame.PEER);
                    assertThat(f.phase()).isEqualTo(Phase.UPGRADE);
                }
            });
        }
    }

    @Test
    void tamperingBeforeStartTlsOkIsNotVisibleAfterTls() {
        // security.md §1.1 T (EAST tampering, CVE-2021-38370) and U (pre-TLS ALERT).
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready
                C: a001 STARTTLS
                S: * LIST () "/" 7XiYhgS7
                S: * STATUS INBOX (MESSAGES 718001 RECENT 718002 UIDNEXT 718003 UNSEEN 718004 UIDVALIDITY 718005)
                S: * FLAGS (\\Flagged)
                S: * 54321 EXISTS
                S: * 1 EXPUNGE
                S: * 1 FETCH (BODY[] {28}
                S: From: Injected
                S:
                S: Injected
                S: )
                S: * OK [REFERRAL imaps://example.org:993] go there
                S: * OK [ALERT] Attacker-controlled text
                S: * CAPABILITY IDLE AUTH=PLAIN
                S: a001 OK ready for starttls
                TLS
                C: a002 CAPABILITY
                S: * CAPABILITY IMAP4rev2 AUTH=SCRAM-SHA-256
                S: a002 OK done
                """).check(client(SecurityLevel.ENCRYPT), o -> {
            Result r = completed(o);
            assertThat(r.before().entries()).containsExactly("IMAP4rev1", "STARTTLS");
            assertThat(r.after().entries()).containsExactly("IMAP4rev2", "AUTH=SCRAM-SHA-256");
            assertThat(r.toString()).doesNotContain("IDLE", "7XiYhgS7", "Injected", "ALERT");
        });
    }

    @Test
    void literalHidingAFakeTaggedReplyIsReadByteExactly() {
        // The literal holds "a001 OK fake\r\n": read as data, it must not complete CAPABILITY.
        ImapTranscript.client("""
                S: * OK hi
                C: a001 CAPABILITY
                S: * 1 FETCH (BODY[] {14}
                S: a001 OK fake
                S:  FLAGS (\\Seen))
                S: * LIST () "/" {3+}
                S: a\\r\\n
                S: * 2 FETCH (BINARY[1] ~{4}
                S: \\x00\\x01\\r\\n)
                S: * CAPABILITY IMAP4rev1
                S: a001 OK done
                """).check(client(SecurityLevel.MAY), o -> {
            Step.UpgradeUnavailable u = unavailable(o);
            assertThat(u.plaintext().before().entries()).containsExactly("IMAP4rev1");
        });
    }

    @Test
    void overLongLineIsLimitExceeded() {
        Limits small = new Limits(64, 16, 1024, 32, 5);
        String longGreeting = "* OK " + "x".repeat(100);
        ImapTranscript.client("S: " + longGreeting + "\n")
                .check(() -> new ImapClient(ClientOptions.of(SecurityLevel.MAY).withLimits(small)), o -> {
                    Failure f = failed(o);
                    assertThat(f.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
                    assertThat(f.phase()).isEqualTo(Phase.GREETING);
                });
    }

    @Test
    void overLongLiteralIsLimitExceeded() {
        Limits small = new Limits(64, 16, 1024, 32, 5);
        ImapTranscript.client("""
                S: * OK hi
                C: a001 CAPABILITY
                S: * 1 FETCH (BODY[] {33}
                """)
                .check(
                        () -> new ImapClient(ClientOptions.of(SecurityLevel.MAY).withLimits(small)),
                        o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
    }

    @Test
    void tooManyUntaggedResponsesIsLimitExceeded() {
        Limits small = new Limits(64, 3, 1024, 32, 5);
        ImapTranscript.client("""
                S: * OK hi
                C: a001 CAPABILITY
                S: * 1 EXISTS
                S: * 2 EXISTS
                S: * 3 EXISTS
                S: * 4 EXISTS
                S: a001 OK done
                """)
                .check(
                        () -> new ImapClient(ClientOptions.of(SecurityLevel.MAY).withLimits(small)),
                        o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
    }

    @ParameterizedTest
    @ValueSource(strings = {"S: a001 OK beg\\c", "S: * 1 FETCH (BODY[] {10}\nS: abc\\c", "S: * OK\\c"})
    void eofInTheMiddleOfAReply(String partial) {
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi
                C: a001 STARTTLS
                %s
                EOF
                """.formatted(partial)).check(client(SecurityLevel.ENCRYPT), o -> {
            Failure f = failed(o);
            assertThat(f.kind()).isEqualTo(FailureKind.UNEXPECTED_EOF);
            assertThat(f.phase()).isEqualTo(Phase.UPGRADE);
        });
    }

    @Test
    void eofAfterTlsBeforeCapabilityReply() {
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi
                C: a001 STARTTLS
                S: a001 OK go
                TLS
                C: a002 CAPABILITY
                S: * CAPABILITY IMAP4rev1
                EOF
                """).check(client(SecurityLevel.ENCRYPT), o -> {
            Failure f = failed(o);
            assertThat(f.kind()).isEqualTo(FailureKind.UNEXPECTED_EOF);
            assertThat(f.phase()).isEqualTo(Phase.CAPABILITIES_AFTER_TLS);
        });
    }

    @Test
    void capabilityRefusedAfterTls() {
        ImapTranscript.client("""
                S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi
                C: a001 STARTTLS
                S: a001 OK go
                TLS
                C: a002 CAPABILITY
                S: a002 NO no
                """).check(client(SecurityLevel.ENCRYPT), o -> {
            Failure f = failed(o);
            assertThat(f.kind()).isEqualTo(FailureKind.PROTOCOL_VIOLATION);
            assertThat(f.phase()).isEqualTo(Phase.CAPABILITIES_AFTER_TLS);
        });
    }

    @Test
    void receiveAfterBeginHandshakeIsACallerBug() {
        ImapClient c = new ImapClient(ClientOptions.of(SecurityLevel.ENCRYPT));
        ImapTranscript.Driver d = new ImapTranscript.Driver(c);
        c.receive(java.nio.ByteBuffer.wrap("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n".getBytes()));
        d.pump();
        c.receive(java.nio.ByteBuffer.wrap("a001 OK go\r\n".getBytes()));
        assertThat(d.pump()).isInstanceOf(Step.BeginHandshake.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.receive(java.nio.ByteBuffer.wrap(new byte[] {1})))
                .isInstanceOf(IllegalStateException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        new ImapClient(ClientOptions.of(SecurityLevel.MAY)).handshakeCompleted(ImapTranscript.SUMMARY))
                .isInstanceOf(IllegalStateException.class);
    }
}
