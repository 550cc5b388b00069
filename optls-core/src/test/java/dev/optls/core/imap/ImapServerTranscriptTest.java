package dev.optls.core.imap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImapServerTranscriptTest {
    private static final ServerOptions OFFERING = ServerOptions.offering(
                    "mail.example", Capabilities.of("IMAP4rev2", "AUTH=PLAIN"))
            .withGreeting("ready")
            .withTlsCapabilities(Capabilities.of("IMAP4rev2", "AUTH=PLAIN", "AUTH=SCRAM-SHA-256"));
    private static final ServerOptions REQUIRED = OFFERING.withTlsRequired(true);

    private static Supplier<ImapServer> server(ServerOptions options) {
        return () -> new ImapServer(options);
    }

    private static Result completed(ImapTranscript.Outcome o) {
        assertThat(o.output()).isEqualTo(o.expectedOutput());
        assertThat(o.last()).isInstanceOf(Step.Completed.class);
        return ((Step.Completed) o.last()).result();
    }

    private static Failure failed(ImapTranscript.Outcome o) {
        assertThat(o.output()).isEqualTo(o.expectedOutput());
        assertThat(o.last()).isInstanceOf(Step.Failed.class);
        return ((Step.Failed) o.last()).failure();
    }

    private static void waiting(ImapTranscript.Outcome o) {
        assertThat(o.output()).isEqualTo(o.expectedOutput());
        assertThat(o.last()).isEqualTo(Step.NEED_INPUT);
    }

    @Test
    void upgrade() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a001 CAPABILITY
                S: * CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS
                S: a001 OK CAPABILITY completed
                C: a002 STARTTLS
                S: a002 OK Begin TLS negotiation now
                TLS
                """).check(server(OFFERING), o -> {
            Result r = completed(o);
            assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
            assertThat(r.tlsActive()).isTrue();
            assertThat(r.before().entries()).containsExactly("IMAP4rev2", "AUTH=PLAIN", "STARTTLS");
            assertThat(r.after().entries()).containsExactly("IMAP4rev2", "AUTH=PLAIN", "AUTH=SCRAM-SHA-256");
            assertThat(o.delivered()).isEmpty();
            assertThat(o.tlsBytes()).isEmpty();
        });
    }

    @Test
    void tlsRequiredAdvertisesLoginDisabledAndRefusesCredentialsBeforeTls() {
        // RFC 9051 §6.2.3, RFC 2595 §3.2; security.md §5 B.21: no credential check, no AUTH= before TLS.
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 STARTTLS LOGINDISABLED] ready
                C: a1 LOGIN user secret
                S: a1 NO [PRIVACYREQUIRED] TLS is required: issue STARTTLS first
                C: a2 LOGIN {4}
                S: a2 NO [PRIVACYREQUIRED] TLS is required: issue STARTTLS first
                C: a3 LOGIN {4+}
                C: user {6+}
                C: secret
                S: a3 NO [PRIVACYREQUIRED] TLS is required: issue STARTTLS first
                C: a4 AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0
                S: a4 NO [PRIVACYREQUIRED] TLS is required: issue STARTTLS first
                C: a5 authenticate PLAIN
                S: a5 NO [PRIVACYREQUIRED] TLS is required: issue STARTTLS first
                C: a6 CAPABILITY
                S: * CAPABILITY IMAP4rev2 STARTTLS LOGINDISABLED
                S: a6 OK CAPABILITY completed
                """).check(server(REQUIRED), o -> {
            waiting(o);
            assertThat(o.delivered()).isEmpty();
            assertThat(o.output()).doesNotContain("+ ");
        });
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "B NOOP\\r\\n", // security.md §5 A.5
                "B LOGIN u p\\r\\nC APPEND INBOX {999999}\\r\\n", // security.md §5 A.5 exploit shape
                "XYZ NOOP\\r\\n", // command-injection-tester
                "RS\\c", // §5 A.4 partial line
                "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03\\c" // a ClientHello sent early (RFC 9051
                // option 1)
            })
    void commandInjectionGoesToTlsUnparsed(String injected) {
        ImapTranscript t = ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 STARTTLS LOGINDISABLED] ready
                C: A STARTTLS\\r\\n%s\\c
                S: A OK Begin TLS negotiation now
                """.formatted(injected));
        String injectedText = new String(ImapTranscript.decode(injected + "\\c"), StandardCharsets.ISO_8859_1);
        t.check(server(REQUIRED), o -> {
            assertThat(o.output()).isEqualTo(o.expectedOutput());
            assertThat(o.last()).isInstanceOf(Step.BeginHandshake.class);
            assertThat(o.delivered()).isEmpty();
            assertThat(o.tlsBytes()).isEqualTo(injectedText);
        });
    }

    @Test
    void afterUpgradeTheSessionStartsFresh() {
        // A new ImapServer for the TLS leg: no greeting, no STARTTLS, no LOGINDISABLED (security.md §5 B.16-18).
        ImapTranscript.server("""
                C: t1 CAPABILITY
                S: * CAPABILITY IMAP4rev2 AUTH=PLAIN AUTH=SCRAM-SHA-256
                S: t1 OK CAPABILITY completed
                C: t2 STARTTLS
                S: t2 BAD TLS already active
                C: t3 LOGIN user secret
                APP: t3 OK [CAPABILITY IMAP4rev2 IDLE] LOGIN completed
                S: t3 OK [CAPABILITY IMAP4rev2 IDLE] LOGIN completed
                C: t4 SELECT INBOX
                APP: * 3 EXISTS\\r\\nt4 OK [READ-WRITE] SELECT completed
                S: * 3 EXISTS
                S: t4 OK [READ-WRITE] SELECT completed
                """).check(server(REQUIRED.afterUpgrade()), o -> {
            waiting(o);
            assertThat(o.delivered())
                    .containsExactly(
                            new Command("t3", "LOGIN", "user secret", "t3 LOGIN user secret", true),
                            new Command("t4", "SELECT", "INBOX", "t4 SELECT INBOX", true));
        });
    }

    @Test
    void startTlsAfterAuthenticationIsBad() {
        // RFC 2595 §3.1 / security.md §5 B.20: only valid in the not-authenticated state.
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 LOGIN user secret
                APP: a1 OK LOGIN completed
                S: a1 OK LOGIN completed
                C: a2 STARTTLS
                S: a2 BAD STARTTLS is only valid before authentication
                C: a3 CAPABILITY
                S: * CAPABILITY IMAP4rev2 AUTH=PLAIN
                S: a3 OK CAPABILITY completed
                """).check(server(OFFERING), o -> {
            waiting(o);
            assertThat(o.delivered()).extracting(Command::verb).containsExactly("LOGIN");
        });
    }

    @Test
    void failedLoginKeepsStartTlsAvailable() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 LOGIN user wrong
                APP: a1 NO [AUTHENTICATIONFAILED] nope
                S: a1 NO [AUTHENTICATIONFAILED] nope
                C: a2 STARTTLS
                S: a2 OK Begin TLS negotiation now
                TLS
                """)
                .check(server(OFFERING), o -> assertThat(completed(o).ending()).isEqualTo(Result.Ending.UPGRADED));
    }

    @Test
    void startTlsRefusals() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2] ready
                C: a1 STARTTLS
                S: a1 BAD STARTTLS is not available on this server
                """)
                .check(server(ServerOptions.withoutTls("mail.example", Capabilities.of("IMAP4rev2"))), o -> {
                    waiting(o);
                    assertThat(o.tlsBytes()).isEmpty();
                });
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 STARTTLS now
                S: a1 BAD STARTTLS takes no arguments
                C: a2 STARTTLS {3}
                S: a2 BAD STARTTLS takes no arguments
                C: a3 CAPABILITY x
                S: a3 BAD CAPABILITY takes no arguments
                """).check(server(OFFERING), ImapServerTranscriptTest::waiting);
    }

    @Test
    void implicitTlsServerNeverOffersStartTls() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN AUTH=SCRAM-SHA-256] ready
                C: a1 STARTTLS
                S: a1 BAD TLS already active
                """).check(server(REQUIRED.implicitTls()), ImapServerTranscriptTest::waiting);
    }

    @Test
    void logoutCloses() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 LOGOUT
                S: * BYE mail.example logging out
                S: a1 OK LOGOUT completed
                """).check(server(OFFERING), o -> {
            Result r = completed(o);
            assertThat(r.ending()).isEqualTo(Result.Ending.CLOSED);
            assertThat(r.tlsActive()).isFalse();
        });
    }

    @Test
    void applicationByeCloses() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 NOOP
                APP: * BYE shutting down
                S: * BYE shutting down
                """)
                .check(server(OFFERING), o -> assertThat(completed(o).ending()).isEqualTo(Result.Ending.CLOSED));
    }

    @Test
    void synchronizingLiteralIsDeliveredBeforeItsOctets() {
        // RFC 9051 §4.3: the client waits; the application rejects it with a tagged response.
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 APPEND Drafts (\\Seen) {310}
                APP: a1 NO [TRYCREATE] no such mailbox
                S: a1 NO [TRYCREATE] no such mailbox
                C: a2 NOOP
                APP: a2 OK NOOP completed
                S: a2 OK NOOP completed
                """).check(server(OFFERING), o -> {
            waiting(o);
            assertThat(o.delivered())
                    .containsExactly(
                            new Command(
                                    "a1", "APPEND", "Drafts (\\Seen) {310}", "a1 APPEND Drafts (\\Seen) {310}", false),
                            new Command("a2", "NOOP", "", "a2 NOOP", false));
        });
    }

    @Test
    void nonSynchronizingLiteralIsReadWithTheCommand() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 LOGIN {4+}
                C: user "p w"
                APP: a1 OK done
                S: a1 OK done
                """).check(server(OFFERING), o -> {
            waiting(o);
            assertThat(o.delivered())
                    .containsExactly(
                            new Command("a1", "LOGIN", "{4+}\r\nuser \"p w\"", "a1 LOGIN {4+}\r\nuser \"p w\"", false));
        });
    }

    @Test
    void handOverReturnsTheCommandAndEverythingAfterIt() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 AUTHENTICATE PLAIN
                C: AHVzZXIAc2VjcmV0
                HANDOVER
                """).check(server(OFFERING), o -> {
            Result r = completed(o);
            assertThat(r.ending()).isEqualTo(Result.Ending.HANDED_OVER);
            assertThat(StandardCharsets.ISO_8859_1.decode(r.remaining()).toString())
                    .endsWith("AHVzZXIAc2VjcmV0\r\n")
                    .startsWith("a1 AUTHENTICATE PLAIN\r\n");
        });
    }

    @Test
    void syntaxErrorsAreBadAndCounted() {
        Limits limits = new Limits(64, 16, 1024, 32, 3);
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C:
                S: * BAD Syntax error: empty command line
                C: a1
                S: a1 BAD Syntax error: expected a space after the tag (at the end of the line)
                C: a2 SELECT "INBOX
                S: a2 BAD Syntax error: unterminated quoted string
                C: +x NOOP
                S: * BAD Syntax error: invalid character 0x2b in tag (near offset 0)
                S: * BYE Too many errors
                """).check(server(OFFERING.withLimits(limits)), o -> {
            Failure f = failed(o);
            assertThat(f.kind()).isEqualTo(FailureKind.TOO_MANY_ERRORS);
            assertThat(f.blame()).isEqualTo(Blame.PEER);
            assertThat(o.delivered()).isEmpty();
        });
    }

    @Test
    void overLongLineIsLimitExceeded() {
        Limits limits = new Limits(64, 16, 1024, 32, 3);
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 NOOP %s
                S: * BYE line longer than 64 bytes (Limits.maxLineLength)
                """.formatted("x".repeat(80))).check(server(OFFERING.withLimits(limits)), o -> {
            Failure f = failed(o);
            assertThat(f.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
            assertThat(o.delivered()).isEmpty();
        });
    }

    @Test
    void overLongNonSynchronizingLiteralIsLimitExceeded() {
        Limits limits = new Limits(64, 16, 1024, 32, 3);
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 APPEND INBOX {999999+}
                S: * BYE literal of 999999 octets is larger than the limit of 32 (Limits.maxLiteralBytes)
                """)
                .check(
                        server(OFFERING.withLimits(limits)),
                        o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED));
    }

    @Test
    void eofInTheMiddleOfACommand() {
        ImapTranscript.server("""
                S: * OK [CAPABILITY IMAP4rev2 AUTH=PLAIN STARTTLS] ready
                C: a1 STARTT\\c
                EOF
                """)
                .check(server(OFFERING), o -> assertThat(failed(o).kind()).isEqualTo(FailureKind.UNEXPECTED_EOF));
    }

    @Test
    void continuationThroughRespondIsACallerBug() {
        ImapServer s = new ImapServer(OFFERING);
        ImapTranscript.Driver d = new ImapTranscript.Driver(s);
        d.pump();
        s.receive(ByteBuffer.wrap("a1 IDLE\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThat(d.pump()).isInstanceOf(Step.Deliver.class);
        assertThatThrownBy(() -> s.respond("+ idling"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("handOver()");
        assertThat(d.pump()).isInstanceOf(Step.Failed.class);
    }

    @Test
    void replyWithoutTaggedCompletionIsACallerBug() {
        ImapServer s = new ImapServer(OFFERING);
        ImapTranscript.Driver d = new ImapTranscript.Driver(s);
        d.pump();
        s.receive(ByteBuffer.wrap("a1 NOOP\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThat(d.pump()).isInstanceOf(Step.Deliver.class);
        assertThatThrownBy(() -> s.respond("b1 OK wrong tag"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("a1");
        assertThatThrownBy(() -> new ImapServer(OFFERING).respond("a1 OK")).isInstanceOf(IllegalStateException.class);
    }
}
