package dev.optls.core.ldap;

import static dev.optls.core.ldap.Pdus.concat;
import static dev.optls.core.ldap.Pdus.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** LdapServer against byte transcripts, each replayed whole and split at every byte. */
class LdapServerTest {
    private static final ServerOptions OFFERING = ServerOptions.offering("ldap.example", Capabilities.NONE);
    private static final ServerOptions WITHOUT_TLS = ServerOptions.withoutTls("ldap.example", Capabilities.NONE);
    private static final ServerOptions REQUIRED = OFFERING.withTlsRequired(true);

    /** The server's StartTLS success: resultCode 0 and the responseName (protocols.md §9.2). */
    private static byte[] success(int id) {
        return LdapMessage.extendedResponse(id, 0, "", LdapMessage.START_TLS_OID);
    }

    private static Replay.Run replay(ServerOptions options, String expected, List<String> answers, byte[]... segments) {
        Transcript t = Pdus.transcript(expected, expected, answers, segments);
        Supplier<Negotiation> factory = () -> new LdapServer(options);
        Replay.Run run = Replay.everySplit(factory, t, false);
        assertThat(run.outcome()).isEqualTo(expected);
        return run;
    }

    private static Replay.Run replay(ServerOptions options, String expected, byte[]... segments) {
        return replay(options, expected, List.of(), segments);
    }

    @Test
    void answersStartTlsAndUpgrades() {
        Replay.Run run = replay(OFFERING, "completed UPGRADED", new byte[0], Pdus.START_TLS_REQUEST, new byte[0]);
        assertThat(run.written().get(0)).isEqualTo(Pdus.NAMED_SUCCESS);
        assertThat(run.tlsInputs()).containsExactly(new byte[0]);
        Result r = ((Step.Completed) run.last()).result();
        assertThat(r.tlsActive()).isTrue();
    }

    @Test
    void echoesTheRequestsMessageId() {
        Replay.Run run = replay(OFFERING, "begin-handshake", new byte[0], Pdus.startTls(300));
        assertThat(run.written().get(0)).isEqualTo(success(300));
        assertThat(Pdus.toHex(run.written().get(0))).startsWith("30 25 02 02 01 2c 78");
    }

    /**
     * security.md §5 A.12 (command injection, CVE-2011-0411 class): StartTLS and a Bind in one buffer. The
     * Bind goes to TLS unparsed and is never answered in plaintext.
     */
    @Test
    void aBindPipelinedAfterStartTlsGoesToTlsUnanswered() {
        byte[] bind = Pdus.bindSimple(2, "cn=admin,dc=example,dc=org", "secret");
        Transcript t = Pdus.transcript(
                "injection", "begin-handshake", List.of(), new byte[0], concat(Pdus.START_TLS_REQUEST, bind));
        Replay.Run whole = Replay.everySplit(() -> new LdapServer(OFFERING), t, false);
        assertThat(whole.outcome()).isEqualTo("begin-handshake");
        assertThat(whole.written().get(0)).isEqualTo(Pdus.NAMED_SUCCESS);
        assertThat(whole.tlsInputs()).containsExactly(bind);
    }

    @Test
    void refusesStartTlsOnceTlsIsActive() {
        Replay.Run run = replay(
                OFFERING.afterUpgrade(),
                "completed CLOSED",
                new byte[0],
                concat(Pdus.START_TLS_REQUEST, Pdus.unbind(2)));
        // RFC 4513 §3.1.1: operationsError.
        assertThat(run.written().get(0))
                .isEqualTo(LdapMessage.extendedResponse(1, 1, "TLS already established", LdapMessage.START_TLS_OID));
        assertThat(run.tlsInputs()).isEmpty();
    }

    @Test
    void answersProtocolErrorWithoutACertificate() {
        Replay.Run run =
                replay(WITHOUT_TLS, "completed CLOSED", new byte[0], concat(Pdus.START_TLS_REQUEST, Pdus.unbind(2)));
        assertThat(run.written().get(0))
                .isEqualTo(LdapMessage.extendedResponse(1, 2, "StartTLS is not supported", null));
        assertThat(Pdus.toHex(run.written().get(0))).contains("0a 01 02");
    }

    @Test
    void refusesStartTlsWithARequestValue() {
        byte[] withValue = hex("30 1f 02 01 01 77 1a 80 16" + Pdus.OID_HEX + "81 00");
        Replay.Run run = replay(OFFERING, "completed CLOSED", new byte[0], concat(withValue, Pdus.unbind(2)));
        assertThat(Pdus.toHex(run.written().get(0))).contains("0a 01 02");
    }

    /** security.md §5 B.21: with TLS required, no credential is checked before TLS. */
    @Test
    void requiredTlsRefusesBindsWithCredentialsBeforeTls() {
        byte[] simple = Pdus.bindSimple(1, "cn=admin,dc=example,dc=org", "secret");
        byte[] sasl = Pdus.bindSasl(2, "PLAIN");
        Replay.Run run = replay(
                REQUIRED, "completed UPGRADED", new byte[0], concat(simple, sasl, Pdus.startTls(3)), new byte[0]);
        String diag = "TLS confidentiality required: send StartTLS before binding";
        assertThat(run.written().get(0))
                .isEqualTo(concat(
                        LdapMessage.bindResponse(1, 13, diag), LdapMessage.bindResponse(2, 13, diag), success(3)));
    }

