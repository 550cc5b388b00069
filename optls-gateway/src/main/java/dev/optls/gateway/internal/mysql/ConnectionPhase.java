package dev.optls.gateway.internal.mysql;

import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Phase;
import java.util.Optional;

/**
 * The MySQL connection phase between a client that upgraded to TLS at the gateway and a plaintext backend
 * (protocols.md §11; MySQL client/server protocol documentation, "Connection Phase" and "MySQL Packets"),
 * rewritten in place as the bytes stream through. Sans-IO: bytes in, the same bytes changed, a {@link
 * Failure} when the peers do not follow the protocol.
 *
 * <p>The client numbered its packets after an SSLRequest that the backend never saw: greeting 0, SSLRequest
 * 1, HandshakeResponse41 2. The backend expects the HandshakeResponse41 as 1. So until the connection phase
 * ends, every client packet goes to the backend with its sequence id one lower and every backend packet to
 * the client one higher; the first client packet also loses {@code CLIENT_SSL} (bit 11) from its capability
 * flags, since the backend has no TLS (MariaDB would start a TLS accept on it, sql_acl.cc
 * parse_client_handshake_packet). The phase ends with the backend's OK ({@code 0x00}) or ERR ({@code 0xFF})
 * packet (Protocol::AuthSwitchRequest {@code 0xFE} and AuthMoreData {@code 0x01} continue it); the command
 * phase that follows restarts the sequence ids at 0 for every command, so nothing is rewritten any more.
 *
 * <p>Bounded: no byte is buffered (only the 4-byte header of the packet under way is remembered), at most
 * {@value #MAX_PACKETS} packets make a connection phase, and a packet continued in the next one (length
 * {@code 0xFFFFFF}) is refused: no authentication exchange needs 16 MiB.
 */
public final class ConnectionPhase {
    /** The most packets one connection phase may take, both directions together. */
    public static final int MAX_PACKETS = 64;

    private static final int HEADER = 4;
    private static final int MULTI_PACKET = 0xffffff;
    /** Capability flags byte 1 (bits 8 to 15): CLIENT_PROTOCOL_41 is bit 9, CLIENT_SSL bit 11. */
    private static final int PROTOCOL_41_IN_BYTE_1 = 0x02;

    private static final int SSL_IN_BYTE_1 = 0x08;
    /** Protocol::HandshakeResponse41 starts with 32 fixed bytes; an SSLRequest is exactly those. */
    private static final int FIXED_RESPONSE_BYTES = 32;

    private static final int OK = 0x00;
    private static final int ERR = 0xff;

    /** A view of bytes to read and change in place. */
    public interface Bytes {
        /** How many bytes. */
        int size();

        /** The byte at {@code index}, 0 to 255. */
        int get(int index);

        /** Replaces the byte at {@code index}. */
        void set(int index, int value);

        /** A view of {@code array[from..to)}. */
        static Bytes of(byte[] array, int from, int to) {
            return new Bytes() {
                @Override
                public int size() {
                    return to - from;
                }

                @Override
                public int get(int index) {
                    return array[from + index] & 0xff;
                }

                @Override
                public void set(int index, int value) {
                    array[from + index] = (byte) value;
                }
            };
        }
    }

    /** Where one direction's byte stream is: in a header, or in a payload with some bytes left. */
    private static final class Stream {
        private final int[] header = new int[HEADER];
        private int headerRead;
        private int payloadRead;
        private int payloadLength;
        private int packets;

        boolean inHeader() {
            return headerRead < HEADER;
        }

        int length() {
            return header[0] | header[1] << 8 | header[2] << 16;
        }
    }

    private final Stream client = new Stream();
    private final Stream backend = new Stream();
    /** The sequence id the backend sees on the next packet of the phase (the client's is one higher). */
    private int next = 1;

    private Optional<Failure> failure = Optional.empty();
    private boolean done;

    /** Whether the connection phase is over (the backend's OK or ERR went through): bytes pass unchanged. */
    public boolean done() {
        return done;
    }

    /** The failure that stopped the phase, if one did; the connection must be closed. */
    public Optional<Failure> failure() {
        return failure;
    }

