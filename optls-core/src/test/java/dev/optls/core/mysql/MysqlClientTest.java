package dev.optls.core.mysql;

import static dev.optls.core.mysql.Wire.NOTHING;
import static dev.optls.core.mysql.Wire.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Blame;
import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** MysqlClient against recorded and built server bytes, replayed whole and split at every byte. */
class MysqlClientTest {
    private static final long SERVER_TLS = MysqlFlags.CLIENT_LONG_PASSWORD
            | MysqlFlags.CLIENT_PROTOCOL_41
            | MysqlFlags.CLIENT_SSL
            | MysqlFlags.CLIENT_TRANSACTIONS
            | MysqlFlags.CLIENT_SECURE_CONNECTION
            | MysqlFlags.CLIENT_PLUGIN_AUTH;

    private static Supplier<Negotiation> client(SecurityLevel level) {
        return () -> new MysqlClient(ClientOptions.of(level));
    }

    private static Replay.Run replay(Supplier<Negotiation> client, Transcript t) {
        return Replay.everySplit(client, t, true);
    }

    private static Transcript upgrade(byte[] greeting, byte[] sslRequest) {
        return Wire.transcript("upgrade", List.of(), segment(greeting, sslRequest), segment(NOTHING, NOTHING));
    }

    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"MAY", "ENCRYPT", "VERIFY"})
    void upgradesAgainstRealMariaDbGreeting(SecurityLevel level) {
        long mariaDbCaps = 0x1d_81ff_ffffL & ~0x0001L & 0x1d_81ff_fffeL | MysqlFlags.CLIENT_SSL;
        Replay.Run run = replay(client(level), upgrade(Wire.MARIADB_WITH_TLS, NOTHING));

        assertThat(run.outcome()).isEqualTo("completed UPGRADED");
        // Exactly one SSLRequest (sequence 1, 32 bytes), then nothing in plaintext.
        byte[] sent = run.written().get(0);
        assertThat(sent).hasSize(36);
        assertThat(HexFormat.of().formatHex(sent, 0, 4)).isEqualTo("20000001");
        // MariaDB clears CLIENT_MYSQL (bit 0): our flags follow the server's, CLIENT_SSL and PROTOCOL_41 set.
        assertThat(HexFormat.of().formatHex(sent, 4, 13)).isEqualTo("00aa0800" + "00000001" + "2d");
        assertThat(sent).endsWith(new byte[23]);
        assertThat(run.written().get(1)).isEmpty();
        Result r = ((Step.Completed) run.last()).result();
        assertThat(r.protocol()).isEqualTo(Protocol.MYSQL);
        assertThat(r.ending()).isEqualTo(Result.Ending.UPGRADED);
        assertThat(r.tlsActive()).isTrue();
        assertThat(r.greeting()).isEqualTo("5.5.5-10.11.18-MariaDB-0+deb12u1");
        assertThat(r.before().entries())
                .contains(
                        "CLIENT_SSL",
                        "CLIENT_PROTOCOL_41",
                        "CLIENT_SECURE_CONNECTION",
                        "CLIENT_PLUGIN_AUTH",
                        "MARIADB_CLIENT_PROGRESS",
                        "auth-plugin-data " + Wire.MARIADB_SCRAMBLE_HEX,
                        "auth-plugin mysql_native_password",
                        "connection-id 3")
                .doesNotContain("CLIENT_LONG_PASSWORD");
        assertThat(r.after()).isEqualTo(Capabilities.NONE);
        assertThat(MysqlGreeting.authPluginData(r.before()))
                .hasValueSatisfying(s -> assertThat(HexFormat.of().formatHex(s)).isEqualTo(Wire.MARIADB_SCRAMBLE_HEX));
        assertThat(MysqlGreeting.authPluginName(r.before())).contains("mysql_native_password");
        assertThat(mariaDbCaps & MysqlFlags.CLIENT_SSL).isNotZero();
    }

    @Test
    void sslRequestMatchesTheProtocolsReferenceLayout() {
        Replay.Run run = replay(client(SecurityLevel.VERIFY), upgrade(Wire.greeting(SERVER_TLS, "8.0.36"), NOTHING));
        // protocols.md §11.1 example (LONG_PASSWORD|PROTOCOL_41|SSL|SECURE_CONNECTION|PLUGIN_AUTH) plus
        // TRANSACTIONS (0x2000), charset utf8mb4_general_ci (45) instead of 33.
        assertThat(HexFormat.of().formatHex(run.written().get(0)))
                .isEqualTo("20000001" + "01aa0800" + "00000001" + "2d" + "00".repeat(23));
    }

    @Test
    void levelNoneSendsNothingAndReportsTheGreeting() {
        Replay.Run run = replay(
                client(SecurityLevel.NONE),
                Wire.transcript("none", List.of(), segment(Wire.MARIADB_WITH_TLS, NOTHING)));
        assertThat(run.outcome()).isEqualTo("completed PLAINTEXT");
        assertThat(run.written().get(0)).isEmpty();
        Result r = ((Step.Completed) run.last()).result();
        assertThat(r.tlsActive()).isFalse();
        assertThat(r.before().has("CLIENT_SSL")).isTrue();
    }

    @Test
    void mayFallsBackWhenTheServerHasNoTls() {
        Replay.Run run = replay(
                client(SecurityLevel.MAY),
                Wire.transcript("no-tls", List.of(), segment(Wire.MARIADB_WITHOUT_TLS, NOTHING)));
        assertThat(run.outcome()).isEqualTo("unavailable STARTTLS_NOT_OFFERED");
        assertThat(run.written().get(0))
                .as("no SSLRequest to a server without CLIENT_SSL")
                .isEmpty();
        var u = (Step.UpgradeUnavailable) run.last();
        assertThat(u.reason().blame()).isEqualTo(Blame.PEER);
        assertThat(u.plaintext().ending()).isEqualTo(Result.Ending.PLAINTEXT);
        assertThat(u.plaintext().before().has("CLIENT_SSL")).isFalse();
        assertThat(u.plaintext().before().has("CLIENT_PROTOCOL_41")).isTrue();
    }

    /** security.md §5 D (stripped offer): a required level closes without sending anything. */
    @ParameterizedTest
    @EnumSource(
            value = SecurityLevel.class,
            names = {"ENCRYPT", "VERIFY"})
    void requiredLevelFailsClosedWhenTheOfferIsStripped(SecurityLevel level) {
        Replay.Run run = replay(
                client(level), Wire.transcript("stripped", List.of(), segment(Wire.MARIADB_WITHOUT_TLS, NOTHING)));
        assertThat(run.outcome()).isEqualTo("failed STARTTLS_NOT_OFFERED");
        assertThat(run.written().get(0)).isEmpty();
        Step.Failed f = (Step.Failed) run.last();
        assertThat(f.failure().blame()).isEqualTo(Blame.POLICY);
        assertThat(f.failure().detail()).contains("CLIENT_SSL", level.name());
        // For reports: what the server said in plaintext.
        assertThat(f.observed())
                .hasValueSatisfying(r -> assertThat(r.greeting()).contains("MariaDB"));
    }

    @Test
    void preProtocol41ServerCannotTakeAnSslRequest() {
        long caps = MysqlFlags.CLIENT_SSL | MysqlFlags.CLIENT_LONG_PASSWORD | MysqlFlags.CLIENT_SECURE_CONNECTION;
        Replay.Run may = replay(
                client(SecurityLevel.MAY),
                Wire.transcript("pre41", List.of(), segment(Wire.greeting(caps, "4.0.27"), NOTHING)));
        assertThat(may.outcome()).isEqualTo("unavailable STARTTLS_NOT_OFFERED");
        assertThat(may.written().get(0)).isEmpty();
        Replay.Run required = replay(
                client(SecurityLevel.ENCRYPT),
                Wire.transcript("pre41", List.of(), segment(Wire.greeting(caps, "4.0.27"), NOTHING)));
        assertThat(required.outcome()).isEqualTo("failed STARTTLS_NOT_OFFERED");
    }

    /** security.md §5 E.47 class: bytes after the greeting in the same read are never read as TLS. */
    @Test
    void bytesAfterTheGreetingAreResponseInjection() {
        byte[] injected = Wire.concat(Wire.MARIADB_WITH_TLS, HexFormat.of().parseHex("0700000200000002000000"));
        Replay.Run run = replay(client(SecurityLevel.MAY), upgrade(injected, NOTHING));
        assertThat(run.outcome()).isEqualTo("failed BYTES_AFTER_UPGRADE_REPLY");
        Failure f = ((Step.Failed) run.last()).failure();
        assertThat(f.blame()).isEqualTo(Blame.PEER);
        assertThat(f.detail()).contains("11 plaintext byte(s)");
    }

    @Test
    void bytesAfterAGreetingWithoutTlsAreAProtocolViolation() {
        byte[] extra = Wire.concat(Wire.MARIADB_WITHOUT_TLS, new byte[] {1, 0, 0, 1, 0});
        Transcript t = Wire.transcript("extra", List.of(), segment(extra, NOTHING));
        Replay.Run run = Replay.client(client(SecurityLevel.MAY), t, Integer.MAX_VALUE);
        assertThat(run.outcome()).isEqualTo("failed PROTOCOL_VIOLATION");
    }

    @Test
    void errInsteadOfGreetingIsServiceUnavailable() {
        byte[] err = Wire.packet(
                0,
                Wire.concat(
                        new byte[] {(byte) 0xff, 0x6a, 0x04},
                        "Host '127.0.0.2' is not allowed to connect to this MariaDB server".getBytes()));
        Replay.Run run = replay(client(SecurityLevel.MAY), Wire.transcript("err", List.of(), segment(err, NOTHING)));
        assertThat(run.outcome()).isEqualTo("failed SERVICE_UNAVAILABLE");
        Failure f = ((Step.Failed) run.last()).failure();
        assertThat(f.detail()).contains("ERROR 1130", "is not allowed to connect");
        assertThat(f.temporary()).isFalse();
    }

    @Test
    void tooManyConnectionsIsTemporary() {
        byte[] err = Wire.packet(
                0, Wire.concat(new byte[] {(byte) 0xff, 0x10, 0x04, '#'}, "08004Too many connections".getBytes()));
        Replay.Run run = replay(client(SecurityLevel.VERIFY), Wire.transcript("err", List.of(), segment(err, NOTHING)));
        Failure f = ((Step.Failed) run.last()).failure();
        assertThat(f.kind()).isEqualTo(FailureKind.SERVICE_UNAVAILABLE);
        assertThat(f.detail()).contains("ERROR 1040 (08004): Too many connections");
        assertThat(f.temporary()).isTrue();
    }

    @Test
    void hugeAnnouncedGreetingIsRefusedBeforeItIsBuffered() {
        // 0xFFFFFF announced: the client fails on the header alone.
        Replay.Run run = replay(
                client(SecurityLevel.MAY),
                Wire.transcript(
                        "huge", List.of(), segment(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0}, NOTHING)));
        assertThat(run.outcome()).isEqualTo("failed LIMIT_EXCEEDED");
        assertThat(run.written().get(0)).isEmpty();
    }

    @Test
    void smallerBufferLimitBoundsTheGreeting() {
        Limits small = new Limits(64, 8, 80, 0, 5);
        Supplier<Negotiation> c =
                () -> new MysqlClient(ClientOptions.of(SecurityLevel.MAY).withLimits(small));
        Replay.Run run = replay(c, Wire.transcript("limit", List.of(), segment(Wire.MARIADB_WITH_TLS, NOTHING)));
        assertThat(run.outcome()).isEqualTo("failed LIMIT_EXCEEDED");
        // Fed in small pieces, the header alone is refused: 100 bytes announced, 76 allowed.
        Replay.Run split =
                Replay.client(c, Wire.transcript("limit", List.of(), segment(Wire.MARIADB_WITH_TLS, NOTHING)), 4);
        assertThat(((Step.Failed) split.last()).failure().detail()).contains("100-byte greeting", "limit 76");
    }

    @Test
    void eofInTheMiddleOfTheGreeting() {
        byte[] half = java.util.Arrays.copyOf(Wire.MARIADB_WITH_TLS, 40);
        Replay.Run run = replay(client(SecurityLevel.MAY), Wire.transcript("eof", List.of(), segment(half, NOTHING)));
        assertThat(run.outcome()).isEqualTo("failed UNEXPECTED_EOF");
    }

    @Test
    void greetingWithWrongSequenceId() {
        byte[] wrong = Wire.MARIADB_WITH_TLS.clone();
        wrong[3] = 1;
        Replay.Run run = replay(client(SecurityLevel.MAY), Wire.transcript("seq", List.of(), segment(wrong, NOTHING)));
        assertThat(run.outcome()).isEqualTo("failed PROTOCOL_VIOLATION");
    }

    @Test
    void protocolVersion9IsMalformed() {
        byte[] v9 = Wire.MARIADB_WITH_TLS.clone();
        v9[4] = 9;
        Replay.Run run = replay(client(SecurityLevel.MAY), Wire.transcript("v9", List.of(), segment(v9, NOTHING)));
        assertThat(run.outcome()).isEqualTo("failed MALFORMED");
        assertThat(((Step.Failed) run.last()).failure().detail()).contains("protocol version 9");
    }

    @Test
    void truncatedGreetingIsMalformed() {
        byte[] payload = java.util.Arrays.copyOfRange(Wire.MARIADB_WITH_TLS, 4, 30);
        Replay.Run run = replay(
                client(SecurityLevel.MAY),
                Wire.transcript("short", List.of(), segment(Wire.packet(0, payload), NOTHING)));
        assertThat(run.outcome()).isEqualTo("failed MALFORMED");
    }

    @Test
    void implicitTlsIsACallerBug() {
        assertThatThrownBy(() ->
                        new MysqlClient(ClientOptions.of(SecurityLevel.VERIFY).withImplicitTls(true)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no implicit-TLS");
    }

    @Test
    void greetingRoundTripsThroughEncodeAndParse() {
        MysqlGreeting g = Wire.greetingRecord(SERVER_TLS | (1L << 32), "8.0.36-optls");
        // Bit 0 set (CLIENT_MYSQL): the extended capabilities are not carried.
        assertThat(MysqlGreeting.parse(g.encode()).capabilities()).isEqualTo(SERVER_TLS);
        MysqlGreeting mariaDb = Wire.greetingRecord(
                (SERVER_TLS & ~MysqlFlags.CLIENT_LONG_PASSWORD) | (1L << 32), "5.5.5-10.11.18-MariaDB");
        assertThat(MysqlGreeting.parse(mariaDb.encode())).isEqualTo(mariaDb);
        assertThat(MysqlGreeting.parse(java.util.Arrays.copyOfRange(
                                Wire.MARIADB_WITHOUT_TLS, 4, Wire.MARIADB_WITHOUT_TLS.length))
                        .encode())
                .isEqualTo(java.util.Arrays.copyOfRange(Wire.MARIADB_WITHOUT_TLS, 4, Wire.MARIADB_WITHOUT_TLS.length));
    }
}
