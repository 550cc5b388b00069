package dev.optls.core.ldap;

import static dev.optls.core.ldap.Pdus.concat;
import static dev.optls.core.ldap.Pdus.hex;
import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.nio.ByteBuffer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** LdapClient against byte transcripts, each replayed whole and split at every byte. */
class LdapClientTest {

    private static Supplier<Negotiation> client(SecurityLevel level) {
        return () -> new LdapClient(ClientOptions.of(level));
    }

    private static Replay.Run replay(SecurityLevel level, String name, String expected, byte[]... segments) {
        Transcript t = Pdus.transcript(name, expected, segments);
        Replay.Run run = Replay.everySplit(client(level), t, true);
        assertThat(run.outcome()).as(name).isEqualTo(expected);
        return run;
    }

    private static Failure failure(Replay.Run run) {
        assertThat(run.last()).isInstanceOf(Step.Failed.class);
        return ((Step.Failed) run.last()).failure();
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void sendsTheStartTlsRequestFirstAndUpgradesOnEverySuccessForm(SecurityLevel level) {
        for (byte[] success :
                new byte[][] {Pdus.OPENLDAP_SUCCESS, Pdus.NAMED_SUCCESS, Pdus.APACHEDS_SUCCESS, Pdus.AD_SUCCESS}) {
            Replay.Run run =
                    replay(level, Pdus.toHex(success), "completed UPGRADED", success, new byte[0], new byte[0]);
            // protocols.md §9.1: exactly the 31 bytes, and nothing after TLS (the Bind is the application's).
            assertThat(run.written().get(0)).isEqualTo(Pdus.START_TLS_REQUEST).hasSize(31);
            assertThat(run.written().get(1)).isEmpty();
            assertThat(run.tlsInputs()).containsExactly(new byte[0]);
            Result r = ((Step.Completed) run.last()).result();
            assertThat(r.protocol()).isEqualTo(Protocol.LDAP);
            assertThat(r.tlsActive()).isTrue();
            assertThat(r.before()).isEqualTo(Capabilities.NONE);
            assertThat(r.after()).isEqualTo(Capabilities.NONE);
        }
    }

    /** security.md §5 (response injection, CVE-2011-0411 class): bytes after the success response. */
    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void failsOnBytesAfterTheSuccessResponse(SecurityLevel level) {
        // A forged BindResponse success (messageID 2) glued to the go-ahead.
        byte[] injected = hex("30 0c 02 01 02 61 07 0a 01 00 04 00 04 00");
        Replay.Run run = replay(
                level,
                "injection",
                "failed BYTES_AFTER_UPGRADE_REPLY",
                concat(Pdus.OPENLDAP_SUCCESS, injected),
                new byte[0],
                new byte[0]);
        Failure f = failure(run);
        assertThat(f.blame()).isEqualTo(Blame.PEER);
        assertThat(f.detail()).contains("14 plaintext byte(s)");
        assertThat(run.tlsInputs()).isEmpty();
    }

    @Test
    void mayContinuesInPlaintextWhenStartTlsIsNotSupported() {
        Replay.Run run =
                replay(SecurityLevel.MAY, "protocolError", "unavailable STARTTLS_NOT_OFFERED", Pdus.PROTOCOL_ERROR);
        assertThat(run.written().get(0)).isEqualTo(Pdus.START_TLS_REQUEST);
        var u = (Step.UpgradeUnavailable) run.last();
        assertThat(u.reason().detail()).contains("protocolError (2)", "unsupported extended operation");
        assertThat(u.reason().temporary()).isFalse();
        assertThat(u.plaintext().ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(u.plaintext().tlsActive()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelsUnbindAndFailClosedWhenStartTlsIsNotSupported(SecurityLevel level) {
        Replay.Run run = replay(level, "protocolError", "failed STARTTLS_NOT_OFFERED", Pdus.PROTOCOL_ERROR);
        // RFC 4511 §4.3: UnbindRequest (messageID 2) before closing; never plaintext.
        assertThat(run.written().get(0)).isEqualTo(concat(Pdus.START_TLS_REQUEST, Pdus.UNBIND_2));
        Step.Failed failed = (Step.Failed) run.last();
        assertThat(failed.failure().blame()).isEqualTo(Blame.POLICY);
        assertThat(failed.failure().detail()).contains("level " + level);
        assertThat(failed.observed()).get().extracting(Result::tlsActive).isEqualTo(false);
    }

    @Test
    void unavailableIsATemporaryRefusal() {
        byte[] unavailable = Pdus.extendedResponse(1, 52, "LdapErr: DSID-0C09, no certificate", null);
        Replay.Run may = replay(SecurityLevel.MAY, "unavailable", "unavailable STARTTLS_REFUSED", unavailable);
        var u = (Step.UpgradeUnavailable) may.last();
        assertThat(u.reason().temporary()).isTrue();
        assertThat(u.reason().detail()).contains("unavailable (52)", "DSID-0C09");

        Replay.Run verify = replay(SecurityLevel.VERIFY, "unavailable", "failed STARTTLS_REFUSED", unavailable);
        assertThat(failure(verify).temporary()).isTrue();
        assertThat(verify.written().get(0)).endsWith(Pdus.UNBIND_2);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 10, 53, 80})
    void otherResultCodesAreRefusals(int code) {
        byte[] response = Pdus.extendedResponse(1, code, "", LdapMessage.START_TLS_OID);
        replay(SecurityLevel.MAY, "code " + code, "unavailable STARTTLS_REFUSED", response);
        replay(SecurityLevel.ENCRYPT, "code " + code, "failed STARTTLS_REFUSED", response);
    }

    @Test
    void noticeOfDisconnectionFailsEvenAtMay() {
        byte[] notice = LdapMessage.noticeOfDisconnection(52, "shutting down");
        Replay.Run run = replay(SecurityLevel.MAY, "notice", "failed SERVICE_UNAVAILABLE", notice);
        assertThat(failure(run).temporary()).isTrue();
        assertThat(failure(run).detail()).contains("Notice of Disconnection", "shutting down");
    }

    @Test
    void otherUnsolicitedNotificationsAreSkipped() {
        byte[] other = Pdus.extendedResponse(0, 0, "", "1.2.3.4");
        replay(
                SecurityLevel.VERIFY,
                "notification",
                "completed UPGRADED",
                concat(other, Pdus.NAMED_SUCCESS),
                new byte[0],
                new byte[0]);
    }

    @Test
    void tooManyUnsolicitedNotificationsHitTheLimit() {
        byte[] other = Pdus.extendedResponse(0, 0, "", "1.2.3.4");
        byte[][] many = new byte[Limits.DEFAULT.maxReplyLines() + 1][];
        java.util.Arrays.fill(many, other);
        Replay.Run run = replay(SecurityLevel.MAY, "notifications", "failed LIMIT_EXCEEDED", concat(many));
        assertThat(failure(run).detail()).contains("unsolicited");
    }

    @Test
    void wrongMessageIdIsAProtocolViolation() {
        Replay.Run run = replay(
                SecurityLevel.MAY,
                "id 2",
                "failed PROTOCOL_VIOLATION",
                hex("30 0c 02 01 02 78 07 0a 01 00 04 00 04 00"));
        assertThat(failure(run).detail()).contains("messageID 2");
    }

    @Test
    void aResponseOfAnotherTypeIsAProtocolViolation() {
        // A BindResponse success where the ExtendedResponse belongs: a pattern matcher might take it.
        Replay.Run run = replay(
                SecurityLevel.MAY,
                "bind response",
                "failed PROTOCOL_VIOLATION",
                hex("30 0c 02 01 01 61 07 0a 01 00 04 00 04 00"));
        assertThat(failure(run).detail()).contains("tag 0x61");
    }

    @Test
    void successNamingAnotherOperationIsAProtocolViolation() {
        replay(SecurityLevel.MAY, "other name", "failed PROTOCOL_VIOLATION", Pdus.extendedResponse(1, 0, "", "1.2.3"));
    }

    @Test
    void successWithAResponseValueIsAProtocolViolation() {
        byte[] withValue = hex("30 27 02 01 01 78 22 0a 01 00 04 00 04 00 8a 16" + Pdus.OID_HEX + "8b 01 00");
        replay(SecurityLevel.MAY, "value", "failed PROTOCOL_VIOLATION", withValue);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                // RFC 4511 §5.1: indefinite length is forbidden.
                "30 80 02 01 01 78 07 0a 01 00 04 00 04 00 00 00",
                // Five length octets.
                "30 85 00 00 00 00 0c 02 01 01 78 07 0a 01 00 04 00 04 00",
                // Trailing element inside the LDAPMessage that is not controls.
                "30 0f 02 01 01 78 07 0a 01 00 04 00 04 00 04 01 41",
                // resultCode is missing.
                "30 09 02 01 01 78 04 04 00 04 00",
                // An inner length that runs past its container.
                "30 0c 02 01 01 78 07 0a 05 00 04 00 04 00",
                // Negative messageID.
                "30 0c 02 01 ff 78 07 0a 01 00 04 00 04 00",
                // Multi-octet tag.
                "30 0d 02 01 01 7f 18 07 0a 01 00 04 00 04 00",
                // Not LDAP at all: an SMTP banner.
                "32 32 30 20 6d 78 20 45 53 4d 54 50 0d 0a",
                // A TLS alert record.
                "15 03 03 00 02 02 28",
            })
    void malformedResponsesFail(String response) {
        Replay.Run run = replay(SecurityLevel.MAY, response, "failed MALFORMED", hex(response));
        assertThat(failure(run).phase()).isEqualTo(Phase.UPGRADE);
    }

    @Test
    void controlsAfterTheResponseAreTolerated() {
        byte[] withControls = hex("30 10 02 01 01 78 07 0a 01 00 04 00 04 00 a0 02 30 00");
        replay(SecurityLevel.VERIFY, "controls", "completed UPGRADED", withControls, new byte[0], new byte[0]);
    }

    @Test
    void aDeclaredLengthOverTheLimitFailsAtOnce() {
        // The header alone announces 16 MiB: refused before waiting for it.
        Replay.Run run = replay(SecurityLevel.MAY, "huge", "failed LIMIT_EXCEEDED", hex("30 84 01 00 00 00 02 01 01"));
        assertThat(failure(run).detail()).contains("at most " + Limits.DEFAULT.maxBufferedBytes());
    }

    @Test
    void eofInTheMiddleOfTheResponseFails() {
        replay(SecurityLevel.MAY, "eof", "failed UNEXPECTED_EOF", hex("30 0c 02 01 01 78 07 0a 01"));
        replay(SecurityLevel.MAY, "eof before", "failed UNEXPECTED_EOF", new byte[0]);
    }

    @Test
    void levelNoneSendsNothing() {
        LdapClient client = new LdapClient(ClientOptions.of(SecurityLevel.NONE));
        Step step = client.poll();
        assertThat(step).isInstanceOf(Step.Completed.class);
        Result r = ((Step.Completed) step).result();
        assertThat(r.ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(r.tlsActive()).isFalse();
        assertThat(client.drainOutput(ByteBuffer.allocate(64))).isZero();
    }

    @Test
    void implicitTlsSendsNothing() {
        LdapClient client =
                new LdapClient(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true));
        Step step = client.poll();
        assertThat(((Step.Completed) step).result().ending()).isEqualTo(Result.Ending.IMPLICIT_TLS);
        assertThat(client.drainOutput(ByteBuffer.allocate(64))).isZero();
    }

    @Test
    void handshakeCompletedOutsideTheHandshakeIsACallerBug() {
        LdapClient client = new LdapClient(ClientOptions.of(SecurityLevel.MAY));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.handshakeCompleted(Replay.FAKE_TLS))
                .isInstanceOf(IllegalStateException.class);
    }
}
