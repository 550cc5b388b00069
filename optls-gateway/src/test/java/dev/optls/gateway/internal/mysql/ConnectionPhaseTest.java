package dev.optls.gateway.internal.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The connection-phase rewriting, on transcripts replayed whole and split at every byte. */
class ConnectionPhaseTest {
    /** CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH. */
    private static final long CLIENT_FLAGS = 0x00088A01L;

    private static final long CLIENT_SSL = 0x0800L;

    /** One packet in a transcript: who sent it, as sent, and as the other side must get it. */
    private record Line(boolean fromClient, byte[] sent, byte[] relayed) {}

    private static byte[] packet(int sequence, byte[] payload) {
        byte[] p = new byte[4 + payload.length];
        p[0] = (byte) payload.length;
        p[1] = (byte) (payload.length >> 8);
        p[2] = (byte) (payload.length >> 16);
        p[3] = (byte) sequence;
        System.arraycopy(payload, 0, p, 4, payload.length);
        return p;
    }

    /** A HandshakeResponse41 for user "app" with a 20-byte auth response and the plugin name. */
    private static byte[] handshakeResponse(long flags) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int k = 0; k < 4; k++) {
            out.write((int) (flags >> (8 * k)));
        }
        out.writeBytes(new byte[] {0, 0, 0, 1, 45});
        out.writeBytes(new byte[23]);
        out.writeBytes("app\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.write(20);
        out.writeBytes("0123456789abcdefghij".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.writeBytes("mysql_native_password\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static byte[] hex(String h) {
        return HexFormat.of().parseHex(h);
    }

    /** Login with an auth switch (0xFE), more data (0x01), the OK, then a query and its first reply packet. */
    private static List<Line> loginWithAuthSwitch() {
        byte[] authSwitch = hex("fe" + "6d7973716c5f6e61746976655f70617373776f726400"
                + "3132333435363738393031323334353637383930" + "00");
        byte[] authData = "abcdefghijabcdefghij".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] more = hex("0103");
        byte[] ok = hex("000000020000");
        byte[] query = hex("0353454c4543542031");
        byte[] columnCount = hex("01");
        return List.of(
                new Line(
                        true,
                        packet(2, handshakeResponse(CLIENT_FLAGS)),
                        packet(1, handshakeResponse(CLIENT_FLAGS & ~CLIENT_SSL))),
                new Line(false, packet(2, authSwitch), packet(3, authSwitch)),
                new Line(true, packet(4, authData), packet(3, authData)),
                new Line(false, packet(4, more), packet(5, more)),
                new Line(false, packet(5, ok), packet(6, ok)),
                // Command phase: sequence ids restart at 0 for each command, nothing is touched.
                new Line(true, packet(0, query), packet(0, query)),
                new Line(false, packet(1, columnCount), packet(1, columnCount)));
    }

    /**
     * Feeds each line, split at {@code split} (a line shorter than that goes whole), through a fresh phase.
     * Returns the bytes each side received, or the failure.
     */
    private static Object run(List<Line> lines, int split) {
        ConnectionPhase phase = new ConnectionPhase();
        List<byte[]> out = new ArrayList<>();
        for (Line line : lines) {
            byte[] bytes = line.sent().clone();
            int cut = Math.min(split, bytes.length);
            for (int[] part : new int[][] {{0, cut}, {cut, bytes.length}}) {
                if (phase.done()) {
                    continue; // the relay passes bytes on without asking the phase
                }
                Optional<Failure> f = line.fromClient()
                        ? phase.fromClient(ConnectionPhase.Bytes.of(bytes, part[0], part[1]))
                        : phase.fromBackend(ConnectionPhase.Bytes.of(bytes, part[0], part[1]));
                if (f.isPresent()) {
                    return f.get();
                }
            }
            out.add(bytes);
        }
        return out;
    }

    @Test
    void loginRenumberedAndClientSslClearedThenCommandsUntouchedAtEverySplit() {
        List<Line> lines = loginWithAuthSwitch();
        int longest = lines.stream().mapToInt(l -> l.sent().length).max().orElseThrow();
        for (int split = 0; split <= longest; split++) {
            Object result = run(lines, split);
            assertThat(result).as("split at %d", split).isInstanceOf(List.class);
            @SuppressWarnings("unchecked")
            List<byte[]> out = (List<byte[]>) result;
            for (int i = 0; i < lines.size(); i++) {
                assertThat(out.get(i))
                        .as("split %d, line %d", split, i)
                        .isEqualTo(lines.get(i).relayed());
            }
        }
    }

    @Test
    void wholeTranscriptInOneBufferPerSide() {
        ConnectionPhase phase = new ConnectionPhase();
        byte[] response = packet(2, handshakeResponse(CLIENT_FLAGS));
        assertThat(phase.fromClient(ConnectionPhase.Bytes.of(response, 0, response.length)))
                .isEmpty();
        assertThat(response[3]).isEqualTo((byte) 1);
        assertThat(response[5] & 0x08).as("CLIENT_SSL cleared").isZero();
        assertThat(response[5] & 0x02).as("CLIENT_PROTOCOL_41 kept").isEqualTo(2);
        assertThat(phase.done()).isFalse();
        // ERR 1045 ends the phase as OK does; the rest of the buffer is not looked at.
        byte[] err = packet(2, hex("ff1504233238303030416363657373"));
        byte[] trailing = hex("0500000001ffffffff");
        byte[] both = new byte[err.length + trailing.length];
        System.arraycopy(err, 0, both, 0, err.length);
        System.arraycopy(trailing, 0, both, err.length, trailing.length);
        assertThat(phase.fromBackend(ConnectionPhase.Bytes.of(both, 0, both.length)))
                .isEmpty();
        assertThat(phase.done()).isTrue();
        assertThat(both[3]).isEqualTo((byte) 3);
        assertThat(Arrays.copyOfRange(both, err.length, both.length)).isEqualTo(trailing);
    }

    private static Failure failureOf(List<Line> lines) {
        for (int split = 0; split <= 40; split++) {
            Object r = run(lines, split);
            assertThat(r).as("split %d", split).isInstanceOf(Failure.class);
        }
        return (Failure) run(lines, 1);
    }

    @Test
    void responseWithTheWrongSequenceIdIsRefused() {
        byte[] p = packet(1, handshakeResponse(CLIENT_FLAGS));
        Failure f = failureOf(List.of(new Line(true, p, p)));
        assertThat(f.kind()).isEqualTo(FailureKind.PROTOCOL_VIOLATION);
        assertThat(f.detail()).contains("sequence id 1, expected 2");
    }

    @Test
    void commandBeforeTheLoginIsAnsweredIsRefused() {
        List<Line> lines = new ArrayList<>(loginWithAuthSwitch().subList(0, 1));
        byte[] query = packet(0, hex("0353454c4543542031"));
        lines.add(new Line(true, query, query));
        Failure f = failureOf(lines);
        assertThat(f.detail()).contains("sequence id 0, expected 3", "before the login was answered");
    }

    @Test
    void secondSslRequestInsideTlsIsRefused() {
        byte[] sslRequest = packet(2, Arrays.copyOf(handshakeResponse(CLIENT_FLAGS), 32));
        Failure f = failureOf(List.of(new Line(true, sslRequest, sslRequest)));
        assertThat(f.kind()).isEqualTo(FailureKind.PROTOCOL_VIOLATION);
        assertThat(f.detail()).contains("second SSLRequest inside TLS");
    }

    @Test
    void shortOrPre41ResponsesAreMalformed() {
        byte[] shortOne = packet(2, new byte[10]);
        assertThat(failureOf(List.of(new Line(true, shortOne, shortOne))).detail())
                .contains("fewer than 32");
        byte[] old = packet(2, handshakeResponse(CLIENT_FLAGS & ~0x0200L));
        Failure f = failureOf(List.of(new Line(true, old, old)));
        assertThat(f.kind()).isEqualTo(FailureKind.MALFORMED);
        assertThat(f.detail()).contains("CLIENT_PROTOCOL_41");
    }

    @Test
    void backendSpeakingBeforeTheClientIsRefused() {
        byte[] ok = packet(1, hex("000000020000"));
        Failure f = failureOf(List.of(new Line(false, ok, ok)));
        assertThat(f.detail()).contains("before the client's HandshakeResponse41");
    }

    @Test
    void continuedPacketsAndEndlessPhasesAreBounded() {
        byte[] huge = hex("ffffff02");
        Failure f = failureOf(List.of(new Line(true, huge, huge)));
        assertThat(f.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
        assertThat(f.detail()).contains("16 MiB");

        List<Line> endless = new ArrayList<>();
        endless.add(loginWithAuthSwitch().get(0));
        for (int i = 0; i < ConnectionPhase.MAX_PACKETS; i++) {
            // AuthMoreData back and forth, each side numbering its own way (client ids one higher).
            boolean fromClient = i % 2 == 1;
            byte[] more = packet((2 + i + (fromClient ? 1 : 0)) & 0xff, hex("0101"));
            endless.add(new Line(fromClient, more, more));
        }
        Failure g = failureOf(endless);
        assertThat(g.kind()).isEqualTo(FailureKind.LIMIT_EXCEEDED);
        assertThat(g.detail()).contains("more than " + ConnectionPhase.MAX_PACKETS + " packets");
    }
}