    /**
     * Rewrites bytes the client sent (decrypted) before they go to the backend.
     *
     * @return the failure if they break the protocol: nothing of them may be sent on, close both sides
     */
    public Optional<Failure> fromClient(Bytes bytes) {
        return scan(bytes, true);
    }

    /**
     * Rewrites bytes the backend sent before they go to the client.
     *
     * @return the failure if they break the protocol: nothing of them may be sent on, close both sides
     */
    public Optional<Failure> fromBackend(Bytes bytes) {
        return scan(bytes, false);
    }

    private Optional<Failure> scan(Bytes bytes, boolean fromClient) {
        Stream s = fromClient ? client : backend;
        for (int i = 0; i < bytes.size() && !done && failure.isEmpty(); i++) {
            int b = bytes.get(i);
            if (s.inHeader()) {
                s.header[s.headerRead++] = b;
                if (!s.inHeader()) {
                    headerComplete(bytes, i, s, fromClient);
                }
            } else {
                payloadByte(bytes, i, b, s, fromClient);
            }
        }
        return failure;
    }

    /** The 4th header byte (the sequence id) is at {@code bytes[i]}. */
    private void headerComplete(Bytes bytes, int i, Stream s, boolean fromClient) {
        int length = s.length();
        int sequence = s.header[3];
        String who = fromClient ? "the client" : "the backend";
        int expected = fromClient ? (next + 1) & 0xff : next;
        if (!fromClient && client.packets == 0) {
            fail(
                    FailureKind.PROTOCOL_VIOLATION,
                    "the backend sent a packet after its greeting before the client's HandshakeResponse41");
            return;
        }
        if (sequence != expected) {
            fail(
                    FailureKind.PROTOCOL_VIOLATION,
                    who + "'s packet has sequence id " + sequence + ", expected " + expected
                            + " during the connection phase (packets out of order"
                            + (fromClient ? ", or a command sent before the login was answered)" : ")"));
            return;
        }
        if (length == MULTI_PACKET) {
            fail(
                    FailureKind.LIMIT_EXCEEDED,
                    who + " sent a 16 MiB packet continued in the next one during the connection phase");
            return;
        }
        if (++s.packets + (fromClient ? backend : client).packets > MAX_PACKETS) {
            fail(
                    FailureKind.LIMIT_EXCEEDED,
                    "the connection phase took more than " + MAX_PACKETS + " packets without the backend's OK or ERR");
            return;
        }
        if (fromClient && s.packets == 1 && length < FIXED_RESPONSE_BYTES) {
            fail(
                    FailureKind.MALFORMED,
                    "the client's HandshakeResponse41 after TLS has " + length + " bytes, fewer than 32");
            return;
        }
        // The backend never saw the SSLRequest: one lower towards it, one higher back to the client.
        bytes.set(i, fromClient ? next : (next + 1) & 0xff);
        next = (next + 1) & 0xff;
        s.payloadLength = length;
        s.payloadRead = 0;
        if (length == 0) {
            s.headerRead = 0;
        }
    }

    private void payloadByte(Bytes bytes, int i, int b, Stream s, boolean fromClient) {
        int at = s.payloadRead++;
        if (fromClient && s.packets == 1 && at == 1) {
            if ((b & PROTOCOL_41_IN_BYTE_1) == 0) {
                fail(
                        FailureKind.MALFORMED,
                        "the client's HandshakeResponse has no CLIENT_PROTOCOL_41 (pre-4.1 protocol), which the "
                                + "gateway does not relay");
                return;
            }
            if (s.payloadLength == FIXED_RESPONSE_BYTES && (b & SSL_IN_BYTE_1) != 0) {
                fail(FailureKind.PROTOCOL_VIOLATION, "the client sent a second SSLRequest inside TLS");
                return;
            }
            // Protocol::HandshakeResponse41 capability flags: CLIENT_SSL off, the backend has no TLS.
            bytes.set(i, b & ~SSL_IN_BYTE_1);
        }
        if (!fromClient && at == 0 && (b == OK || b == ERR)) {
            // OK_Packet or ERR_Packet: the connection phase is over (the rest of the packet passes as is).
            done = true;
        }
        if (s.payloadRead == s.payloadLength) {
            s.headerRead = 0;
        }
    }

    private void fail(FailureKind kind, String detail) {
        failure = Optional.of(Failure.peer(kind, Phase.SESSION, detail));
    }
}