    @Test
    void requiredTlsStillDeliversAnAnonymousBind() {
        Replay.Run run = replay(REQUIRED, "deliver BIND", new byte[0], Pdus.bindSimple(1, "", ""));
        Command c = ((Step.Deliver) run.last()).command();
        assertThat(c.tag()).isEqualTo("1");
        assertThat(c.tlsActive()).isFalse();
    }

    @Test
    void deliversBindsWhenTlsIsNotRequiredAndHandsOver() {
        byte[] bind = Pdus.bindSimple(1, "cn=admin,dc=example,dc=org", "secret");
        byte[] next = Pdus.search(2, "dc=example,dc=org");
        Replay.Run run =
                replay(OFFERING, "completed HANDED_OVER", List.of("HANDOVER"), new byte[0], concat(bind, next));
        assertThat(run.written().get(0)).isEmpty();
        Result r = ((Step.Completed) run.last()).result();
        ByteBuffer rest = r.remaining();
        byte[] remaining = new byte[rest.remaining()];
        rest.get(remaining);
        // The delivered PDU first, then whatever followed it, untouched.
        assertThat(remaining).isEqualTo(concat(bind, next));
    }

    @Test
    void deliversOtherRequestsWithTheirVerb() {
        assertThat(deliveredVerb(Pdus.search(7, "dc=example,dc=org"))).isEqualTo("7 SEARCH dc=example,dc=org");
        assertThat(deliveredVerb(Pdus.message(3, Ber.Writer.text(0x4a, "cn=x"))))
                .isEqualTo("3 DELETE cn=x");
        assertThat(deliveredVerb(
                        Pdus.message(4, Ber.Writer.element(0x77, Ber.Writer.text(0x80, "1.3.6.1.4.1.4203.1.11.3")))))
                .isEqualTo("4 EXTENDED 1.3.6.1.4.1.4203.1.11.3");
    }

    private static String deliveredVerb(byte[] request) {
        Replay.Run run = replay(OFFERING, "deliver " + verbOf(request), new byte[0], request);
        return ((Step.Deliver) run.last()).command().line();
    }

    private static String verbOf(byte[] request) {
        LdapMessage m = LdapMessage.parse(request);
        return switch (m.op().tag()) {
            case 0x63 -> "SEARCH";
            case 0x4a -> "DELETE";
            default -> "EXTENDED";
        };
    }

    @Test
    void respondIsRefusedBecauseLdapAnswersAreBer() {
        LdapServer server = new LdapServer(OFFERING);
        server.receive(ByteBuffer.wrap(Pdus.search(2, "")));
        assertThat(server.poll()).isInstanceOf(Step.Deliver.class);
        assertThatThrownBy(() -> server.respond("OK"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("handOver()");
        assertThat(server.poll()).isInstanceOf(Step.Failed.class);
    }

    @Test
    void unbindClosesAndAbandonIsIgnored() {
        byte[] abandon = hex("30 06 02 01 02 50 01 01");
        Replay.Run run = replay(OFFERING, "completed CLOSED", new byte[0], concat(abandon, Pdus.unbind(3)));
        assertThat(run.written().get(0)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                // Indefinite length.
                "30 80 02 01 01 42 00 00 00",
                // A response where a request belongs (RFC 4511 §4.1.1).
                "30 0c 02 01 01 61 07 0a 01 00 04 00 04 00",
                // messageID 0 is reserved for notifications.
                "30 05 02 01 00 42 00",
                // Not LDAP: an HTTP request.
                "47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a",
                // A TLS ClientHello where the StartTLS request belongs.
                "16 03 01 00 05 01 00 00 01 00",
                // ExtendedRequest without a requestName.
                "30 05 02 01 01 77 00",
                // BindRequest without authentication.
                "30 0c 02 01 01 60 07 02 01 03 04 02 63 6e",
            })
    void badPdusEndTheSessionWithANoticeOfDisconnection(String pdu) {
        Transcript t = Pdus.transcript(pdu, "?", List.of(), new byte[0], hex(pdu));
        Replay.Run run = Replay.everySplit(() -> new LdapServer(OFFERING), t, false);
        assertThat(run.outcome()).matches("failed (MALFORMED|PROTOCOL_VIOLATION)");
        LdapMessage notice = LdapMessage.parse(run.written().get(0));
        assertThat(notice.messageId()).isZero();
        var response = LdapMessage.parseExtendedResponse(notice.op());
        assertThat(response.resultCode()).isEqualTo(2);
        assertThat(response.responseName()).contains(LdapMessage.NOTICE_OF_DISCONNECTION_OID);
    }

    @Test
    void aDeclaredLengthOverTheLimitFailsAtOnce() {
        Replay.Run run = replay(OFFERING, "failed LIMIT_EXCEEDED", new byte[0], hex("30 83 10 00 00 02 01 01"));
        assertThat(LdapMessage.parse(run.written().get(0)).messageId()).isZero();
    }

    @Test
    void tooManyRefusedRequestsEndTheSession() {
        Limits few = new Limits(64, 8, 4096, 0, 3);
        byte[][] binds = new byte[4][];
        for (int i = 0; i < binds.length; i++) {
            binds[i] = Pdus.bindSimple(i + 1, "cn=a", "p");
        }
        Replay.Run run = replay(REQUIRED.withLimits(few), "failed TOO_MANY_ERRORS", new byte[0], concat(binds));
        assertThat(((Step.Failed) run.last()).failure().kind()).isEqualTo(FailureKind.TOO_MANY_ERRORS);
    }

    @Test
    void eofInTheMiddleOfARequestFails() {
        replay(OFFERING, "failed UNEXPECTED_EOF", new byte[0], hex("30 1d 02 01 01 77"));
    }
}
